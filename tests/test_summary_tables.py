"""Summary tables as cities publish them beside their incident data: rows that must add up to a total row,
and two tables of the same period that must agree."""

from __future__ import annotations

import json

from tests.conftest import add_dataset

NEIGHBOURHOODS = ("neighborhood,period,violent,property\n"
                  "ABELL,2026-06,1,1\nALLENDALE,2026-06,0,3\nBARCLAY,2026-06,4,9\nCitywide,2026-06,5,13\n"
                  "ABELL,2026-05,2,0\nALLENDALE,2026-05,3,2\nBARCLAY,2026-05,1,4\nCitywide,2026-05,6,6\n")
OFFENCES = ("period,description,count\n"
            "2026-06,Homicide,1\n2026-06,Robbery,2\n2026-06,Agg. Assault,2\n2026-06,Larceny,13\n"
            "2026-05,Homicide,0\n2026-05,Robbery,3\n2026-05,Agg. Assault,3\n2026-05,Larceny,6\n")
VIOLENT = ["Homicide", "Rape", "Robbery", "Agg. Assault"]


def define(workspace, reconcile=None, suite=()):
    add_dataset(workspace, "neighbourhoods", {
        "name": "neighbourhoods", "licenses": [{"name": "PDDL-1.0"}], **({"reconcile": reconcile} if reconcile else {}),
        "resources": [{"name": "neighbourhoods", "schema": {"primaryKey": ["neighborhood", "period"], "fields": [
            {"name": "neighborhood", "type": "string", "description": "Neighbourhood, or Citywide."},
            {"name": "period", "type": "string", "description": "Month."},
            {"name": "violent", "type": "integer", "description": "Violent offences."},
            {"name": "property", "type": "integer", "description": "Property offences."},
        ]}}]}, list(suite))
    add_dataset(workspace, "offences", {
        "name": "offences", "licenses": [{"name": "PDDL-1.0"}],
        "resources": [{"name": "offences", "schema": {"primaryKey": ["period", "description"], "fields": [
            {"name": "period", "type": "string", "description": "Month."},
            {"name": "description", "type": "string", "description": "Offence."},
            {"name": "count", "type": "integer", "description": "Offences."},
        ]}}]}, [])


CITYWIDE = {"type": "expect_totals_to_match", "kwargs": {
    "parts": {"columns": ["violent", "property"], "where": [{"column": "neighborhood", "not_in": ["Citywide"]}]},
    "total": {"columns": ["violent", "property"], "where": [{"column": "neighborhood", "in": ["Citywide"]}]},
    "by": {"period": "period"}}}


def test_neighbourhood_rows_must_add_up_to_the_citywide_row_period_by_period(workspace, run):
    define(workspace, suite=[CITYWIDE])
    short = NEIGHBOURHOODS.replace("BARCLAY,2026-05,1,4", "BARCLAY,2026-05,1,3")
    (workspace.root / "n.csv").write_text(short)

    result = run("check", "neighbourhoods", workspace.root / "n.csv", "--format", "json")

    findings = json.loads(result.output)["findings"]
    assert result.exit_code == 1
    assert [(f["check"], f["key"], f["message"]) for f in findings] == [(
        "total-mismatch", {"period": "2026-05"},
        "period 2026-05: property over 3 rows sums to 5, but the total (property) is 6 (1 missing from the rows)")]
    (workspace.root / "ok.csv").write_text(NEIGHBOURHOODS)
    assert run("check", "neighbourhoods", workspace.root / "ok.csv").exit_code == 0


def test_a_neighbourhood_table_reconciles_with_the_city_offence_table_of_the_same_period(workspace, run):
    define(workspace, reconcile=[{
        "summary": "offences", "by": {"period": "period"},
        "totals": {"parts": {"columns": ["violent"], "where": [{"column": "neighborhood", "not_in": ["Citywide"]}]},
                   "total": {"columns": ["count"], "where": [{"column": "description", "in": VIOLENT}]}}}])
    (workspace.root / "n.csv").write_text(NEIGHBOURHOODS)
    (workspace.root / "o.csv").write_text(OFFENCES.replace("2026-05,Robbery,3", "2026-05,Robbery,4"))

    result = run("reconcile", "neighbourhoods", "offences", "--incident-file", workspace.root / "n.csv",
                 "--summary-file", workspace.root / "o.csv", "--format", "json")

    findings = json.loads(result.output)["findings"]
    assert result.exit_code == 1
    assert [(f["check"], f["key"], f["message"]) for f in findings] == [(
        "total-mismatch", {"period": "2026-05"},
        "period 2026-05: violent over 3 rows sums to 6, but the total (count in offences) is 7 (1 missing from the rows)")]
