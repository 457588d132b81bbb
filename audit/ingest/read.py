"""Read an incoming CSV or Excel file into DuckDB as text cells, in file order.

Every cell stays text here so that typing (`cast`) can say exactly which cell of
which row failed. Row order is the table's insertion order: row r of the data is
`rowid + 2` in the file as a person counts it (the header is row 1).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from audit.dataset import Dataset
from audit.errors import InputError
from audit.progress import query_progress

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}


def read_raw(con: duckdb.DuckDBPyConnection, path: Path, dataset: Dataset | None, table: str) -> None:
    """Load `path` as text cells into `table`; `dataset` (if known) names the Excel sheet to read."""
    if path.suffix.lower() in EXCEL_SUFFIXES:
        _read_excel(con, path, dataset.resource.get("sheet") if dataset else None, table)
    else:
        _read_csv(con, path, table)
    (count,) = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()
    if count == 0:
        raise InputError("the file has no data rows", file=str(path))


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> None:
    if path.stat().st_size == 0:
        raise InputError("the file is empty", file=str(path))
    try:
        with query_progress(con, f"reading {path.name}"):
            con.execute(
                f"""CREATE TABLE "{table}" AS SELECT * FROM read_csv(?, header = true,
                    all_varchar = true, quote = '"', escape = '"', auto_detect = true)""",
                [str(path)],
            )
    except duckdb.Error as exc:
        raise InputError(f"cannot read as CSV: {_first_line(exc)}", file=str(path)) from exc


def _read_excel(con: duckdb.DuckDBPyConnection, path: Path, sheet_name: str | None, table: str) -> None:
    import openpyxl
    import pandas as pd

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for a bad workbook
        raise InputError(f"cannot read as an Excel workbook: {exc}", file=str(path)) from exc
    if sheet_name is not None and sheet_name not in book.sheetnames:
        raise InputError(f"no sheet {sheet_name!r} (sheets: {', '.join(book.sheetnames)})", file=str(path))
    sheet = book[sheet_name] if sheet_name else book.worksheets[0]
    rows = [[_excel_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    rows = [r for r in rows if any(v is not None for v in r)]
    if not rows:
        raise InputError("the sheet is empty", file=str(path))
    header = [h if h is not None else f"column{i + 1}" for i, h in enumerate(rows[0])]
    frame = pd.DataFrame(rows[1:], columns=header, dtype="string")
    con.register("_excel_rows", frame)
    con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM _excel_rows')
    con.unregister("_excel_rows")


def _excel_text(value: object) -> str | None:
    """A cell as the text a person sees: whole floats without '.0', dates in ISO form."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    return str(value)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
