"""Fuzzing the reader: random bytes and random CSV-like text never crash ingest with a traceback. Either
the file is read, or it is refused with an InputError that names the file; and a refused file records
nothing."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import pipeline
from audit.errors import InputError
from audit.ingest import load_release
from audit.workspace import Workspace
from tests.conftest import empty_workspace
from tests.test_bad_input import DATASET, add_corpus_dataset

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


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_are_read_or_refused_cleanly(dataset, content):
    read(dataset, content)


@FUZZ
@given(CSV_LIKE)
def test_random_csv_like_text_is_read_or_refused_cleanly(dataset, text):
    for encoding in ("utf-8", "utf-16"):
        read(dataset, text.encode(encoding, errors="replace"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
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
