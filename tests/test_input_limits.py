"""Limits before memory grows: a workbook that would unpack far beyond its size, a sheet past Excel's extent, a CSV
wider than a spreadsheet can hold are refused from what they say about themselves (the archive's directory, the
sheet's extent, the first lines), with exit 2, one line, and nothing recorded. And a streamed sheet whose stated
extent is stale loses no rows."""

from __future__ import annotations

import zipfile
from pathlib import Path

import duckdb
import pytest

from tests.conftest import DATASET, FILES, add_corpus_dataset, assert_refused

pytestmark = pytest.mark.slow  # workbooks of tens of megabytes unpacked, made for each case

WORKBOOK = FILES / "several-sheets.xlsx"


def rewritten(path: Path, change, extra: dict[str, bytes] | None = None) -> Path:
    """The corpus workbook with its first sheet's XML changed by `change`, other sheets' too where it applies."""
    with zipfile.ZipFile(WORKBOOK) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for part in source.infolist():
            out.writestr(part.filename, change(part.filename, source.read(part.filename)))
        for name, data in (extra or {}).items():
            out.writestr(name, data)
    return path


def sheets_padded(name: str, data: bytes) -> bytes:
    """Two sheets each under any one-part limit, together unpacking a thousand times their packed size."""
    if name in ("xl/worksheets/sheet2.xml", "xl/worksheets/sheet3.xml"):
        return data.replace(b"<sheetData>", b"<sheetData>" + b" " * (40 << 20))
    return data


def row_past_excel(name: str, data: bytes) -> bytes:
    cell = b'<row r="1048577"><c r="A1048577" t="n"><v>1</v></c></row>'
    return data.replace(b"</sheetData>", cell + b"</sheetData>") if name == "xl/worksheets/sheet1.xml" else data


CASES = {
    "many parts that pack too well": (lambda p: rewritten(p / "bomb.xlsx", sheets_padded),
                                      "times their packed size"),
    "one part that packs too well": (lambda p: rewritten(p / "bomb.xlsx", lambda n, d: d,
                                                         {"xl/media/big.xml": b" " * (80 << 20)}),
                                     "its part xl/media/big.xml unpacks"),
    "a row past Excel's last row": (lambda p: rewritten(p / "tall.xlsx", row_past_excel), "past Excel's limits"),
    "a CSV wider than a spreadsheet": (lambda p: wide_csv(p / "wide.csv", 20_000), "more than the 16,384 columns"),
}


def wide_csv(path: Path, columns: int) -> Path:
    path.write_text(",".join(f"c{i}" for i in range(columns)) + "\n" + ",".join("1" * columns) + "\n")
    return path


@pytest.mark.parametrize("case", CASES)
def test_an_input_past_the_limits_is_refused_before_it_is_built(workspace, tmp_path, case):
    add_corpus_dataset(workspace)
    make, says = CASES[case]

    assert_refused(["ingest", DATASET, make(tmp_path), "--workspace", workspace.root], says, workspace.root.parent)
    assert not workspace.log_path.exists()


def test_a_streamed_sheet_with_a_stale_extent_keeps_every_row(tmp_path, monkeypatch):
    """openpyxl streams a sheet's rows up to the extent its `<dimension>` states; a writer that left it stale (A1:F2
    over five rows) would have three rows dropped without a word."""
    import audit.ingest.spreadsheet as spreadsheet

    stale = rewritten(tmp_path / "stale.xlsx", lambda n, d: d.replace(b'<dimension ref="A1:F5" />',
                                                                        b'<dimension ref="A1:F2" />'))
    monkeypatch.setattr(spreadsheet, "MERGE_LIMIT", 0)  # stream it, as a workbook over 20 MB is
    con = duckdb.connect()

    spreadsheet.read_workbook(con, stale, None, "cells")

    assert con.execute("SELECT count(*) FROM cells").fetchone() == (5,)
