"""Fuzzing the reader: random bytes and random CSV-like text never crash ingest with a traceback. Either
the file is read, or it is refused with an InputError that names the file; and a refused file records
nothing."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from audit import pipeline
from audit.errors import InputError
from audit.ingest import load_release
from audit.workspace import Workspace
from tests.conftest import DATASET, add_corpus_dataset, empty_workspace, examples

HEADER = "Police district,Year,Resident population,Robbery,Aggravated assault,Total offences"
CELL = st.one_of(
    st.integers(-5, 100_000).map(str),
    st.sampled_from(["", "NA", "-", "*", "(X)", "1,204", " 12 ", "342a", "1960.0", "Total", "=1+1", '"', '""',
                     "Central", "Eastern", "é", "\u2013", "\r", "\t", ";", "\x00"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8),
)
ROW = st.lists(CELL, min_size=0, max_size=8).map(lambda cells: ",".join(cells))
CSV_LIKE = st.tuples(st.booleans(), st.lists(ROW, max_size=12), st.sampled_from(["\n", "\r\n", "\r"])).map(
    lambda t: ((HEADER + t[2]) if t[0] else "") + t[2].join(t[1]))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return add_corpus_dataset(empty_workspace(tmp_path_factory.mktemp("fuzz")))


def read(dataset_workspace: Workspace, content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "release.csv"
        path.write_bytes(content)
        with duckdb.connect() as con:
            try:
                load_release(con, dataset_workspace.dataset(DATASET), path)
            except InputError as error:
                assert error.file == str(path) and str(error)


FUZZ = settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_are_read_or_refused_cleanly(dataset, content):
    read(dataset, content)


@FUZZ
@given(CSV_LIKE)
@example("\x00,0")  # in UTF-16, FF FE 00 00: UTF-32's mark, then no UTF-32 text (found by this test)
@example("\x00\n")
def test_random_csv_like_text_is_read_or_refused_cleanly(dataset, text):
    for encoding in ("utf-8", "utf-16"):
        read(dataset, text.encode(encoding, errors="replace"))


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(CSV_LIKE)
def test_a_refused_file_records_nothing(dataset, text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "release.csv"
        path.write_text(text, encoding="utf-8", errors="replace")
        log = dataset.log_path
        before = _releases(log)
        try:
            pipeline.ingest(dataset, DATASET, path, version=None)
        except InputError:
            assert _releases(log) == before


def _releases(log: Path) -> int:
    if not log.exists():
        return 0
    with duckdb.connect(str(log), read_only=True) as con:
        return con.execute("SELECT count(*) FROM releases").fetchall()[0][0]


# -- the shortcut for plain cells ------------------------------------------------------------------------
MESSY = ["", " 12", "12 ", "1,204", "342a", "1960.0", "+3", ".5", "1e5", "-1", "NA", "n/a", "(X)", "Central"]
# Each field's cells: mostly its own kind of value, plain or messy, now and then one that cannot be read.
TYPED_CELLS = {
    "count": st.one_of(st.integers(-10**20, 10**20).map(str), st.sampled_from(MESSY)),
    "year": st.one_of(st.integers(-10**10, 10**10).map(str), st.sampled_from(MESSY + ["2,021", " 2021"])),
    "rate": st.one_of(st.floats(allow_nan=False).map(repr), st.integers().map(str), st.sampled_from(MESSY)),
    "day": st.one_of(st.dates().map(str), st.sampled_from(MESSY + [" 2021-03-04", "2021-02-30", "2021-03-04 10:00"])),
    "at": st.one_of(st.datetimes().map(str), st.datetimes().map(lambda d: d.isoformat()),
                    st.sampled_from(MESSY + [" 2021-03-04 10:00:00", "2021-03-04", "10:00"])),
    "cleared": st.sampled_from(["yes", "NO", "true", "false", " t", "0", "1", "maybe", "", "NA", "-1"]),
    "label": st.one_of(st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=5), st.sampled_from(MESSY)),
}
TYPES = {"count": "integer", "year": "year", "rate": "number", "day": "date", "at": "datetime",
         "cleared": "boolean", "label": "string"}


@pytest.fixture(scope="module")
def typed_dataset(tmp_path_factory):
    from tests.conftest import add_dataset

    workspace = empty_workspace(tmp_path_factory.mktemp("typed"))
    fields = [{"name": name, "type": kind} for name, kind in TYPES.items()]
    add_dataset(workspace, "typed", {"name": "typed", "resources": [{"name": "typed", "schema": {
        "fields": fields, "primaryKey": ["label"], "missingValues": ["", "-1"]}}]}, [])
    return workspace.dataset("typed")


@settings(max_examples=examples(50), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(*TYPED_CELLS.values()), min_size=1, max_size=6))
def test_plain_cells_are_read_as_the_full_clean_up_reads_them(typed_dataset, rows):
    """Cast takes a shortcut for cells already in canonical form; every table must read (or be refused,
    at the same cell) exactly as with the clean-up applied to every cell, with the same fixes counted."""
    import csv

    from audit.ingest.cast import _field_sql, cast_to_schema, count_normalisations, missing_markers
    from audit.ingest.read import read_raw

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "release.csv"
        with path.open("w", newline="") as handle:
            csv.writer(handle).writerows([list(TYPES), *rows])
        with duckdb.connect() as con:
            read_raw(con, path, typed_dataset, "raw")
            mapping = {name: name for name in TYPES}
            full = [_field_sql(f, f.name, missing_markers(f, typed_dataset.missing_values)) for f in typed_dataset.fields]
            first_bad = con.execute(f"SELECT __row, {', '.join(b for _, b in full)} FROM raw "
                                    f"WHERE {' OR '.join(b for _, b in full)} ORDER BY __row LIMIT 1").fetchone()
            if first_bad is not None:
                expected = ("refused", first_bad[0], list(TYPES)[first_bad[1:].index(True)])
            else:
                expected = (con.execute(f"SELECT {', '.join(v for v, _ in full)} FROM raw").fetchall(),
                            count_normalisations(con, "raw", typed_dataset, mapping))
            try:
                fixes = cast_to_schema(con, typed_dataset, mapping, "raw", "typed", path)
                got = (con.execute("SELECT * FROM typed").fetchall(), fixes)
            except InputError as error:
                got = ("refused", error.row, error.column)
    assert got == expected


# -- the encoding pass's cheap tests -----------------------------------------------------------------------
@settings(max_examples=examples(100), deadline=None)
@given(st.lists(st.sampled_from([b"a", b"bb,c", b"\n", b"\r\n", b"\r", b"x" * 20, b"\xc3\xa9"]), max_size=40))
def test_the_encoding_pass_finds_blank_and_long_lines_across_chunks(content):
    """With tiny chunks, the pass's cheap tests (a chunk with no blank line, no line-free block) must find
    the blank lines and the first over-long line just as splitting the whole file into lines does."""
    from unittest import mock

    from audit.ingest import decode

    data = b"head\n" + b"".join(content)
    lines = data.split(b"\n")
    long = next((i + 1 for i, line in enumerate(lines) if len(line) > 16), None)
    with tempfile.TemporaryDirectory() as folder, mock.patch.object(decode, "CHUNK", 8), \
            mock.patch.object(decode, "MAX_LINE", 16):
        path = Path(folder) / "release.csv"
        path.write_bytes(data)
        try:
            prepared = decode.prepare_text(path, Path(folder))
        except InputError as error:
            assert error.row == long and "bytes long" in str(error)
            return
    assert long is None
    assert prepared.blanks == [i + 1 for i, line in enumerate(lines[:-1]) if line in (b"", b"\r")]
    assert prepared.sha256 == hashlib.sha256(data).hexdigest()  # hashed in a thread, chunk by chunk


def test_a_file_refused_midway_leaves_no_digest_running():
    """The digest is hashed in a thread beside the pass: a file refused part way (a NUL byte in its third chunk)
    ends it too, rather than leaving it waiting for chunks that never come."""
    import threading
    from unittest import mock

    from audit.ingest import decode

    with tempfile.TemporaryDirectory() as folder, mock.patch.object(decode, "CHUNK", 8):
        path = Path(folder) / "release.csv"
        path.write_bytes(b"a,b\n1,2\n" * 2 + b"3,\x004\n" + b"5,6\n" * 100)
        with pytest.raises(InputError, match="NUL byte"):
            decode.prepare_text(path, Path(folder))
    for thread in threading.enumerate():
        if thread.name == "digest":
            thread.join(timeout=5)
            assert not thread.is_alive()
