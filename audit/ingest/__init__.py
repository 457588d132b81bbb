"""Ingest: one incoming file becomes one typed DuckDB table, or a clear InputError.

`read` puts the file's cells into DuckDB as text, keeping the order of rows so
errors can name the row a person sees; `columns` matches its columns to the
descriptor's fields (and types a column the descriptor does not have); `cast`
types the cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import duckdb

from audit.dataset import Dataset
from audit.errors import InputError
from audit.files import HeldFiles, meanwhile
from audit.findings import Finding
from audit.ingest.cast import cast_to_schema
from audit.ingest.columns import ColumnMatch, as_read, match_columns
from audit.ingest.normalise import Normalisation
from audit.ingest.parquet import is_parquet, load_parquet, parquet_sha256, release_files
from audit.ingest.read import MACHINE_ERRORS, ROW_COLUMN, NotDirect, RawTable, read_raw
from audit.ingest.reshape import check_reshape, reshape_long
from audit.progress import step
from audit.sql import ident, one_row

RELEASE_TABLE = "release"


@dataclass(frozen=True)
class LoadedRelease:
    """A file loaded into the work database as table `release`: the fields of `dataset` (the descriptor's, or
    the release's own where its columns differ: see `columns`)."""

    source: Path
    sha256: str
    row_count: int
    dataset: Dataset
    columns: ColumnMatch = field(default_factory=lambda: ColumnMatch({}))
    table: str = RELEASE_TABLE
    normalisations: tuple[Normalisation, ...] = ()  # what was fixed to read it (recorded, reported)
    findings: tuple[Finding, ...] = ()              # about its cells and columns, found while reading
    parquet: bool = False                           # read from Parquet (so the log keeps its copy as Parquet)
    lines: str | None = None                        # a table of each row's line in the text file, in `table`'s order
    # Its files as first read, while `table` still reads them (a Parquet release read lazily): the command
    # calls `confirm_unchanged` once nothing reads them again (audit.files.HeldFiles).
    held: HeldFiles | None = None

    def confirm_unchanged(self) -> None:
        """Raise InputError if the release's files changed since they were first read (when `table` reads them)."""
        if self.held is not None:
            _confirm(self.held)


def _confirm(held: HeldFiles) -> None:
    why = held.changed()
    if why is not None:
        raise InputError(f"changed while it was read: {why}; nothing was recorded", file=str(held.path))


def release_file_problem(source: Path) -> str | None:
    """Why `source` cannot be read as a release file, said by what it is (None when it can): read as text a folder,
    a FIFO or a device would hang the command or read forever."""
    import stat

    try:
        mode = source.stat().st_mode
    except FileNotFoundError:
        return "no such file" if not source.is_symlink() else "a symbolic link to nothing"
    except OSError as exc:  # a loop of links, a name too long, no permission
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISDIR(mode):
        import os

        if not os.access(source, os.R_OK | os.X_OK):  # its files cannot even be listed: not "none"
            return "is a folder this account cannot read (permission denied)"
        return "is a folder, not a file (a folder of Parquet files is read as one release; this one holds none)"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a pipe, a device or a socket): a release is a file"
    return None


def load_release(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, path: str | Path, table: str = RELEASE_TABLE,
    lazy: bool = False, start_meanwhile: Callable[[], None] = lambda: None, direct: bool = True,
) -> LoadedRelease:
    """Load `path` into `con` as the typed table `table`; raise InputError if it cannot be. With `lazy`, a Parquet
    release is a view over its files rather than a copy in memory. `start_meanwhile` is called once the rest of the
    loading is DuckDB's, which lets go of the GIL (audit.ingest.read.read_raw). A plain CSV export is read and typed
    in one pass (`direct`, audit.ingest.read); without `direct`, every file is first read as text, as any file that
    turns out not to be plain is: the two give the same table (tests/test_direct_read.py)."""
    source = Path(path)
    if is_parquet(source):
        held = HeldFiles.of(source, release_files)  # before the digest: see audit.files.HeldFiles
        start_meanwhile()  # reading Parquet is DuckDB's from the start
        # Typed columns, read where they lie: no text round trip (audit.ingest.parquet). The files' digest is
        # taken meanwhile, in a thread: hashlib lets go of the GIL, and DuckDB's passes over the columns do not
        # keep both cores busy (100M rows: the digest's 3 s ran after reading, alone).
        digest = meanwhile(lambda: parquet_sha256(source), "digest")
        try:
            with step(f"reading {source.name}"):
                read_as, match, fixes = load_parquet(con, dataset, source, table, lazy)
                (rows,) = one_row(con, f"SELECT count(*) FROM {ident(table)}")
        except duckdb.Error as exc:  # files of different shapes in one folder, a file that is no Parquet
            raise InputError(f"cannot be read as one Parquet release: {str(exc).splitlines()[0][:300]}",
                             file=str(source)) from exc
        loaded = LoadedRelease(source=source, sha256=digest(), row_count=rows, dataset=read_as,
                               columns=match, table=table, normalisations=tuple(fixes), findings=tuple(match.findings),
                               parquet=True, held=held)
        if not lazy:  # a table of its own: nothing reads the files again
            loaded.confirm_unchanged()
            loaded = replace(loaded, held=None)
        return loaded
    problem = release_file_problem(source)
    if problem:
        raise InputError(problem, file=str(path))
    check_reshape(dataset)
    held = HeldFiles.of(source)
    loaded = _read_and_typed(con, dataset, source, table, start_meanwhile, direct)
    _confirm(held)  # its rows are in `table`: nothing reads the file again
    return loaded


def _read_and_typed(con: duckdb.DuckDBPyConnection, dataset: Dataset, source: Path, table: str,
                    start_meanwhile: Callable[[], None], direct: bool) -> LoadedRelease:
    read = read_raw(con, source, dataset, table=f"{table}_raw", start_meanwhile=start_meanwhile, direct=direct)
    try:
        return _typed(con, dataset, source, read, table)
    except (NotDirect, InputError, duckdb.Error) as exc:
        if read.direct is None or isinstance(exc, MACHINE_ERRORS):
            raise
        # Not a plain export after all, or not readable as one (DuckDB's reader, or the view's short-row stop): read
        # it the usual way, which says what is wrong.
        con.execute(f"DROP TABLE IF EXISTS {ident(table)}")
    return _typed(con, dataset, source, read_raw(con, source, dataset, table=f"{table}_raw"), table)


def _typed(con: duckdb.DuckDBPyConnection, dataset: Dataset, source: Path, read: RawTable,
           table: str) -> LoadedRelease:
    """The text rows `read` typed as `table`."""
    raw, lines = read.view, None
    wide_to_long: list[Normalisation] = []
    try:
        rows, wide_to_long = reshape_long(con, dataset, raw, source)
        headers = [r[0] for r in con.execute(f"DESCRIBE {ident(rows)}").fetchall() if r[0] != ROW_COLUMN]
        match = match_columns(headers, dataset, source, read.header_row)
        read_as, mapping = as_read(con, rows, dataset, match)
        with step(f"typing {source.name}"):
            cells = cast_to_schema(con, read_as, mapping, raw=rows, typed=table, source=source,
                                   numbered_from=2 if read.direct else None)
        if read.direct is not None:
            read.direct.confirm(con, table)
        lines = f"{table}__lines"
        if read.direct is not None:  # one row a line, after the header: the lines are counted, not read again
            con.execute(f"CREATE OR REPLACE TABLE {ident(lines)} AS SELECT range + 2 AS line "
                        f"FROM range({read.direct.rows})")
        elif read.rows_are_lines:  # read in the same order as the typed rows: row i of one is row i of the other
            con.execute(f"CREATE OR REPLACE TABLE {ident(lines)} AS SELECT {ROW_COLUMN} AS line FROM {ident(rows)}")
        else:
            lines = None
    finally:
        con.execute(f"DROP VIEW IF EXISTS {ident(raw + '__long')}")
        read.drop(con)
    (count,) = one_row(con, f"SELECT count(*) FROM {ident(table)}")
    return LoadedRelease(source=source, sha256=read.sha256, row_count=count, dataset=read_as, columns=match,
                         table=table, normalisations=tuple(read.normalisations + wide_to_long + cells),
                         findings=tuple(read.findings + match.findings), lines=lines)
