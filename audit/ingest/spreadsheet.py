"""Spreadsheets (.xlsx with openpyxl, Excel 97 .xls with xlrd) as text cells c1..cN, as a person sees them:
whole numbers without '.0', dates in ISO form, merged cells filled with their value.

Within bounds: a workbook is refused (exit 2) before it is unpacked when its parts would unpack past
MAX_UNPACKED bytes or compress suspiciously well (a zip bomb), and a sheet whose extent passes MAX_CELLS
(one stray cell at XFD1048576 makes a 5 KB sheet 17 billion cells) is refused before its rows are built.
A formula cell whose workbook holds no saved value (written by a program that does not calculate) is
read as missing and reported as a `formula-no-value` finding, never silently.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from audit.errors import InputError
from audit.ingest.normalise import Normalisation
from audit.sql import ident

MERGE_LIMIT = 20 << 20  # above this size, .xlsx is read streaming (merged cells then stay as Excel stores them)
MAX_CELLS = 50_000_000        # rows x columns of the sheet read; a crime table of 2 million rows x 25 columns fits
MAX_UNPACKED = 2 << 30        # bytes the workbook's parts unpack to
MAX_RATIO = 200               # unpacked / packed beyond this, on a large part, is a zip bomb (XML packs ~10-20x)
LARGE_PART = 64 << 20         # ... and so are large parts together; below this, a workbook is small whatever its ratio
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384  # Excel's own limits: a sheet past them was not written by a spreadsheet


@dataclass
class Workbook:
    notes: list[Normalisation]
    unsaved_formulas: list[tuple[int, int, str]] = field(default_factory=list)  # (sheet row, column index, formula)


def read_workbook(con: duckdb.DuckDBPyConnection, path: Path, sheet: str | None, cells: str) -> Workbook:
    unsaved: list[tuple[int, int, str]] = []
    if path.suffix.lower() == ".xls":
        rows, merges, sheets, name = _xls_rows(path, sheet)
    else:
        _refuse_zip_bomb(path)
        rows, merges, sheets, name = _xlsx_rows(path, sheet)
        unsaved = _unsaved_formulas(path, name, rows)
    notes = []
    if len(sheets) > 1:
        notes.append(Normalisation("sheet", f"the workbook has {len(sheets)} sheets ({', '.join(sheets)}); "
                                   f"sheet {name!r} was read" + ("" if sheet else " (the first; name another "
                                                                   "with `sheet:` in the descriptor's resource)")))
    if merges:
        for top, left, bottom, right in merges:
            value = rows[top][left] if top < len(rows) and left < len(rows[top]) else None
            # The top row keeps its span (a header's, which the layout merges); the rows below take the value.
            for r in range(top + 1, min(bottom + 1, len(rows))):
                for c in range(left, min(right + 1, len(rows[r]))):
                    rows[r][c] = value
        notes.append(Normalisation("merged-cells", f"{len(merges)} merged cell range(s) were read with their value "
                                   "in every cell they cover", count=len(merges)))
    width = max((len(r) for r in rows), default=0)
    if not rows or width == 0:
        raise InputError("the sheet is empty", file=str(path))
    import pandas as pd

    frame = pd.DataFrame([r + [None] * (width - len(r)) for r in rows],
                         columns=[f"c{i + 1}" for i in range(width)], dtype="string")
    con.register("__sheet_rows", frame)
    try:
        con.execute(f"CREATE TABLE {ident(cells)} AS SELECT * FROM __sheet_rows")
    finally:
        con.unregister("__sheet_rows")
    return Workbook(notes, unsaved)


def _refuse_zip_bomb(path: Path) -> None:
    """Refuse, from the archive's directory alone, a workbook that would unpack past MAX_UNPACKED, or whose parts
    pack suspiciously well: one large part, or many parts each below any one-part limit, together more than
    MAX_RATIO times their packed size. The sizes are the archive's own claims; zipfile never unpacks more than
    a part claims (it stops there and fails its CRC), so a lie only truncates."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"cannot read as an Excel workbook: {exc}", file=str(path)) from exc
    unpacked = sum(p.file_size for p in parts)
    packed = max(sum(p.compress_size for p in parts), 1)
    large = [p for p in parts if p.file_size > LARGE_PART]
    bomb = next((p for p in large if p.file_size > MAX_RATIO * max(p.compress_size, 1)), None)
    if bomb:
        what = f"its part {bomb.filename} unpacks {bomb.file_size / max(bomb.compress_size, 1):,.0f} times larger"
    elif unpacked > LARGE_PART and unpacked > MAX_RATIO * packed:
        what = f"its {len(parts)} parts unpack to {unpacked:,} bytes, {unpacked / packed:,.0f} times their packed size"
    elif unpacked > MAX_UNPACKED:
        what = f"its parts unpack to {unpacked:,} bytes"
    else:
        return
    raise InputError(f"the workbook is refused before it is unpacked: {what} (the limits are {MAX_UNPACKED:,} bytes "
                     f"and {MAX_RATIO}x); it is damaged or a zip bomb, not a table", file=str(path))


def _refuse_extent(path: Path, rows: int, columns: int) -> None:
    if rows > EXCEL_ROWS or columns > EXCEL_COLUMNS:
        raise InputError(f"the sheet spans {rows:,} rows x {columns:,} columns, past Excel's limits ({EXCEL_ROWS:,} rows, "
                         f"{EXCEL_COLUMNS:,} columns): no spreadsheet program wrote it as a table", file=str(path))
    if rows * columns > MAX_CELLS:
        raise InputError(f"the sheet spans {rows:,} rows x {columns:,} columns ({rows * columns:,} cells, the limit is "
                         f"{MAX_CELLS:,}): a cell far outside the table (delete the empty rows and columns after it) "
                         "or not a table", file=str(path))


def _unsaved_formulas(path: Path, sheet: str, rows: list[list[str | None]]) -> list[tuple[int, int, str]]:
    """Formula cells that were read as missing because the workbook stores no value for them."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        found = []
        formulas_sheet = book[sheet]
        formulas_sheet.reset_dimensions()  # every row, whatever the sheet says its extent is
        for r, formulas in enumerate(formulas_sheet.iter_rows(values_only=True)):
            if r >= len(rows):
                break
            for c, formula in enumerate(formulas):
                if isinstance(formula, str) and formula.startswith("=") and (c >= len(rows[r]) or rows[r][c] is None):
                    found.append((r + 1, c, formula))
        return found
    finally:
        book.close()


def _pick(path: Path, names: list[str], sheet: str | None) -> str:
    if sheet is not None and sheet not in names:
        raise InputError(f"no sheet {sheet!r} (sheets: {', '.join(names)})", file=str(path))
    return sheet or names[0]


def _xlsx_rows(path: Path, sheet: str | None):
    import openpyxl

    read_only = path.stat().st_size > MERGE_LIMIT
    try:
        book = openpyxl.load_workbook(path, read_only=read_only, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for a bad workbook
        raise InputError(f"cannot read as an Excel workbook: {exc}", file=str(path)) from exc
    name = _pick(path, book.sheetnames, sheet)
    ws = book[name]
    # Loaded, the sheet knows its extent; streamed, it says it (`<dimension>`, which may be absent or lie: the rows
    # are counted as they come too).
    _refuse_extent(path, ws.max_row or 0, ws.max_column or 0)
    if read_only:
        ws.reset_dimensions()  # streamed rows stop at the said extent: a stale `<dimension>` would drop rows unsaid
    rows: list[list[str | None]] = []
    cells = 0
    for row in ws.iter_rows(values_only=True):  # streaming: counted as it comes, refused before it piles up
        cells += len(row)
        if len(rows) >= EXCEL_ROWS or len(row) > EXCEL_COLUMNS:
            _refuse_extent(path, len(rows) + 1, len(row))
        if cells > MAX_CELLS:
            raise InputError(f"the sheet passes {MAX_CELLS:,} cells by row {len(rows) + 1:,} ({len(row):,} columns "
                             "wide): a cell far outside the table, or not a table", file=str(path), row=len(rows) + 1)
        rows.append([cell_text(v) for v in row])
    merges = [] if read_only else [(m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1)
                                   for m in ws.merged_cells.ranges]
    sheets = list(book.sheetnames)
    book.close()
    return rows, merges, sheets, name


def _xls_rows(path: Path, sheet: str | None):
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), formatting_info=True)
    except Exception as exc:  # xlrd raises several types for a bad workbook
        raise InputError(f"cannot read as an Excel 97 (.xls) workbook: {exc}", file=str(path)) from exc
    name = _pick(path, book.sheet_names(), sheet)
    ws = book.sheet_by_name(name)
    _refuse_extent(path, ws.nrows, ws.ncols)
    rows = []
    for r in range(ws.nrows):
        row = []
        for c in range(ws.ncols):
            cell = ws.cell(r, c)
            if cell.ctype == xlrd.XL_CELL_DATE:
                row.append(cell_text(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)))
            elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                row.append(None)
            else:
                row.append(cell_text(cell.value))
        rows.append(row)
    merges = [(r0, c0, r1 - 1, c1 - 1) for r0, r1, c0, c1 in ws.merged_cells]
    return rows, merges, book.sheet_names(), name


def cell_text(value: Any) -> str | None:
    """A cell as the text a person sees: whole floats without '.0', dates in ISO form."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    text = str(value)
    return text if text.strip() else None
