"""A plain CSV export is read and typed in one pass, straight from the file (audit.ingest.read's `direct`); any
other file is first read as text. Whichever way a file goes, and whether it turns out to be plain only once it is
read, it gives the same table, the same fixes, the same lines and the same refusal as reading it as text first."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.errors import InputError
from audit.ingest import load_release
from audit.ingest.read import read_raw
from tests.conftest import add_dataset, empty_workspace, examples

FIELDS = {"district": "string", "year": "year", "robbery": "integer", "rate": "number", "day": "date",
          "cleared": "boolean"}
HEADER = ",".join(FIELDS)
PLAIN = "Central,2021,10,1.5,2021-03-04,true\nEastern,2022,12,2.25,2022-01-31,false\n"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    workspace = empty_workspace(tmp_path_factory.mktemp("direct"))
    add_dataset(workspace, "t", {"name": "t", "resources": [{"name": "t", "schema": {
        "fields": [{"name": n, "type": t} for n, t in FIELDS.items()], "primaryKey": ["district", "year"]}}]}, [])
    return workspace.dataset("t")


def outcome(dataset, path: Path, direct: bool):
    """All a release's reading gives: its rows, fixes, row count, digest and lines; or its refusal."""
    with duckdb.connect() as con:
        try:
            loaded = load_release(con, dataset, path, direct=direct)
        except InputError as error:
            return ("refused", error.message, error.row, error.column, error.value)
        rows = con.execute(f"SELECT * FROM {loaded.table} ORDER BY rowid").fetchall()
        lines = con.execute(f"SELECT line FROM {loaded.lines} ORDER BY rowid").fetchall() if loaded.lines else None
        left = con.execute("SELECT table_name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views() "
                           "WHERE NOT internal").fetchall()
        return (repr(rows), loaded.normalisations, loaded.row_count, loaded.sha256, lines, sorted(left))


def taken_directly(dataset, path: Path) -> bool:
    with duckdb.connect() as con:
        try:
            return read_raw(con, path, dataset, "raw", direct=True).direct is not None
        except InputError:  # refused as read as text, once it did not look plain
            return False


# Each kind of file: whether it looks plain before it is typed (then the typing finds out the rest). Its first rows
# are read to see, and DuckDB reads a small file whole for them: a fault its reader finds is found there.
CASES = {
    "plain": (HEADER + "\n" + PLAIN, True),
    "plain, no line break at the end": (HEADER + "\n" + PLAIN.rstrip("\n"), True),
    "CRLF line endings": ((HEADER + "\n" + PLAIN).replace("\n", "\r\n"), True),
    "a byte-order mark": ("\ufeff" + HEADER + "\n" + PLAIN, True),
    "cells to fix (padding, separators, markers)": (HEADER + "\n Central ,\"2,021\",\"1,204\",NA,2021-03-04,yes\n"
                                                    + PLAIN, True),
    "thousands separators only": (HEADER + "\nCentral,2021,\"1,204\",\"1,000.5\",2021-03-04,true\n" + PLAIN, True),
    "a bad cell": (HEADER + "\n" + PLAIN + "Western,2021,12O,1,2021-03-04,true\n", True),
    "a short row": (HEADER + "\n" + PLAIN + "Western,2021\n", True),
    "a short last row": (HEADER + "\n" + "Western,2021\n" + PLAIN, True),
    "a long row": (HEADER + "\n" + PLAIN + "Western,2021,1,1,2021-03-04,true,extra\n", False),
    "a quoted line break": (HEADER + "\n\"Cen\ntral\",2021,10,1.5,2021-03-04,true\n" + PLAIN, False),
    "a quote never closed": (HEADER + "\n" + PLAIN + "\"Western,2021,1,1,2021-03-04,true\n", False),
    "a note below the table": (HEADER + "\n" + PLAIN + "Source: the city\n", False),
    "a total row": (HEADER + "\n" + PLAIN + "Total,,22,,,\n", False),
    "a title above the header": ("Crimes by district\n" + HEADER + "\n" + PLAIN, False),
    "a blank line": (HEADER + "\n\n" + PLAIN, False),
    "a header over two rows": (",,robbery,,,\ndistrict,year,count,rate,day,cleared\n" + PLAIN, False),
    "a header only": (HEADER + "\n", False),
    "a line break inside a header's name": ('district,"ye\nar",robbery,rate,day,cleared\n' + PLAIN, False),
    "a column named like the row numbers": (HEADER + ",__row\n" + PLAIN.replace("\n", ",1\n"), False),
    "semicolons": ((HEADER + "\n" + PLAIN).replace(",", ";"), True),
    "tabs": ((HEADER + "\n" + PLAIN).replace(",", "\t"), True),
    "not UTF-8": ((HEADER + "\n" + PLAIN).replace("Central", "Montr\xe9al"), False),
}


@pytest.mark.parametrize("name", CASES)
def test_each_kind_of_file_reads_as_it_does_read_as_text_first(dataset, tmp_path, name):
    text, looks_plain = CASES[name]
    path = tmp_path / "release.csv"
    path.write_bytes(text.encode("cp1252" if name == "not UTF-8" else "utf-8"))

    assert taken_directly(dataset, path) is looks_plain
    assert outcome(dataset, path, direct=True) == outcome(dataset, path, direct=False)


def test_a_plain_file_is_typed_from_the_file_itself(dataset, tmp_path):
    """No table of its text is made: the view the typing reads is over the file."""
    path = tmp_path / "release.csv"
    path.write_text(HEADER + "\n" + PLAIN)
    with duckdb.connect() as con:
        read = read_raw(con, path, dataset, "raw", direct=True)
        assert read.direct is not None and read.rows_are_lines and read.header_row == 1
        assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchall() == [(0,)]
        assert con.execute("SELECT * FROM raw").fetchall() == [
            ("Central", "2021", "10", "1.5", "2021-03-04", "true"), ("Eastern", "2022", "12", "2.25", "2022-01-31",
                                                                       "false")]


def test_a_file_whose_name_holds_a_quote_is_read_directly(dataset, tmp_path):
    """The view names the file in its SQL (a view takes no parameters): a quote in the name is text, not SQL."""
    path = tmp_path / "it's'); DROP TABLE x; --.csv"
    path.write_text(HEADER + "\n" + PLAIN)

    assert taken_directly(dataset, path)
    assert outcome(dataset, path, direct=True) == outcome(dataset, path, direct=False)


def test_a_file_changed_after_it_was_digested_is_read_again(dataset, tmp_path):
    """The file is read more than once; its rows must be the bytes its digest is of."""
    from audit.ingest.read import NotDirect

    path = tmp_path / "release.csv"
    path.write_text(HEADER + "\n" + PLAIN)
    with duckdb.connect() as con:
        read = read_raw(con, path, dataset, "raw", direct=True)
        path.write_text(HEADER + "\n" + PLAIN.replace("10", "11"))
        con.execute("CREATE TABLE typed AS SELECT * FROM raw")
        with pytest.raises(NotDirect):
            read.direct.confirm(con, "typed")
    changed = outcome(dataset, path, direct=True)
    assert changed == outcome(dataset, path, direct=False) and "11" in changed[0]


def test_a_file_the_machine_cannot_hold_is_not_read_again(dataset, tmp_path, monkeypatch):
    """Only a file found not to be plain is read again the usual way: a full disk or too little memory is said as it
    is (the usual way would need more of both, then blame the file). The 100M-row bench's full disk was reported
    as "cannot read as CSV" after the second read."""
    from audit.ingest import read

    path = tmp_path / "release.csv"
    path.write_text(HEADER + "\n" + "".join(f"District {i},2021,{i},1.5,2021-03-04,true\n" for i in range(300_000)))
    usual: list[Path] = []
    monkeypatch.setattr(read, "_read_csv_cells", lambda *a: usual.append(a[1]))
    with duckdb.connect(config={"memory_limit": "8MB", "temp_directory": ""}) as con:
        with pytest.raises(duckdb.OutOfMemoryException):
            load_release(con, dataset, path)
    assert usual == []


CELLS = st.one_of(st.sampled_from(["", "NA", " 12", "1,204", "12O", "2021-03-04", "true", "Central", "Total", '"',
                                   "\n", "é", "1e5", "-", "x,y"]),
                  st.integers(-10**12, 10**12).map(str), st.floats(allow_nan=False).map(repr),
                  st.dates().map(str), st.text(max_size=4))
ROWS = st.lists(st.lists(CELLS, min_size=4, max_size=7), min_size=1, max_size=8)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ROWS, st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_any_table_reads_as_it_does_read_as_text_first(dataset, rows, ending, final_break):
    """Rows of any cells (quoted as csv writes them: line breaks and delimiters inside cells, short and long rows,
    a total or note row at the end) read, or are refused at the same cell, as when read as text first."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "release.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator=ending).writerows([list(FIELDS), *rows])
        if not final_break:
            path.write_bytes(path.read_bytes().removesuffix(ending.encode()))
        assert outcome(dataset, path, direct=True) == outcome(dataset, path, direct=False)
