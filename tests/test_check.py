"""`audit check`: the suite's findings, through the library and the CLI, on the example table."""

from __future__ import annotations

import json

from audit import pipeline
from audit.render import report_json
from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, add_dataset, data_findings, write_variant


def test_example_has_exactly_the_two_known_category_sum_findings(workspace):
    report = pipeline.check(workspace, EXAMPLE, EXAMPLE_CSV)

    assert not report.success
    assert [(f.check, f.key, f.expected, f.observed) for f in data_findings(report.findings)] == [
        ("category-sum", {"year": 2021}, 9399, 10344),
        ("category-sum", {"year": 2022}, 9246, 10624),
    ]
    assert data_findings(report.findings)[0].columns[0] == "violent_crime"
    assert "945 unaccounted for" in data_findings(report.findings)[0].message


def test_cli_json_is_the_library_report(workspace, run):
    result = run("check", EXAMPLE, EXAMPLE_CSV, "--format", "json")

    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data == json.loads(report_json(pipeline.check(workspace, EXAMPLE, EXAMPLE_CSV)))
    assert data["success"] is False and data["dataset"] == EXAMPLE
    assert [f["key"] for f in data_findings(data["findings"])] == [{"year": 2021}, {"year": 2022}]
    finding = data_findings(data["findings"])[0]
    assert set(finding) >= {"check", "severity", "key", "columns", "expected", "observed", "message"}
    assert (finding["check"], finding["severity"], finding["expected"], finding["observed"]) == (
        "category-sum", "error", 9399, 10344,
    )


def test_cli_text_names_rows_and_figures(run):
    result = run("check", EXAMPLE, EXAMPLE_CSV)

    assert result.exit_code == 1
    assert "year=2021" in result.output and "10,344" in result.output and "9,399" in result.output
    assert "year=2022" in result.output and "10,624" in result.output and "9,246" in result.output
    assert "FAILED" in result.output


def test_waivers_turn_findings_into_caveats(run):
    result = run("check", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--format", "json")

    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["success"] is True
    assert [f["waived"] for f in data_findings(data["findings"])] == [True, True]
    assert all(f["waiver_reason"] for f in data_findings(data["findings"]))


def test_waiver_pinned_to_figures_does_not_cover_a_changed_value(workspace, tmp_path):
    # 2021's total revised upward: the old waiver (observed 10,344) no longer applies.
    changed = write_variant(tmp_path, '"10,344"', '"10,444"')

    report = pipeline.check(workspace, EXAMPLE, changed, EXAMPLE_WAIVERS)

    assert not report.success
    assert [f.key for f in report.blocking] == [{"year": 2021}]
    assert report.unused_waivers and report.unused_waivers[0].waiver["key"] == {"year": 2021}


def test_raising_one_part_adds_a_third_finding(workspace, tmp_path):
    raised = write_variant(tmp_path, '"5,066"', '"5,166"')  # 2018 robbery

    report = pipeline.check(workspace, EXAMPLE, raised)

    assert [f.key["year"] for f in data_findings(report.findings)] == [2018, 2021, 2022]
    first = data_findings(report.findings)[0]
    assert (first.check, first.expected, first.observed) == ("category-sum", 11199, 11099)


def test_a_table_whose_sums_hold_passes(workspace, tmp_path):
    fixed = write_variant(tmp_path, '"10,344"', '"9,399"')
    fixed.write_text(fixed.read_text().replace('"10,624"', '"9,246"'))

    report = pipeline.check(workspace, EXAMPLE, fixed)

    assert report.success and data_findings(report.findings) == []


def test_a_missing_part_makes_the_sum_unknown_not_wrong(workspace, tmp_path):
    # 2021's rape count blank: the 2021 sum cannot be checked, so it is a warning, not an error.
    blank = write_variant(tmp_path, "337,316,3232", "337,,3232")

    report = pipeline.check(workspace, EXAMPLE, blank)

    assert [(f.check, f.severity, f.key) for f in data_findings(report.findings)] == [
        ("category-sum-incomplete", "warning", {"year": 2021}),
        ("category-sum", "error", {"year": 2022}),
    ]
    assert data_findings(report.findings)[0].message.startswith("Rape is missing")


RATE_DATASET = {
    "name": "city-rates",
    "title": "Violent crime rates",
    "resources": [{
        "name": "rates",
        "path": "data/rates.csv",
        "schema": {
            "primaryKey": ["place", "year"],
            "fields": [
                {"name": "place", "type": "string", "description": "Jurisdiction."},
                {"name": "year", "type": "integer", "description": "Year."},
                {"name": "population", "type": "integer", "description": "Residents.", "unit": "persons"},
                {"name": "violent", "type": "integer", "description": "Violent crimes.", "unit": "offences"},
                {"name": "violent_rate", "type": "number", "description": "Per 100,000.",
                 "unit": "offences per 100,000 residents"},
            ],
        },
    }],
}
RATE_SUITE = [{
    "type": "expect_column_values_to_equal_rate",
    "kwargs": {"column": "violent_rate", "count": "violent", "population": "population", "per": 100000, "decimals": 1},
}]


def test_rate_math_allows_half_a_unit_of_the_published_precision(workspace, tmp_path):
    add_dataset(workspace, "city-rates", RATE_DATASET, RATE_SUITE)
    data = tmp_path / "rates.csv"
    # 11,101 / 593,490 x 100,000 = 1,870.457...; 1870.5 is the rounded rate; 1870.4 is off by 0.057.
    data.write_text(
        "place,year,population,violent,violent_rate\n"
        'Baltimore,2019,"593,490","11,101",1870.5\n'
        'Baltimore,2020,"584,573","9,403",1608.5\n'
        'Baltimore,2021,"575,584","10,344",1797.0\n'
    )

    report = pipeline.check(workspace, "city-rates", data)

    assert [(f.check, f.key) for f in data_findings(report.findings)] == [("rate-math", {"place": "Baltimore", "year": 2021})]
    finding = data_findings(report.findings)[0]
    assert finding.observed == 1797.0
    assert abs(finding.expected - 1797.13) < 0.01
    assert finding.columns == ["violent_rate", "violent", "population"]


def test_a_report_with_thousands_of_findings_opens_with_the_verdict_and_stays_readable():
    from audit.findings import Finding, ReleaseInfo, Report
    from audit.render import report_text

    findings = [Finding("in-range", "error", {"incident_id": f"I{i}"}, ["victim_age"], "0 to 120", 130 + i % 7,
                        f"victim_age {130 + i % 7} is outside 0 to 120") for i in range(30_802)]
    findings += [Finding("formula-injection", "warning", {"incident_id": f"J{i}"}, ["premise"], None, "=x", "m")
                 for i in range(1_938)]
    report = Report("incidents", ReleaseInfo("w12", "0" * 64, "w12.csv", 40_000), findings)

    lines = report_text(report).splitlines()

    assert lines[1] == "FAILED: 30,802 finding(s) block publication"
    assert lines[2] == "  by check: in-range 30,802 blocking; formula-injection 1,938 warning"
    assert lines[3] == "  by column: victim_age 30,802, premise 1,938"
    assert "  in-range       ... and 30,782 more" in lines and "  formula-injection ... and 1,918 more" in lines
    assert "32,700 finding(s) not listed here: --format json lists every one" in lines
    assert len(lines) < 60
