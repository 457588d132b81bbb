"""Incident-level checks (one row per incident) and reconciliation with a summary table."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta

import pytest

from audit import pipeline
from audit.errors import ConfigError
from tests.conftest import add_dataset

CATEGORIES = {"1A": "homicide", "2A": "rape", "3A": "robbery", "4A": "aggravated_assault", "5A": "burglary"}
VIOLENT = ["homicide", "rape", "robbery", "aggravated_assault"]
BBOX = [-76.72, 39.19, -76.52, 39.38]  # Baltimore City, west south east north

INCIDENTS = {
    "name": "incidents",
    "resources": [{"name": "incidents", "path": "data/incidents.csv", "schema": {
        "primaryKey": ["incident_id"],
        "fields": [
            {"name": "incident_id", "type": "string"},
            {"name": "occurred", "type": "datetime"},
            {"name": "offense_code", "type": "string", "categories": CATEGORIES},
            {"name": "district", "type": "string"},
            {"name": "latitude", "type": "number"},
            {"name": "longitude", "type": "number"},
        ],
    }}],
    "reconcile": [{
        "summary": "summary", "period": "occurred", "grain": "year", "summary_period": "year",
        "category": "offense_code", "by": {"district": "district"},
        "counts": {"homicide": "homicide", "robbery": "robbery", "violent_crime": VIOLENT},
    }],
}
INCIDENT_SUITE = [
    {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "incident_id"}},
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "incident_id"}},
    {"type": "expect_dates_to_be_within_coverage", "kwargs": {"column": "occurred", "start": "2021-01-01"}},
    {"type": "expect_coordinates_to_be_in_bounding_box",
     "kwargs": {"latitude": "latitude", "longitude": "longitude", "bbox": BBOX}},
    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "offense_code", "value_set": list(CATEGORIES)}},
]
SUMMARY = {
    "name": "summary",
    "resources": [{"name": "summary", "path": "data/summary.csv", "schema": {
        "primaryKey": ["year", "district"],
        "fields": [{"name": "year", "type": "integer"}, {"name": "district", "type": "string"},
                   *({"name": c, "type": "integer"} for c in ["homicide", "robbery", "violent_crime"])],
    }}],
}


def make_incidents() -> list[dict]:
    """Two years, two districts, a spread of offences: a clean incident file."""
    rows, n = [], 0
    for year in (2021, 2022):
        for district, lat in (("Northern", 39.34), ("Southern", 39.25)):
            for code, count in (("1A", 3), ("2A", 2), ("3A", 7 + year % 2), ("4A", 5), ("5A", 9)):
                for i in range(count):
                    n += 1
                    when = datetime(year, 1, 1) + timedelta(days=17 * i + n % 11, hours=n % 24)
                    rows.append({"incident_id": f"I{n:05d}", "occurred": when.isoformat(sep=" "), "offense_code": code,
                                 "district": district, "latitude": lat + i / 1000, "longitude": -76.61})
    return rows


def summary_of(incidents: list[dict]) -> list[dict]:
    counted = Counter((int(r["occurred"][:4]), r["district"], CATEGORIES[r["offense_code"]]) for r in incidents)
    out = []
    for year, district in sorted({(y, d) for y, d, _ in counted}):
        row = {"year": year, "district": district, "homicide": counted[(year, district, "homicide")],
               "robbery": counted[(year, district, "robbery")]}
        row["violent_crime"] = sum(counted[(year, district, c)] for c in VIOLENT)
        out.append(row)
    return out


def write_csv(path, rows: list[dict]):
    names = list(rows[0])
    path.write_text("\n".join([",".join(names), *(",".join(str(r[n]) for n in names) for r in rows)]) + "\n")
    return path


@pytest.fixture
def office(workspace, tmp_path):
    add_dataset(workspace, "incidents", INCIDENTS, INCIDENT_SUITE)
    add_dataset(workspace, "summary", SUMMARY, [])
    return workspace


def test_clean_incidents_pass_and_reconcile(office, tmp_path):
    incidents = make_incidents()
    inc = write_csv(tmp_path / "incidents.csv", incidents)
    summ = write_csv(tmp_path / "summary.csv", summary_of(incidents))

    assert pipeline.check(office, "incidents", inc).findings == []
    report = pipeline.reconcile(office, "incidents", "summary", inc, summ)
    assert report.success and report.findings == []


def test_each_incident_defect_is_found_on_its_row(office, tmp_path):
    rows = make_incidents()
    rows[0]["occurred"] = (datetime.now() + timedelta(days=30)).isoformat(sep=" ", timespec="seconds")
    rows[1]["occurred"] = "2019-06-30 12:00:00"
    rows[2]["latitude"], rows[2]["longitude"] = 0, 0
    rows[3]["offense_code"] = "9Z"
    rows[4]["incident_id"] = rows[5]["incident_id"]

    report = pipeline.check(office, "incidents", write_csv(tmp_path / "bad.csv", rows))

    found = sorted((f.check, f.key["incident_id"]) for f in report.findings)
    assert found == sorted([
        ("future-date", "I00001"), ("before-start", "I00002"), ("out-of-bounds", "I00003"),
        ("in-set", "I00004"), ("unmapped-code", "I00004"),
        ("unique", "I00006"),  # one finding per repeated key, with how often it occurs
    ])
    by_check = {f.check: f for f in report.findings}
    assert by_check["out-of-bounds"].observed == [0, 0]
    assert "before 2021-01-01" in by_check["before-start"].message
    assert "'9Z' has no category" in by_check["unmapped-code"].message


def test_reconciliation_names_period_district_figure_and_both_numbers(office, tmp_path):
    incidents = make_incidents()
    summary = summary_of(incidents)
    summary[1]["robbery"] += 2            # 2021 Southern robbery published 2 too high
    summary[1]["violent_crime"] += 2      # ... and so is its violent total
    summary[2]["homicide"] -= 1           # 2022 Northern homicide one short; violent left alone
    inc = write_csv(tmp_path / "incidents.csv", incidents)
    summ = write_csv(tmp_path / "summary.csv", summary)

    report = pipeline.reconcile(office, "incidents", "summary", inc, summ)

    assert [(f.check, f.key, f.columns, f.expected, f.observed) for f in report.findings] == [
        ("reconciliation", {"year": 2021, "district": "Southern"}, ["robbery"], 10, 8),
        ("reconciliation", {"year": 2021, "district": "Southern"}, ["violent_crime"], 20, 18),
        ("reconciliation", {"year": 2022, "district": "Northern"}, ["homicide"], 2, 3),
    ]
    assert "gives 10 for robbery, but the incident data count 8" in report.findings[0].message


def test_reconcile_cli_reads_recorded_releases_and_a_missing_district_is_a_finding(office, run, tmp_path):
    incidents = make_incidents()
    summary = [r for r in summary_of(incidents) if not (r["year"] == 2022 and r["district"] == "Southern")]
    assert run("ingest", "incidents", write_csv(tmp_path / "i.csv", incidents)).exit_code == 0
    assert run("ingest", "summary", write_csv(tmp_path / "s.csv", summary)).exit_code == 0

    result = run("reconcile", "incidents", "summary", "--format", "json")

    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["release"]["reconciled_with"]["dataset"] == "summary"
    assert {(json.dumps(f["key"]), f["columns"][0], f["expected"]) for f in data["findings"]} == {
        ('{"year": 2022, "district": "Southern"}', figure, None) for figure in ("homicide", "robbery", "violent_crime")
    }


def test_only_periods_in_both_tables_are_compared(office, tmp_path):
    incidents = [r for r in make_incidents() if r["occurred"].startswith("2022")]
    summary = summary_of(make_incidents())  # has 2021 too, which the incident file does not cover

    report = pipeline.reconcile(office, "incidents", "summary", write_csv(tmp_path / "i.csv", incidents),
                                write_csv(tmp_path / "s.csv", summary))

    assert report.findings == []


def test_a_reconcile_entry_naming_unknown_fields_is_a_config_error(office, tmp_path):
    descriptor = json.loads(json.dumps(INCIDENTS))
    descriptor["reconcile"][0]["counts"]["arson"] = "arson"
    path = office.root / "datapackages" / "incidents" / "datapackage.yaml"
    import yaml

    path.write_text(yaml.safe_dump(descriptor))
    incidents = make_incidents()

    with pytest.raises(ConfigError, match="no field 'arson'"):
        pipeline.reconcile(office, "incidents", "summary", write_csv(tmp_path / "i.csv", incidents),
                           write_csv(tmp_path / "s.csv", summary_of(incidents)))


def test_tables_that_share_no_period_are_a_finding_not_a_pass(office, run, tmp_path):
    incidents = [r for r in make_incidents() if r["occurred"].startswith("2022")]
    summary = [r for r in summary_of(make_incidents()) if r["year"] == 2021]

    result = run("reconcile", "incidents", "summary", "--incident-file", write_csv(tmp_path / "i.csv", incidents),
                 "--summary-file", write_csv(tmp_path / "s.csv", summary), "--format", "json")

    assert result.exit_code == 1
    [finding] = json.loads(result.output)["findings"]
    assert finding["check"] == "reconciliation" and finding["severity"] == "error"
    assert finding["message"].startswith("the incident data (2022 to 2022) and the summary table (summary, 2021 to 2021) "
                                         "share no year, so nothing was compared")


def test_a_suites_own_uniqueness_check_gives_keyed_counted_findings_at_its_severity(office, tmp_path):
    from tests.conftest import add_dataset

    add_dataset(office, "calls", {"resources": [{"name": "calls", "schema": {"primaryKey": ["call_id"], "fields": [
        {"name": "call_id", "type": "string"}, {"name": "block", "type": "string"}, {"name": "time", "type": "string"},
        {"name": "offense", "type": "string"}]}}]},
        [{"type": "expect_compound_columns_to_be_unique", "severity": "warning",
          "kwargs": {"column_list": ["block", "time", "offense"]}}])
    calls = tmp_path / "calls.csv"
    calls.write_text("call_id,block,time,offense\nC1,100 MAIN ST,6:00,Larceny\nC2,100 MAIN ST,6:00,Larceny\n"
                     "C3,100 MAIN ST,6:00,Larceny\nC4,200 ELM ST,7:00,Robbery\n")

    [finding] = pipeline.check(office, "calls", calls).findings

    assert (finding.check, finding.severity, finding.observed) == ("unique", "warning", 3)
    assert finding.key == {"call_id": "C1"} and finding.columns == ["block", "time", "offense"]
    assert "100 MAIN ST" in finding.message and "occurs 3 times" in finding.message


def test_a_missing_value_finding_says_what_is_missing_on_which_row(office, tmp_path):
    rows = make_incidents()
    rows[2]["incident_id"] = ""

    [finding] = [f for f in pipeline.check(office, "incidents", write_csv(tmp_path / "gap.csv", rows)).findings
                 if f.check == "not-null"]

    assert finding.key == {"incident_id": None} and finding.columns == ["incident_id"]
    assert finding.message == "incident_id is missing, but every row must have it" and finding.observed is None
