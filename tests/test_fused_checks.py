"""Checks that share one pass over the release (audit.validate.fused) give exactly the findings they give one by
one: the same rows, in the same order, the same counts of rows not listed. The checks that judge each row on its
own share one over a release read from its files; the key's checks share one everywhere on DuckDB."""

from __future__ import annotations

import duckdb
import pytest

from audit.engine import DUCKDB, Engine
from audit.errors import ConfigError
from audit.validate.suite import run_suite
from audit.validate.translate import findings_from_results

# Each row check of the suite, many failing on the same rows, some where a value is missing, one within `where`.
SUITE = [
    {"type": "expect_column_values_to_be_present", "kwargs": {"column": "district"}},
    {"type": "expect_column_values_to_be_in_range", "kwargs": {"column": "age", "min_value": 0, "max_value": 99}},
    {"type": "expect_column_values_to_be_in_range", "kwargs": {"column": "age", "max_value": 90, "strict_max": True,
                                                               "where": [{"column": "year", "from": 2020}]}},
    {"type": "expect_column_values_to_be_in_value_set", "kwargs": {"column": "district", "value_set": ["North", "South"]}},
    {"type": "expect_column_values_to_match_pattern", "kwargs": {"column": "case_no", "regex": "^C-[0-9]{5}$"}},
    {"type": "expect_column_values_to_be_safe_in_spreadsheets", "kwargs": {"column": "district"}},
    {"type": "expect_column_values_to_equal_sum_of_columns", "kwargs": {"column": "total", "parts": ["a", "b"]}},
    {"type": "expect_coordinates_to_be_in_bounding_box",
     "kwargs": {"latitude": "lat", "longitude": "lon", "bbox": [-77.0, 39.0, -76.0, 40.0]}},
    {"type": "expect_column_values_to_have_a_category", "kwargs": {"column": "code", "mapping": {"1A": "x", "2B": "y"}}},
    {"type": "expect_months_reported_to_be_complete", "kwargs": {"column": "a", "full": 4}},
    # Kept by the pass a moment before its own query reads the clock.
    {"type": "expect_dates_to_be_within_coverage", "kwargs": {"column": "occurred", "start": "2015-06-01"}},
    # The key's checks: each reads many rows, and they share a pass of their own.
    {"type": "expect_primary_key_to_be_unique", "kwargs": {"columns": ["case_no"]}},
    {"type": "expect_key_values_not_to_differ_only_in_form", "kwargs": {"columns": ["case_no"], "text": ["case_no"]}},
]
ROWS = """CREATE TABLE cases AS SELECT
    CASE WHEN i % 97 = 0 THEN 'C-' || lpad(CAST(i - 1 AS VARCHAR), 5, '0') WHEN i % 89 = 0 THEN 'C' || i
         WHEN i % 101 = 0 THEN 'c-' || lpad(CAST(i - 1 AS VARCHAR), 5, '0') || ' '
         ELSE 'C-' || lpad(CAST(i AS VARCHAR), 5, '0') END AS case_no,
    2015 + i % 10 AS year,
    [NULL, 'North', 'South', 'East', '=cmd()', 'South'][1 + h(i, 1, 6)] AS district,
    CASE WHEN i % 13 = 0 THEN NULL ELSE h(i, 2, 105) - 2 END AS age,
    CASE WHEN i % 11 = 0 THEN NULL ELSE h(i, 3, 5) END AS a,
    h(i, 4, 5) AS b,
    CASE WHEN i % 7 = 0 THEN NULL ELSE h(i, 3, 5) + h(i, 4, 5) + (i % 17 = 0)::INT END AS total,
    CASE WHEN i % 19 = 0 THEN 0.0 ELSE 39.5 END AS lat, CASE WHEN i % 23 = 0 THEN NULL ELSE -76.5 END AS lon,
    ['1A', '2B', '3C', NULL][1 + h(i, 5, 4)] AS code,
    CASE WHEN i % 211 = 0 THEN TIMESTAMP '2999-01-01' ELSE TIMESTAMP '2015-01-01' + INTERVAL (i) DAY END AS occurred
    FROM range(1, 3001) t(i)"""


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("CREATE MACRO h(i, salt, n) AS CAST(hash(i, salt) % n AS INTEGER)")  # a value drawn from i
    con.execute(ROWS)
    # A view reads its rows again on every query, as a Parquet release `check` reads where it lies.
    con.execute("CREATE VIEW cases_in_files AS SELECT * FROM cases")
    yield con
    con.close()


@pytest.fixture
def passes(monkeypatch):
    """The conditions of each pass that kept rows for several checks."""
    from contextlib import contextmanager

    kept: list[str] = []
    original = Engine.rows_kept

    @contextmanager
    def recording(engine, con, table, condition):
        with original(engine, con, table, condition) as rows:
            kept.append(condition)
            yield rows

    monkeypatch.setattr(Engine, "rows_kept", recording)
    return kept


def findings_of(con, table: str, suite: list | None = None, ready: dict | None = None):
    """The findings and outcomes of `suite` over `table`; a future date's finding without the moment its query read
    the clock (two runs read it at two moments: it is the check's figure, not the rows it found)."""
    import dataclasses

    result = run_suite(con, table, "suite", suite or SUITE, ["case_no"], DUCKDB, ready=ready)
    findings, _, outcomes = findings_from_results(con, result.results, ["case_no"])
    return [dataclasses.replace(f, expected="now", message=f.message.split(" (checked at ")[0])
            if f.check == "future-date" else f for f in findings], outcomes


def test_the_checks_of_a_key_of_numbers_and_text_share_one_pass(con, passes, monkeypatch):
    """A key of a year and a district: each part folded as text for the pass, the checks' own rules unchanged."""
    suite = [{"type": "expect_primary_key_to_be_unique", "kwargs": {"columns": ["year", "district"]}},
             {"type": "expect_key_values_not_to_differ_only_in_form",
              "kwargs": {"columns": ["year", "district"], "text": ["district"]}}]
    con.execute("UPDATE cases SET district = 'north ' WHERE case_no = 'C-00007'")  # North, written another way

    findings, _ = findings_of(con, "cases", suite)

    assert len(passes) == 1
    assert {f.check for f in findings} == {"unique", "key-variant"}
    assert [f.observed for f in findings if f.check == "key-variant"] == ["2022 + North; 2022 + north "]
    monkeypatch.setattr(Engine, "shares_pass", lambda *_: False)
    assert findings_of(con, "cases", suite)[0] == findings  # each check alone
    assert len(passes) == 1


@pytest.mark.parametrize("bound", [200_000, 7])
def test_row_checks_over_files_run_in_one_pass_with_the_findings_they_give_one_by_one(con, passes, monkeypatch,
                                                                                    bound):
    from audit.validate.expectations import base

    monkeypatch.setattr(base, "MAX_FAILING_ROWS", bound)  # 7: most checks list some rows and count the rest
    with monkeypatch.context() as alone:
        alone.setattr(Engine, "shares_pass", lambda *_: False)
        one_by_one = findings_of(con, "cases")
    assert passes == []
    # A table DuckDB holds: each row check alone, skipping the row groups it cannot fail; the key's two together.
    over_a_table = findings_of(con, "cases")
    assert len(passes) == 1 and "GROUP BY ALL HAVING count(*) > 1" in passes[0]
    passes.clear()

    in_one_pass = findings_of(con, "cases_in_files")

    assert len(passes) == 2 and passes[0].count(") OR (") == 10  # the eleven row checks, then the key's
    assert over_a_table == one_by_one
    diff = next(((a, b) for a, b in zip(in_one_pass[0], one_by_one[0]) if a != b), None)
    assert in_one_pass == one_by_one, diff
    findings, outcomes = in_one_pass
    assert {o.check for o in outcomes if o.finding_count} == {
        "not-null", "in-range", "in-set", "pattern", "formula-injection", "category-sum", "out-of-bounds",
        "unmapped-code", "partial-year", "future-date", "unique", "key-variant"}  # every check fails somewhere
    assert ("more row(s) fail this check" in " ".join(f.message for f in findings)) == (bound == 7)


def test_a_check_that_cannot_run_among_them_is_named_by_its_entry(con, passes):
    """A bound of the wrong type for its column stops the joined pass; each check then runs alone, and the one
    that cannot run is named, as it is without the pass."""
    suite = [*SUITE, {"type": "expect_column_values_to_be_in_range", "kwargs": {"column": "year", "max_value": "lots"},
                      "meta": {"audit_origin": "expectations/cases.json, expectation 11"}}]

    with pytest.raises(ConfigError, match=r"cases\.json, expectation 11 \(expect_column_values_to_be_in_range\) could"):
        findings_of(con, "cases_in_files", suite)
    assert len(passes) == 1  # the key's pass ran, the row checks' could not


def test_the_passes_run_before_gx_are_the_ones_the_checks_read(con, passes, monkeypatch):
    """A command runs the shared passes while Great Expectations is still being imported (audit.validate.ahead):
    their conditions are told from the suite's entries as written. The checks then read those rows, with no pass of
    their own, and give the findings they give alone; the rows are dropped after."""
    from audit.validate.ahead import passes_ahead
    from audit.validate.keys import shared_keys

    assert shared_keys(SUITE) == [["case_no"]]  # named by the two key checks; no other entry names columns twice
    with monkeypatch.context() as alone:
        alone.setattr(Engine, "shares_pass", lambda *_: False)
        one_by_one = findings_of(con, "cases_in_files")

    with passes_ahead(DUCKDB, con, "cases_in_files", SUITE) as ready:
        assert list(ready) == passes and len(passes) == 2  # the eleven row checks', then the key's
        assert passes[0].count(") OR (") == 10
        ahead = findings_of(con, "cases_in_files", ready=ready)
        assert len(passes) == 2  # no pass of the checks' own

    assert ahead == one_by_one
    assert not con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name LIKE '__audit_rows_%'").fetchall()
    # A key two entries name but no two checks share: its rows are made, and no check reads them.
    other = [{"type": "expect_column_values_to_be_unique", "kwargs": {"column": "year", "columns": ["year"]}},
             {"type": "expect_column_values_to_be_present", "kwargs": {"column": "year", "columns": ["year"]}}]
    with passes_ahead(DUCKDB, con, "cases_in_files", other) as ready:
        assert len(ready) == 1
        assert findings_of(con, "cases_in_files", ready=ready) == one_by_one


def test_a_pass_guessed_wrong_ahead_costs_a_pass_and_no_finding(con, passes, monkeypatch):
    """A row pass run ahead whose condition is not the one the checks build (here: one entry more than the suite
    that runs) is read by no check: they run their own pass, with their own findings."""
    from audit.validate.ahead import passes_ahead

    extra = {"type": "expect_column_values_to_be_present", "kwargs": {"column": "year"}}
    with monkeypatch.context() as alone:
        alone.setattr(Engine, "shares_pass", lambda *_: False)
        one_by_one = findings_of(con, "cases_in_files")
    with passes_ahead(DUCKDB, con, "cases_in_files", [*SUITE, extra]) as ready:
        assert len(passes) == 2
        assert findings_of(con, "cases_in_files", ready=ready) == one_by_one
        assert len(passes) == 3 and passes[2].count(") OR (") == 10  # the checks' own row pass; the key's reused


def test_each_row_condition_told_from_an_entry_is_the_one_its_built_check_runs():
    """For every check type that judges a row on its own, with and without its optional arguments and a `where`: the
    condition told from the entry as written (before GX is imported) is the built expectation's, string for string,
    so the pass run ahead is the one the checks read."""
    import inspect

    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    from audit.validate import expectations  # noqa: F401  (registers the types)
    from audit.validate.conditions import ROW_CONDITIONS, entry_condition

    given = {"column": "age", "min_value": 1, "max_value": 2.5, "strict_min": True, "strict_max": True,
             "value_set": ["a", 3], "regex": "^[0-9]{2}$", "parts": ["a", "b"], "full": 4, "start": "2015-06-01",
             "latitude": "lat", "longitude": "lon", "bbox": [-77, 39, -76, 40], "mapping": {"1A": "x"}}
    assert len(ROW_CONDITIONS) == 10
    for kind, condition in ROW_CONDITIONS.items():
        parameters = inspect.signature(condition).parameters
        required = {n: given[n] for n, p in parameters.items() if p.default is inspect.Parameter.empty}
        every = {n: given[n] for n in parameters}
        for kwargs in (required, every, {**every, "where": [{"column": "year", "from": 2020}]}):
            entry = {"type": kind, "kwargs": kwargs}
            built = ExpectationConfiguration(**entry).to_domain_obj()
            assert entry_condition(entry) == built.fused_condition(), (kind, kwargs)
