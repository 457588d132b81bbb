"""A release kept as Parquet (a file, or a folder of files as a data lake writes them), read where it lies.

Parquet columns are already typed, so they are not turned into text and back: each field is cast from its
column as DuckDB reads it, and a value that does not fit the field (a fraction in an integer field, text
that is no date) stops ingest naming the file, its row and the column, as for CSV. Text columns go through
the same parsing as a CSV's cells (missing markers, trimming, formats), so a field means the same whichever
way it arrives. Rows keep the files' order (file name, then row in file).
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

import duckdb

from audit.dataset import Dataset
from audit.errors import InputError
from audit.files import file_sha256
from audit.ingest.cast import Steps, _field_sql, _plain_sql, count_normalisations, missing_markers
from audit.ingest.columns import ColumnMatch, as_read, match_columns
from audit.ingest.normalise import Normalisation
from audit.ingest.read import ROW_COLUMN, RawTable
from audit.sql import ident, literal, one_row

SUFFIXES = {".parquet", ".pq"}
FILE, ROW = "__file", "__file_row"


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES or (path.is_dir() and any(release_files(path)))


def release_files(path: Path) -> list[Path]:
    """The release's files: `path` itself, or the Parquet files under the folder `path`, in name order."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES and not p.is_symlink()
                  and not any(_hidden(part) for part in p.relative_to(path).parts))


def _hidden(name: str) -> bool:
    """Whether a file or folder in a release's folder is no part of it, by the convention of Hadoop's file
    listing, which Spark follows when it reads the same folder where it lies (audit.ingest.in_place): a name
    starting with "." or "_" (a job's _SUCCESS, a Delta table's _delta_log/ and its checkpoint Parquet, a
    checksum), unless a "_" name is a partition's (`_k=v`). So both engines read, and digest, the same files."""
    return name.startswith(".") or (name.startswith("_") and "=" not in name) or name.endswith("._COPYING_")


def parquet_sha256(path: Path) -> str:
    """Of a file, its bytes; of a folder, every file's relative path and digest, in order."""
    if path.is_file():
        return file_sha256(path)
    digest = hashlib.sha256()
    for file in release_files(path):
        digest.update(f"{file.relative_to(path).as_posix()}\0{file_sha256(file)}\n".encode())
    return digest.hexdigest()


def read_as_text(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> RawTable:
    """The Parquet at `path` as a CSV's cells are read (audit.ingest.read.read_raw): a view `table` of each row's
    position (ROW_COLUMN, from 1; file by file for a folder) and every column as DuckDB prints its values, for
    `audit init`, which proposes types and rules from text whichever way a release arrives."""
    files = release_files(path)
    if not files:
        raise InputError("no Parquet file in this folder", file=str(path))
    cells = f"{table}__cells"
    listed = ", ".join(literal(str(f)) for f in files)
    try:
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet([{listed}])").fetchall()]
        texts = ", ".join(f"CAST({ident(n)} AS VARCHAR) AS {ident(n)}" for n in names)
        con.execute(f"CREATE TABLE {ident(cells)} AS SELECT {texts} FROM read_parquet([{listed}])")
    except duckdb.Error as exc:
        raise InputError(f"cannot read as Parquet: {str(exc).splitlines()[0]}", file=str(path)) from exc
    # A plain scan keeps the table's order (DuckDB reads a list of files in order and preserves insertion order).
    con.execute(f"CREATE VIEW {ident(table)} AS SELECT rowid + 1 AS {ROW_COLUMN}, * FROM {ident(cells)}")
    return RawTable(header_row=0, sha256=parquet_sha256(path), normalisations=[], view=table, cells=cells)


def load_parquet(con: duckdb.DuckDBPyConnection, dataset: Dataset, path: Path, table: str,
                 lazy: bool = False) -> tuple[Dataset, ColumnMatch, list[Normalisation]]:
    """Create `table` (typed by the dataset's schema) from the Parquet at `path`; the dataset as the release has it
    and how its columns match the descriptor's (audit.ingest.columns).
    With `lazy`, `table` is a view that reads the files each time, so the rows are never all held in memory (Spark
    reads them where they lie; audit.engine.spark)."""
    files = release_files(path)
    if not files:
        raise InputError("no Parquet file in this folder", file=str(path))
    # A data column named like the file-name column is kept (that one is renamed); one named file_row_number makes
    # DuckDB refuse the file, which is said as an input error.
    source = (f"(SELECT * EXCLUDE (file_row_number), file_row_number AS {ROW} FROM read_parquet("
              f"[{', '.join(literal(str(f)) for f in files)}], filename = {literal(FILE)}, file_row_number = true))")
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    except duckdb.Error as exc:
        raise InputError(f"cannot read as Parquet: {str(exc).splitlines()[0]}", file=str(path)) from exc
    types = {name: kind for name, kind, *_ in described if name not in (FILE, ROW)}
    match = match_columns(list(types), dataset, path, header_row=None)  # columns have no row
    if match.added:  # typed from its values when it is text, as a CSV's column would be
        con.execute(f"CREATE OR REPLACE TEMP VIEW {ident(table + '__files')} AS SELECT * FROM {source}")
    dataset, mapping = as_read(con, table + "__files", dataset, match, types)
    con.execute(f"DROP VIEW IF EXISTS {ident(table + '__files')}")
    values, flags, steps = [], [], Steps()
    texts: dict[str, str] = {}  # field -> its column, for the fields read from text (whose fixes are counted)
    plains: dict[str, tuple[str, str]] = {}  # for those that have one: (a cell needs no fix, its value as it is)
    for field in dataset.fields:
        column = mapping[field.name]
        c = ident(column)
        if types[column] == "VARCHAR" or field.type == "string":
            text = column if types[column] == "VARCHAR" else None
            if text is None:  # a typed column read as text: its value as DuckDB prints it
                value, bad = f"CAST({c} AS VARCHAR)", "false"
            else:
                markers = missing_markers(field, dataset.missing_values)
                plain = _plain_sql(field, column, markers)
                # As for a CSV's cells (audit.ingest.cast): a plain cell is read as it is, and only the others go
                # through the clean-up, whose steps are NULL (cheaply) for a plain one. Every text cell of a
                # 10M-row file through the clean-up took 9 s.
                value, bad = _field_sql(field, column, markers, steps.let, plain[0] if plain else None)
                texts[field.name] = column
                if plain:
                    plains[field.name] = plain
                    value = f"CASE WHEN {plain[0]} THEN {plain[1]} ELSE {value} END"
                    bad = f"(NOT coalesce({plain[0]}, false) AND {bad})"
        else:
            value = f"TRY_CAST({c} AS {field.duckdb_type})"
            bad = f"({c} IS NOT NULL AND ({value}) IS NULL)"
            if field.type in ("integer", "year") and types[column] in ("DOUBLE", "FLOAT") or \
                    types[column].startswith("DECIMAL") and field.type in ("integer", "year"):
                bad = f"({bad} OR ({c} IS NOT NULL AND {c} <> round({c})))"  # 1960.5 is no whole number
            if field.type == "date" and types[column].startswith("TIMESTAMP"):  # a time of day is no date
                bad = f"({bad} OR ({c} IS NOT NULL AND CAST({c} AS TIMESTAMP) <> CAST({value} AS TIMESTAMP)))"
        values.append(value)
        flags.append(bad)
    stepped = steps.over_sql(source)
    first = con.execute(f"SELECT {FILE}, {ROW}, {', '.join(flags)} FROM {stepped} WHERE {' OR '.join(flags)} "
                        f"ORDER BY {FILE}, {ROW} LIMIT 1").fetchone()
    if first is not None:
        name, row, *failed = first
        field = dataset.fields[list(failed).index(True)]
        column = mapping[field.name]
        (cell,) = one_row(con, f"SELECT CAST({ident(column)} AS VARCHAR) FROM {source} WHERE {FILE} = ? AND {ROW} = ?",
                          [name, row])
        raise InputError(f"{cell!r} is not a valid {field.type} for field {field.name!r}", file=name, row=row + 1,
                         column=column, value=cell)
    normalisations, not_plain = _count_fixes(con, source, dataset, texts, plains)
    # A field all of whose cells are plain (most, in a clean release) is read as it is: every later read, each
    # check's over a view of the files, then skips the plain-cell tests (10M rows: the row checks' pass 2.45 s with
    # them, 1.20 s without).
    values = [plains[f.name][1] if f.name in plains and f.name not in not_plain else v
              for f, v in zip(dataset.fields, values)]
    typed = ", ".join(f"{v} AS {ident(f.name)}" for f, v in zip(dataset.fields, values))
    if lazy:
        # No ORDER BY: DuckDB reads a list of files in order, each in row order, while it preserves insertion order
        # (its default), and a view sorted again on every read would cost more than the checks.
        con.execute(f"CREATE VIEW {ident(table)} AS SELECT {typed} FROM {stepped}")
    else:
        con.execute(f"CREATE TABLE {ident(table)} AS SELECT {typed} FROM {stepped}")
    return dataset, match, normalisations


def _count_fixes(con: duckdb.DuckDBPyConnection, source: str, dataset: Dataset, texts: dict[str, str],
                 plains: dict[str, tuple[str, str]]) -> tuple[list[Normalisation], set[str]]:
    """The fixes made to the text columns' cells (trimmed, markers read as missing, ...), counted as for a CSV's
    cells: a release says what was done to read it whichever way it arrived; and the fields with a cell that is not
    plain (`plains`: field -> (its cell is plain, ...)). Counted over the rows with a cell that is not plain, which
    are few."""
    if not texts:
        return [], set()
    odd = f"__audit_parquet_odd_{secrets.token_hex(4)}"
    columns = ", ".join(ident(c) for c in dict.fromkeys(texts.values()))
    is_plain = {name: f"coalesce({plains[name][0]}, false)" if name in plains else "false" for name in texts}
    con.execute(f"CREATE TEMP TABLE {ident(odd)} AS SELECT {columns} FROM {source} "
                f"WHERE NOT ({' AND '.join(is_plain.values())})")
    try:
        every = one_row(con, f"SELECT {', '.join(f'bool_and({c})' for c in is_plain.values())} FROM {ident(odd)}")
        not_plain = {name for name, plain in zip(is_plain, every) if plain is False}  # NULL: no odd row at all
        return count_normalisations(con, odd, dataset, texts), not_plain
    finally:
        con.execute(f"DROP TABLE {ident(odd)}")
