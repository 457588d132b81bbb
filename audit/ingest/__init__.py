"""Ingest: one incoming file becomes one typed DuckDB table, or a clear InputError.

`read` puts the file's cells into DuckDB as text, keeping the order of rows so
errors can name the row a person sees; `cast` types them by the descriptor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from audit.dataset import Dataset
from audit.errors import InputError
from audit.findings import Finding
from audit.ingest.cast import cast_to_schema
from audit.ingest.normalise import Normalisation
from audit.ingest.parquet import is_parquet, load_parquet, parquet_sha256
from audit.ingest.read import read_raw
from audit.ingest.reshape import check_reshape, reshape_long
from audit.sql import ident, one_row

RELEASE_TABLE = "release"


@dataclass(frozen=True)
class LoadedRelease:
    """A file loaded into the work database as table `release`."""

    source: Path
    sha256: str
    row_count: int
    table: str = RELEASE_TABLE
    normalisations: tuple[Normalisation, ...] = ()  # what was fixed to read it (recorded, reported)
    findings: tuple[Finding, ...] = ()              # about its columns, found while reading (a renamed column)
    parquet: bool = False                           # read from Parquet (so the log keeps its copy as Parquet)


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
        return "is a folder, not a file (a folder of Parquet files is read as one release; this one holds none)"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a pipe, a device or a socket): a release is a file"
    return None


def load_release(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, path: str | Path, table: str = RELEASE_TABLE,
    lazy: bool = False,
) -> LoadedRelease:
    """Load `path` into `con` as the typed table `table`; raise InputError if it cannot be. With `lazy`, a Parquet
    release is a view over its files rather than a copy in memory."""
    source = Path(path)
    if is_parquet(source):
        # Typed columns, read where they lie: no text round trip (audit.ingest.parquet).
        try:
            findings = load_parquet(con, dataset, source, table, lazy)
            (rows,) = one_row(con, f"SELECT count(*) FROM {ident(table)}")
        except duckdb.Error as exc:  # files of different shapes in one folder, a file that is no Parquet
            raise InputError(f"cannot be read as one Parquet release: {str(exc).splitlines()[0][:300]}",
                             file=str(source)) from exc
        return LoadedRelease(source=source, sha256=parquet_sha256(source), row_count=rows, table=table,
                             findings=tuple(findings), parquet=True)
    problem = release_file_problem(source)
    if problem:
        raise InputError(problem, file=str(path))
    raw = f"{table}_raw"
    read = read_raw(con, source, dataset, table=raw)
    check_reshape(dataset)
    wide_to_long: list[Normalisation] = []
    try:
        rows, wide_to_long = reshape_long(con, dataset, raw, source)
        cells, findings = cast_to_schema(con, dataset, raw=rows, typed=table, source=source, header_row=read.header_row)
    finally:
        con.execute(f"DROP VIEW IF EXISTS {ident(raw + '__long')}")
        read.drop(con)
    (rows,) = one_row(con, f"SELECT count(*) FROM {ident(table)}")
    return LoadedRelease(source=source, sha256=read.sha256, row_count=rows, table=table,
                         normalisations=tuple(read.normalisations + wide_to_long + cells),
                         findings=tuple(read.findings + findings))
