"""Spreadsheets (.xlsx with openpyxl, Excel 97 .xls with xlrd) as text cells c1..cN, as a person sees them:
whole numbers without '.0', dates in ISO form, merged cells filled with their value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from audit.errors import InputError
from audit.ingest.normalise import Normalisation
from audit.sql import ident

MERGE_LIMIT = 20 << 20  # above this size, .xlsx is read streaming (merged cells then stay as Excel stores them)


def read_workbook(con: duckdb.DuckDBPyConnection, path: Path, sheet: str | None, cells: str) -> list[Normalisation]:
    if path.suffix.lower() == ".xls":
        rows, merges, sheets, name = _xls_rows(path, sheet)
    else:
        rows, merges, sheets, name = _xlsx_rows(path, sheet)
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
    return notes


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
    rows = [[cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
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
