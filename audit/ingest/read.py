"""Read an incoming CSV or spreadsheet into DuckDB as text cells, in file order, with each row's
number in the file as a person counts it (`__row`), so that errors can name it.

    bytes --decode--> UTF-8 text --read_csv (no header)--> cells c1..cN --layout--> header + data rows

Every cell stays text here so that typing (`cast`) can say exactly which cell failed.
What had to be fixed to read the file is returned as Normalisations. The header and data rows
are a view over the cells, not a copy: at a million rows a copy costs more than the read.

A plain export (its header on the first line, one row a line, no blank lines, no rows of notes or
totals below it) is not copied at all: its rows are a view over the file itself, so that typing
reads and types the file in one pass (`RawTable.direct`). Whether it was plain is known for sure
only once it is typed; when it was not, the caller reads it again the usual way.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import duckdb

from audit.dataset import Dataset
from audit.errors import InputError
from audit.files import file_identity, file_sha256
from audit.findings import ERROR, FORMULA_NO_VALUE, Finding
from audit.ingest.decode import Prepared, prepare_text
from audit.ingest.layout import HEAD_ROWS, choose_header, locate, tail_kind, unique_names
from audit.ingest.normalise import Normalisation
from audit.progress import query_progress
from audit.sql import ident, literal, one_row

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
OLD_EXCEL_SUFFIXES = {".xls"}
ROW_COLUMN = "__row"
FILE_COLUMN = "__file"   # which file a row is from, where rows of several files are read as one table (audit init)
DELIMITERS = ",;\t|"
# What the CSV reader takes for NULL: text no cell holds, so that an empty cell reads as '' and only the padding of a
# short row (fewer cells than the header) is NULL. NUL bytes are refused before reading (audit.ingest.decode).
PADDING = "\0"
MAX_TAIL_LINE = 1 << 16  # how much of the end of a plain export is read to look at its last line


@dataclass
class RawTable:
    header_row: int                                   # the header's row in the file (its last, if two)
    sha256: str                                       # of the file's bytes
    normalisations: list[Normalisation]
    view: str                                         # the data rows (what `read_raw` was asked to make)
    cells: str                                        # the table the view reads
    findings: list[Finding] = field(default_factory=list)   # about cells, found while reading (unsaved formulas)
    # Whether the view's row numbers are the text file's own line numbers, as an editor or GitHub counts them: not
    # when a quoted cell holds a line break (one row, several lines), nor in a workbook.
    rows_are_lines: bool = False
    direct: Direct | None = None                      # the view reads the file itself (see the module's docstring)

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        """Drop the view and the cells it reads (once the typed table is made)."""
        con.execute(f"DROP VIEW IF EXISTS {ident(self.view)}")
        con.execute(f"DROP {'VIEW' if self.direct else 'TABLE'} IF EXISTS {ident(self.cells)}")
        con.execute("DROP TABLE IF EXISTS __blank_lines")


class NotDirect(Exception):
    """A file read directly turned out not to be a plain export: read it again the usual way."""


# What DuckDB raises about the machine rather than the file (a full disk, too little memory, Ctrl-C): said as it is,
# never a reason to read the file again the usual way, which needs more of both. DuckDB's reader raises its CSV
# errors as several other classes, so the file's faults are everything else.
MACHINE_ERRORS = (duckdb.IOException, duckdb.OutOfMemoryException, duckdb.InterruptException)


@dataclass(frozen=True)
class Direct:
    """What was assumed of a file whose rows are a view over it, checked once they are typed (`confirm`)."""

    path: Path
    rows: int                       # its data rows, if each is one line: its lines less the header's
    identity: tuple[int, ...]       # audit.files.file_identity when it was digested

    def confirm(self, con: duckdb.DuckDBPyConnection, typed: str) -> None:
        """Raise NotDirect unless `typed` holds one row per data line (a quoted cell holding a line break makes
        fewer rows than lines: their numbers and the last rows would not be the ones assumed), and the file is the
        one digested (it was read more than once; read again, it is digested again)."""
        (rows,) = one_row(con, f"SELECT count(*) FROM {ident(typed)}")
        if rows != self.rows or file_identity(self.path) != self.identity:
            raise NotDirect()


def read_raw(con: duckdb.DuckDBPyConnection, path: Path, dataset: Dataset | None, table: str,
             start_meanwhile: Callable[[], None] = lambda: None, direct: bool = False) -> RawTable:
    """Load `path` as text cells and make `table` the view of its data rows: a `__row` column, then one
    column per header name, in file order. Call `drop` on the result when done with it. `start_meanwhile` is called once
    the Python part of reading is done (checking the bytes, reading a workbook) and DuckDB's begins, which lets go
    of the GIL: work started then (Great Expectations' import) does not slow the Python part down. With `direct`, a
    file that looks like a plain export is not read here but viewed where it lies (see the module's docstring): the
    caller confirms it (`RawTable.direct`) once it is typed, and on NotDirect reads it again without `direct`."""
    cells = f"{table}__cells"
    suffix = path.suffix.lower()
    blanks: list[int] = []
    unsaved: list[tuple[int, int, str]] = []
    lines_exact = False
    if suffix in EXCEL_SUFFIXES | OLD_EXCEL_SUFFIXES:
        sha256 = file_sha256(path)
        from audit.ingest.spreadsheet import read_workbook

        book = read_workbook(con, path, dataset.resource.get("sheet") if dataset else None, cells)
        notes, unsaved = book.notes, book.unsaved_formulas
        start_meanwhile()
    else:
        with tempfile.TemporaryDirectory(prefix="audit-read-") as work:
            identity = file_identity(path)
            prepared = prepare_text(path, Path(work))
            start_meanwhile()
            if direct and dataset is not None and not dataset.resource.get("reshape"):
                viewed = _direct_view(con, path, prepared, dataset, table, identity)
                if viewed is not None:
                    return viewed
            notes, blanks, sha256 = prepared.notes, prepared.blanks, prepared.sha256
            notes = notes + _read_csv_cells(con, path, prepared.path, cells)
        (records,) = con.execute(f"SELECT count(*) FROM {ident(cells)}").fetchone() or (0,)
        lines_exact = prepared.lines is not None and prepared.lines == records + len(blanks)
    layout = locate(con, cells, dataset, path)
    if suffix not in EXCEL_SUFFIXES | OLD_EXCEL_SUFFIXES:  # a sheet's row simply ends at its last value
        _refuse_short_rows(con, cells, layout, path, blanks)
    # An empty cell is missing, written `,,` or `,"",` (the reader keeps them apart only to find short rows).
    columns = ", ".join(f"nullif({ident(f'c{i + 1}')}, '') AS {ident(name)}" for i, name in enumerate(layout.names))
    row = "rowid + 1"
    if blanks:
        cells, row = _number_past_blanks(con, cells, blanks), "__file_row"
    # A plain filtered scan keeps the table's order (DuckDB preserves insertion order without ORDER BY).
    con.execute(f"CREATE VIEW {ident(table)} AS SELECT {row} AS {ROW_COLUMN}, {columns} "
                f"FROM {ident(cells)} WHERE rowid BETWEEN {layout.first} AND {layout.last}")
    findings = [Finding(FORMULA_NO_VALUE, ERROR, {}, [layout.names[c]], "the formula's saved value", formula,
                        FORMULA_NO_VALUE.say(row=row, column=layout.names[c], formula=formula))
                for row, c, formula in unsaved if layout.first < row <= layout.last + 1 and c < len(layout.names)]
    return RawTable(_file_row(layout.first - 1, blanks), sha256, notes + layout.notes, table, cells, findings,
                    lines_exact)


def _direct_view(con: duckdb.DuckDBPyConnection, path: Path, prepared: Prepared, dataset: Dataset, table: str,
                 identity: tuple[int, ...]) -> RawTable | None:
    """`table` as a view over the file itself, when it looks like a plain export; else None. What can only be
    known by reading every row is checked as the view is read (a short row stops it) or once it is typed
    (`Direct.confirm`: one row a line); anything else found wrong sends the file to the usual reading, which
    says what is wrong with it in its own words."""
    if prepared.path != path or prepared.blanks or prepared.lines is None or prepared.lines < 2:
        return None  # a copy was needed, or blank lines shift the numbers, or the line count is not known
    delimiter, width = _shape(path)
    _refuse_width(path, width)
    dialect = Dialect(delimiter)
    try:
        head = con.execute(f"SELECT * FROM {_cells_sql(path, dialect, width)} LIMIT {HEAD_ROWS}").fetchall()
    except duckdb.Error as exc:  # DuckDB's reader refused it: the usual reading says why
        if isinstance(exc, MACHINE_ERRORS):
            raise
        return None
    if not head or any(not any(v is not None and str(v).strip() for v in row) for row in head):
        return None  # blank rows among the first: the usual reading decides where the header is
    if any(v is not None and ("\n" in v or "\r" in v) for v in head[0]):
        # The view skips the header's line: a header over several lines would leave its end as a data row. (DuckDB's
        # parallel reader refuses such a file anyway, for now; this does not rest on that.)
        return None
    names, used = choose_header([(i, *row) for i, row in enumerate(head)], dataset)
    last = _last_line(path, delimiter)
    if used != [0] or last is None or tail_kind(last, width) is not None:
        return None  # a title above the header, or notes or a total below the table
    names = unique_names(names)
    if ROW_COLUMN in names:
        return None  # the usual reading tells that column from its own row numbers
    cells = f"{table}__cells"
    # No row numbers: DuckDB numbers rows in order (row_number() OVER ()) on one core only, and reads a file and
    # types its cells on every core. The typed rows keep the file's order, so their position is their number.
    # The header's line skipped.
    con.execute(f"CREATE VIEW {ident(cells)} AS SELECT * FROM {_cells_sql(path, dialect, width, skip=1)}")
    named = ", ".join(f"nullif({ident(f'c{i + 1}')}, '') AS {ident(name)}" for i, name in enumerate(names))
    # A short row (fewer cells than the header, padded with NULL) stops the read, and the usual reading names it.
    con.execute(f"CREATE VIEW {ident(table)} AS SELECT {named} FROM {ident(cells)} "
                f"WHERE {ident(f'c{width}')} IS NOT NULL OR error('audit: a short row')")
    return RawTable(1, prepared.sha256, prepared.notes, table, cells, rows_are_lines=True,
                    direct=Direct(path, prepared.lines - 1, identity))


def _last_line(path: Path, delimiter: str) -> list[str] | None:
    """The cells of the file's last line that is not empty, read by Python's csv from the end of the file; None
    when it cannot be read so, and the file is then read the usual way. Its line breaks are the lines': a quoted
    cell holding one makes fewer rows than lines, which `Direct.confirm` finds."""
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - 2 * MAX_TAIL_LINE))
        end = handle.read()
    lines = end.rstrip(b"\r\n").rsplit(b"\n", 1)
    if len(lines) < 2 and len(end) == 2 * MAX_TAIL_LINE:
        return None  # a last line longer than this is read the usual way
    try:
        return next(csv.reader(io.StringIO(lines[-1].decode("utf-8-sig").rstrip("\r")), delimiter=delimiter))
    except (UnicodeDecodeError, csv.Error, StopIteration):
        return None


def _refuse_short_rows(con: duckdb.DuckDBPyConnection, cells: str, layout, path: Path, blanks: list[int]) -> None:
    """An InputError naming the first data row with fewer cells than the header: its missing values would be read
    as missing, silently. The reader pads a short row with NULL, and reads an empty cell as '' (PADDING)."""
    width = len(layout.names)
    found = con.execute(f"SELECT rowid, * FROM {ident(cells)} WHERE rowid BETWEEN {layout.first} AND "
                        f"{layout.last} AND {ident(f'c{width}')} IS NULL ORDER BY rowid LIMIT 1").fetchone()
    if found is not None:
        rowid, count = found[0], sum(cell is not None for cell in found[1:width + 1])
        raise InputError(f"the row has {count} cell(s), but the header has {width}: its last {width - count} "
                         "value(s) would be read as missing; give the row every cell (empty ones too)",
                         file=str(path), row=_file_row(rowid, blanks))


def _file_row(rowid: int, blanks: list[int]) -> int:
    """The line of the file record `rowid` is on, counting the blank lines DuckDB skipped before it."""
    line = rowid + 1
    for blank in blanks:
        if blank <= line:
            line += 1
    return line


def _number_past_blanks(con: duckdb.DuckDBPyConnection, cells: str, blanks: list[int]) -> str:
    """A copy of `cells` (same rowids) with each record's file line in `__file_row`; the original is dropped."""
    # Blank line k (1-based, sorted) comes after k - 1 others: records from index blank - k on sit one lower.
    con.execute("CREATE OR REPLACE TEMP TABLE __blank_lines AS SELECT unnest(?) - generate_subscripts(?, 1) AS first",
                [blanks, blanks])
    numbered = f"{cells}__numbered"
    con.execute(f"CREATE TABLE {ident(numbered)} AS SELECT cell.rowid + 1 + (SELECT count(*) FROM __blank_lines b "
                f"WHERE b.first <= cell.rowid) AS __file_row, * FROM {ident(cells)} AS cell ORDER BY cell.rowid")
    con.execute(f"DROP TABLE {ident(cells)}")
    return numbered


@dataclass(frozen=True)
class Dialect:
    delimiter: str
    quote: str = '"'
    escape: str = '"'     # '"': a quote inside a quoted cell is written twice (RFC 4180)


def _shape(path: Path, dialect: Dialect | None = None) -> tuple[str, int]:
    """The delimiter (the one that splits the first lines most consistently) and the table's width: the
    commonest number of cells among them (shorter rows, such as titles, are padded; longer ones are errors)."""
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        sample = [line for _, line in zip(range(200), handle)]
    best, width, best_score = ",", 1, (-1, -1)
    limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)  # a quoted cell may be long (a narrative); the sample is 200 lines at most
    quoting: dict[str, Any] = {"quotechar": dialect.quote if dialect and dialect.quote else '"'}
    if dialect and dialect.escape and dialect.escape != dialect.quote:
        quoting.update(escapechar=dialect.escape, doublequote=False)
    try:
        scored = {d: list(csv.reader(sample, delimiter=d, **quoting))
                  for d in ([dialect.delimiter] if dialect else DELIMITERS)}
    except csv.Error:
        scored = {",": []}
    finally:
        csv.field_size_limit(limit)
    for delimiter, rows in scored.items():
        counts = [len(r) for r in rows if any(c.strip() for c in r)]
        if not counts:
            continue
        common = max(set(counts), key=counts.count)
        score = (counts.count(common) if common > 1 else 0, common)
        if score > best_score:
            best, width, best_score = delimiter, common, score
    return best, width


def _refuse_width(path: Path, width: int) -> None:
    """A table wider than a spreadsheet can hold is refused before it is read: DuckDB would build every column of
    it (100,000 columns ran a minute into running out of memory)."""
    from audit.ingest.spreadsheet import EXCEL_COLUMNS

    if width > EXCEL_COLUMNS:
        raise InputError(f"the rows have {width:,} cells, more than the {EXCEL_COLUMNS:,} columns a spreadsheet can "
                         "hold: not a table this tool reads", file=str(path), row=1)


def _sniffed(con: duckdb.DuckDBPyConnection, readable: Path) -> Dialect | None:
    """The dialect DuckDB's CSV sniffer finds (it tries quote and escape characters, not only '"')."""
    try:
        delimiter, quote, escape = one_row(
            con, "SELECT Delimiter, Quote, Escape FROM sniff_csv(?, sample_size = 20480)", [str(readable)])
    except duckdb.Error:
        return None
    # Only a quoted dialect with its own escape character (a backslash) is a reason to read differently: a
    # sniffer that gives up on quoting would read a file whose quote is never closed as if nothing were wrong.
    if not all(isinstance(c, str) and len(c) == 1 and c != "\0" for c in (delimiter, quote, escape)) or escape == quote:
        return None
    return Dialect(delimiter, quote, escape)


def _read_csv_cells(con: duckdb.DuckDBPyConnection, path: Path, readable: Path, cells: str) -> list[Normalisation]:
    """Read with the usual dialect (RFC 4180 quoting); if that fails, with the dialect DuckDB's sniffer finds
    (a backslash before a quote, as many R and database exports write), saying so; else the first error."""
    delimiter, width = _shape(readable)
    _refuse_width(path, width)
    try:
        _load_cells(con, path, readable, cells, Dialect(delimiter), width)
        return []
    except InputError as error:
        usual = error
    dialect = _sniffed(con, readable)
    if dialect is None or dialect == Dialect(delimiter):
        raise usual
    _, width = _shape(readable, dialect)
    _refuse_width(path, width)
    try:
        _load_cells(con, path, readable, cells, dialect, width)
    except InputError:
        raise usual from None
    return [Normalisation("dialect", f"read as delimiter {dialect.delimiter!r}, quote {dialect.quote!r}, escape "
                                     f"{dialect.escape!r}, as DuckDB's CSV sniffer found (the usual "
                                     f"RFC 4180 quoting did not read: {usual.message})")]


def _cells_sql(readable: Path, dialect: Dialect, width: int, skip: int = 0, parallel: bool = True) -> str:
    """DuckDB's reading of a file's cells as text, c1..c`width`, as both ways of reading use it: into a table
    (`_load_cells`) and in a view over the file (`_direct_view`), which cannot take parameters, hence literals."""
    columns = "{" + ", ".join(f"'c{i + 1}': 'VARCHAR'" for i in range(width)) + "}"
    return (f"read_csv({literal(str(readable))}, header = false, auto_detect = false, skip = {skip}, "
            f"delim = {literal(dialect.delimiter)}, quote = {literal(dialect.quote)}, "
            f"escape = {literal(dialect.escape)}, null_padding = true, strict_mode = true, "
            f"nullstr = {literal(PADDING)}, parallel = {parallel}, columns = {columns})")


def _load_cells(con: duckdb.DuckDBPyConnection, path: Path, readable: Path, cells: str, dialect: Dialect,
                width: int) -> None:
    for parallel in (True, False):
        try:
            with query_progress(con, f"reading {path.name}"):
                con.execute(f"CREATE OR REPLACE TABLE {ident(cells)} AS SELECT * FROM "
                            f"{_cells_sql(readable, dialect, width, parallel=parallel)}")
            return
        except duckdb.Error as exc:
            # DuckDB's parallel reader cannot pad short rows when a cell holds a line break: read serially.
            if not (parallel and "parallel=false" in str(exc)):
                raise _csv_error(exc, path, width) from exc


def _csv_error(exc: duckdb.Error, path: Path, width: int) -> InputError:
    """DuckDB's CSV error as one plain sentence with the row it names."""
    text = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    row = int(line.group(1)) if line else None
    if "unterminated quote" in text:
        reason = "a quoted value is never closed (a \" with no closing \"): the rest of the file would be one cell"
    elif found := re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text):
        reason = f"the row has {found.group(2)} cells, but the rows before it have {found.group(1)}"
    else:
        reason = f"cannot read as CSV: {text.strip().splitlines()[0]}"
    return InputError(reason, file=str(path), row=row)
