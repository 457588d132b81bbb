"""GX's standard row expectations, as a suite names them, run as our own SQL checks: one query each, one finding
per failing row with its key (GX's give capped or unkeyed results, run slower, and its regex cannot run on DuckDB).
An entry that sets anything else (`mostly`) runs as GX's own, as written."""

from __future__ import annotations

import pytest

from audit import pipeline
from audit.render import report_text
from tests.conftest import add_dataset

ROWS = "case_no,district,age\nCC-000001,Central,34\nCC-000002,Easten,19\nCC7,Central,-1\nCC-000004,Western,\n"


@pytest.fixture
def cases(workspace):
    def define(*expectations):
        add_dataset(workspace, "cases", {
            "name": "cases", "licenses": [{"name": "PDDL-1.0"}],
            "resources": [{"name": "cases", "schema": {"primaryKey": ["case_no"], "fields": [
                {"name": "case_no", "type": "string", "title": "Case number", "description": "Case."},
                {"name": "district", "type": "string", "title": "District", "description": "District."},
                {"name": "age", "type": "integer", "title": "Age", "description": "Victim's age."}]}}]},
            list(expectations))
        path = workspace.root / "cases.csv"
        path.write_text(ROWS)
        return pipeline.check(workspace, "cases", path)
    return define


def test_between_in_set_and_regex_give_one_keyed_finding_per_failing_row(cases):
    report = cases(
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "age", "min_value": 0, "max_value": 120}},
        {"type": "expect_column_values_to_be_in_set",
         "kwargs": {"column": "district", "value_set": ["Central", "Eastern", "Western"]}},
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "case_no", "regex": "^CC-[0-9]{6}$"}})

    assert [(f.check, f.key, f.message) for f in report.findings] == [
        ("in-range", {"case_no": "CC7"}, "Age is -1, but it must be >= 0 and <= 120"),
        ("in-set", {"case_no": "CC-000002"},
         "District is 'Easten', which is not one of the listed values (Central, Eastern, Western)"),
        ("pattern", {"case_no": "CC7"}, "Case number 'CC7' does not have the expected form (^CC-[0-9]{6}$)"),
    ]


def test_an_entry_with_other_arguments_runs_as_gxs_own(cases):
    report = cases({"type": "expect_column_values_to_be_between",
                    "kwargs": {"column": "age", "min_value": 0, "max_value": 120, "mostly": 0.5}})

    assert report.findings == []  # 2 of 3 present ages are in range: GX's `mostly` is met


def test_a_check_failing_on_more_rows_than_are_listed_says_how_many_more(cases, monkeypatch):
    from audit.validate.expectations import base

    monkeypatch.setattr(base, "MAX_FAILING_ROWS", 1)
    report = cases({"type": "expect_column_values_to_be_in_set",
                    "kwargs": {"column": "district", "value_set": ["Eastern"]}})

    assert [(f.check, f.key, f.observed) for f in report.findings] == [
        ("in-set", {"case_no": "CC-000001"}, "Central"), ("in-set", {}, 3)]
    assert report.findings[1].message.startswith("3 more row(s) fail this check and are not listed")
    assert not report.success
    # The verdict counts every failing row, listed or not, and the text says which it does not list.
    text = report_text(report)
    assert "FAILED: 4 finding(s) block publication" in text and "in-set 4 blocking" in text
    assert "3 more row(s) fail this check and are not listed" in text


def test_rows_left_unlisted_are_counted_at_their_own_severity(monkeypatch):
    """A sum whose unlisted rows are only incomplete (a warning) must not block publication as an error would."""
    import duckdb

    from audit.validate.expectations import base
    from audit.validate.suite import run_suite
    from audit.validate.translate import findings_from_results

    monkeypatch.setattr(base, "MAX_FAILING_ROWS", 1)
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES (1, 1, 1, 3), (2, NULL, 1, 2), (3, NULL, 2, 2), "
                "(4, NULL, 3, 3)) v(id, a, b, total)")
    result = run_suite(con, "t", "s", [{"type": "expect_column_values_to_equal_sum_of_columns",
                                        "kwargs": {"column": "total", "parts": ["a", "b"]}}], ["id"])

    findings, _, _ = findings_from_results(con, result.results, ["id"])

    listed, *more = findings
    assert (listed.check, listed.severity) in {("category-sum", "error"), ("category-sum-incomplete", "warning")}
    assert sorted((f.check, f.severity, f.observed) for f in more) == sorted(
        [("category-sum", "error", 1), ("category-sum-incomplete", "warning", 3)]
        if listed.check == "category-sum-incomplete" else [("category-sum-incomplete", "warning", 3)])
