"""The digest of a stored release (audit.log.digest): any change to the rows, their order, the columns' names
or types, or a missing value, changes it; how the rows are cut into batches does not."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import audit.log.digest as digest_module
from audit.log.digest import table_digest
from tests.conftest import examples

ROWS = [(1, "Larceny", None, 39.29, "2024-03-01 10:00:00"), (2, "Robbery", "Street", None, "2024-03-02 11:30:00"),
        (3, "", "Store", 39.31, None)]


def table(rows=ROWS, columns="id BIGINT, offense VARCHAR, premise VARCHAR, latitude DOUBLE, occurred TIMESTAMP"):
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t ({columns})")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)", rows)
    return con


def digest(rows=ROWS, **kwargs) -> str:
    return table_digest(table(rows, **kwargs), "t")


def test_the_same_rows_give_the_same_digest_and_it_names_its_kind():
    assert digest() == digest()
    assert digest().startswith("sha256-columns-v1:") and len(digest().split(":")[1]) == 64


ALTERED = {
    "a value changed": [ROWS[0], (2, "Robbery", "Street", None, "2024-03-02 11:30:01"), ROWS[2]],
    "a missing value made the text \\0": [(1, "Larceny", "\0", 39.29, "2024-03-01 10:00:00"), *ROWS[1:]],
    "a missing value made empty text": [(1, "Larceny", "", 39.29, "2024-03-01 10:00:00"), *ROWS[1:]],
    "text moved across a cell boundary": [(1, "Larceny\x1f", None, 39.29, "2024-03-01 10:00:00"), *ROWS[1:]],
    "two rows swapped": [ROWS[1], ROWS[0], ROWS[2]],
    "a row removed": ROWS[:2],
    "a row repeated": [*ROWS, ROWS[2]],
    "a nudge of 2 mm": [(1, "Larceny", None, 39.29002, "2024-03-01 10:00:00"), *ROWS[1:]],
}


@pytest.mark.parametrize("change", ALTERED)
def test_any_change_to_the_rows_changes_it(change):
    assert digest(ALTERED[change]) != digest()


def test_column_names_and_types_are_part_of_it():
    renamed = "id BIGINT, premise VARCHAR, offense VARCHAR, latitude DOUBLE, occurred TIMESTAMP"
    swapped = [(r[0], r[2], r[1], r[3], r[4]) for r in ROWS]
    assert digest(swapped, columns=renamed) != digest()  # homicide and rape swapped, names and all
    assert digest(columns="id INTEGER, offense VARCHAR, premise VARCHAR, latitude DOUBLE, occurred TIMESTAMP") != digest()


@settings(max_examples=examples(25), deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 5), st.one_of(st.none(), st.text(max_size=4))), min_size=0, max_size=40),
       st.integers(1, 7))
def test_batches_do_not_change_it(rows, batch):
    con = duckdb.connect()
    con.execute("CREATE TABLE t (n BIGINT, s VARCHAR)")
    if rows:
        con.executemany("INSERT INTO t VALUES (?, ?)", rows)
    whole = table_digest(con, "t")
    saved, digest_module.BATCH_ROWS = digest_module.BATCH_ROWS, batch
    try:
        assert table_digest(con, "t") == whole
    finally:
        digest_module.BATCH_ROWS = saved


@settings(max_examples=examples(25), deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(-3, 3)), st.one_of(st.none(), st.text(max_size=3))),
                min_size=1, max_size=6), st.data())
def test_a_single_cell_changed_changes_it(rows, data):
    at = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(st.integers(0, 1))
    replacement = data.draw(st.one_of(st.none(), st.integers(-3, 3)) if column == 0 else
                            st.one_of(st.none(), st.text(max_size=3)))
    changed = list(rows)
    changed[at] = tuple(replacement if i == column else v for i, v in enumerate(rows[at]))
    if changed == rows:
        return

    def of(values):
        con = duckdb.connect()
        con.execute("CREATE TABLE t (n BIGINT, s VARCHAR)")
        con.executemany("INSERT INTO t VALUES (?, ?)", values)
        return table_digest(con, "t")

    assert of(changed) != of(rows)


def test_every_field_type_with_missing_values_has_a_digest_that_tells_missing_from_zero():
    """Each type a descriptor can give a field (audit.dataset.DUCKDB_TYPES), with a missing value in every column:
    the digest is computed (a missing date once crashed it) and a missing value is never the same as zero."""
    from audit.dataset import DUCKDB_TYPES

    types = sorted(set(DUCKDB_TYPES.values()))
    columns = ", ".join(f"c{i} {t}" for i, t in enumerate(types))
    zero = {"BIGINT": "0", "INTEGER": "0", "DOUBLE": "0", "VARCHAR": "''", "BOOLEAN": "false",
            "DATE": "DATE '1970-01-01'", "TIMESTAMP": "TIMESTAMP '1970-01-01'", "TIME": "TIME '00:00:00'"}

    def of(values: str) -> str:
        con = duckdb.connect()
        con.execute(f"CREATE TABLE t ({columns})")
        con.execute(f"INSERT INTO t VALUES ({values})")
        return table_digest(con, "t")

    assert set(types) <= set(zero)
    missing, zeros = of(", ".join("NULL" for _ in types)), of(", ".join(zero[t] for t in types))
    assert missing != zeros
