"""Summary tables as cities publish them beside their incident data: rows that must add up to a total row,
and two tables of the same period that must agree."""

from __future__ import annotations

import json

import yaml

from tests.conftest import NEIGHBOURHOODS, add_dataset, define_neighbourhoods_and_offences, neighbourhoods_against_offences

CITYWIDE = {"type": "expect_totals_to_match", "kwargs": {
    "parts": {"columns": ["violent", "property"], "where": [{"column": "neighborhood", "not_in": ["Citywide"]}]},
    "total": {"columns": ["violent", "property"], "where": [{"column": "neighborhood", "in": ["Citywide"]}]},
    "by": {"period": "period"}}}


def test_neighbourhood_rows_must_add_up_to_the_citywide_row_period_by_period(workspace, run):
    define_neighbourhoods_and_offences(workspace, suite=[CITYWIDE])
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
    arguments = neighbourhoods_against_offences(workspace)

    result = run(*arguments, "--format", "json")

    findings = json.loads(result.output)["findings"]
    assert result.exit_code == 1
    assert [(f["check"], f["key"], f["message"]) for f in findings] == [(
        "total-mismatch", {"period": "2026-05"},
        "period 2026-05: violent over 3 rows sums to 6, but the total (count in offences) is 7 (1 missing from the rows)")]


RECENT = ('"","description","5/26-6/8","vs. 5/12-5/25"\n"1","Agg. Assault",247,26.6666666666667\n'
          '"2","Homicide",4,33.3333333333333\n')
BY_NEIGHBOURHOOD = ('"","neighborhood","Violent 5/26-6/8","Violent 5/12-5/25","Property 5/26-6/8","Property 5/12-5/25"\n'
                    '"1","ABELL",1,0,1,8\n"2","ALLENDALE",0,3,3,2\n')


def reshaped(workspace, name: str, templates: list[dict], fields: list[dict], key: list[str]) -> None:
    add_dataset(workspace, name, {
        "name": name, "licenses": [{"name": "PDDL-1.0"}],
        "resources": [{"name": name, "reshape": {"columns": templates}, "schema": {"primaryKey": key, "fields": [
            {"name": "row", "type": "integer", "aliases": ["column1"], "description": "R's row number."}, *fields]}}]},
        [])


def recent_offences(workspace) -> None:
    """The city's two-week offence table: its count and its change are in columns named for their periods."""
    reshaped(workspace, "recent", [{"header": "{period}", "field": "count"}, {"header": "vs. {previous}", "field": "change"}],
             [{"name": "description", "type": "string", "description": "Offence."},
              {"name": "period", "type": "string", "description": "The two weeks counted."},
              {"name": "previous", "type": "string", "description": "The two weeks compared with."},
              {"name": "count", "type": "integer", "description": "Offences."},
              {"name": "change", "type": "number", "description": "Percent change."}], ["description", "period"])


def test_a_table_whose_period_is_in_its_headers_is_read_long_with_its_period_as_a_field(workspace, run):
    recent_offences(workspace)
    reshaped(workspace, "areas", [{"header": "Violent {period}", "field": "violent"},
                                  {"header": "Property {period}", "field": "property"}],
             [{"name": "neighborhood", "type": "string", "description": "Neighbourhood."},
              {"name": "period", "type": "string", "description": "The two weeks counted."},
              {"name": "violent", "type": "integer", "description": "Violent offences."},
              {"name": "property", "type": "integer", "description": "Property offences."}], ["neighborhood", "period"])
    (workspace.root / "recent.csv").write_text(RECENT)
    (workspace.root / "areas.csv").write_text(BY_NEIGHBOURHOOD)
    # The next week: other headers, the same fields.
    (workspace.root / "recent-2.csv").write_text(RECENT.replace("5/26-6/8", "6/2-6/15").replace("5/12-5/25", "5/19-6/1"))

    for name, file in (("recent", "recent.csv"), ("areas", "areas.csv"), ("recent", "recent-2.csv")):
        result = run("ingest", name, workspace.root / file, "--format", "json")
        assert result.exit_code == 0, result.output
    areas = json.loads(run("diff", "areas", "--from", "1", "--to", "1", "--format", "json").output)
    week_2 = json.loads(run("diff", "recent", "--from", "1", "--to", "2", "--format", "json").output)

    assert areas["to"]["rows"] == 4  # two neighbourhoods x two periods
    assert sorted((c["change"], c["key"]["period"]) for c in week_2["changes"]) == [
        ("added", "6/2-6/15"), ("added", "6/2-6/15"), ("removed", "5/26-6/8"), ("removed", "5/26-6/8")]
    report = json.loads(run("check", "recent", workspace.root / "recent.csv", "--format", "json").output)
    assert [n["kind"] for n in report["normalisations"]] == ["reshape"]
    assert "(1 per file row: 5/26-6/8)" in report["normalisations"][0]["description"]


def test_headers_that_match_no_template_or_a_template_naming_no_field_are_refused(workspace, run):
    reshaped(workspace, "recent", [{"header": "Violent {period}", "field": "count"}],
             [{"name": "description", "type": "string", "description": "Offence."},
              {"name": "period", "type": "string", "description": "Period."},
              {"name": "count", "type": "integer", "description": "Offences."}], ["description", "period"])
    (workspace.root / "recent.csv").write_text(RECENT)

    result = run("check", "recent", workspace.root / "recent.csv")

    assert result.exit_code == 2
    assert "no column matches the descriptor's reshape templates ('Violent {period}')" in result.output


def test_incidents_reconcile_with_a_summary_whose_periods_are_its_own_date_ranges(workspace, run):
    recent_offences(workspace)
    add_dataset(workspace, "incidents", {
        "name": "incidents", "licenses": [{"name": "PDDL-1.0"}],
        "reconcile": [{"summary": "recent", "period": "occurred", "category": "code",
                       "summary_period": {"field": "period", "format": "%m/%d"},
                       "summary_category": "description", "summary_count": "count",
                       "counts": {"Agg. Assault": ["aggravated_assault"], "Homicide": ["homicide"]}}],
        "resources": [{"name": "incidents", "schema": {"matchKey": ["occurred", "code"], "fields": [
            {"name": "occurred", "type": "date", "description": "When."},
            {"name": "code", "type": "string", "description": "Offence code.",
             "categories": {"4A": "aggravated_assault", "1A": "homicide", "6C": "larceny"}}]}}]}, [])
    # 5/26 to 6/8: 3 assaults and 1 homicide; one assault on 5/25 and one on 6/9 lie outside the range.
    (workspace.root / "i.csv").write_text("occurred,code\n2026-05-25,4A\n2026-05-26,4A\n2026-06-01,4A\n2026-06-08,4A\n"
                                          "2026-06-03,1A\n2026-06-04,6C\n2026-06-09,4A\n")
    (workspace.root / "s.csv").write_text('"","description","5/26-6/8","vs. 5/12-5/25"\n"1","Agg. Assault",3,0\n'
                                          '"2","Homicide",2,0\n')

    result = run("reconcile", "incidents", "recent", "--incident-file", workspace.root / "i.csv",
                 "--summary-file", workspace.root / "s.csv", "--format", "json")

    findings = json.loads(result.output)["findings"]
    assert result.exit_code == 1
    assert [(f["key"], f["message"]) for f in findings] == [(
        {"period": "5/26-6/8"},
        "period 5/26-6/8: the summary table (recent) gives 2 for Homicide, but the incident data count 1 (homicide)")]


def test_init_reads_a_summary_whose_headers_carry_its_dates_long(workspace, run):
    """Issue 28: a summary's dated headers became fields, so the next week (other headers) was exit 2. init writes
    the reshape that reads them as rows (the repeated dates a period, the one beside them `previous`), with the
    period in the key, and the next week's table then reads, one period's rows added and the last one's removed."""
    (workspace.root / "recent.csv").write_text(RECENT)
    (workspace.root / "recent-2.csv").write_text(RECENT.replace("5/26-6/8", "6/2-6/15").replace("5/12-5/25", "5/19-6/1"))
    (workspace.root / "areas.csv").write_text(BY_NEIGHBOURHOOD)

    assert run("init", "recent", workspace.root / "recent.csv").exit_code == 0
    assert run("init", "areas", workspace.root / "areas.csv").exit_code == 0

    descriptors = {name: yaml.safe_load((workspace.root / "datapackages" / name / "datapackage.yaml").read_text())
                   for name in ("recent", "areas")}
    recent, areas = (descriptors[n]["resources"][0] for n in ("recent", "areas"))
    assert recent["reshape"] == {"columns": [{"header": "{period}", "field": "value"},
                                             {"header": "vs. {previous}", "field": "vs"}]}
    assert areas["reshape"] == {"columns": [{"header": "Violent {period}", "field": "violent"},
                                            {"header": "Property {period}", "field": "property"}]}
    assert recent["schema"]["primaryKey"] == ["description", "period"]
    assert areas["schema"]["primaryKey"] == ["neighborhood", "period"] and areas["skipColumns"] == ["column1"]
    for version, file in (("1", "recent.csv"), ("2", "recent-2.csv")):
        assert run("ingest", "recent", workspace.root / file, "--version", version).exit_code == 0
    week_2 = json.loads(run("diff", "recent", "--from", "1", "--to", "2", "--format", "json").output)
    assert sorted((c["change"], c["key"]["period"]) for c in week_2["changes"]) == [
        ("added", "6/2-6/15"), ("added", "6/2-6/15"), ("removed", "5/26-6/8"), ("removed", "5/26-6/8")]


def year_to_date(workspace, summary_period: dict) -> None:
    """A year-to-date summary ("2026 thru 6/8", "2025 thru 6/8": its date in its headers) and the incidents it
    counts."""
    reshaped(workspace, "ytd", [{"header": "2026 thru {period}", "field": "count"},
                                {"header": "2025 thru {previous}", "field": "last_year"}],
             [{"name": "offense", "type": "string", "description": "Offence."},
              {"name": "period", "type": "string", "description": "The last day counted."},
              {"name": "previous", "type": "string", "description": "The same day last year."},
              {"name": "count", "type": "integer", "description": "Offences this year to date."},
              {"name": "last_year", "type": "integer", "description": "Offences last year to the same day."}],
             ["offense", "period"])
    add_dataset(workspace, "incidents", {
        "name": "incidents", "licenses": [{"name": "PDDL-1.0"}],
        "reconcile": [{"summary": "ytd", "period": "occurred", "category": "code", "summary_period": summary_period,
                       "summary_category": "offense", "summary_count": "count",
                       "counts": {"Agg. Assault": ["aggravated_assault"], "Homicide": ["homicide"]}}],
        "resources": [{"name": "incidents", "schema": {"matchKey": ["occurred", "code"], "fields": [
            {"name": "occurred", "type": "date", "description": "When."},
            {"name": "code", "type": "string", "description": "Offence code.",
             "categories": {"4A": "aggravated_assault", "1A": "homicide"}}]}}]}, [])
    # 2026 to 6/8: 3 assaults (one on 1 January) and 1 homicide; one assault on 6/9 is after it.
    (workspace.root / "i.csv").write_text("occurred,code\n2026-01-01,4A\n2026-03-14,4A\n2026-06-08,4A\n"
                                          "2026-02-03,1A\n2026-06-09,4A\n")


def test_a_year_to_date_summary_reconciles_from_the_first_of_january(workspace, run):
    """Issue 28: reconciling the year-to-date table was an internal error. `from: year` counts each period from 1
    January of its date's year to the date."""
    year_to_date(workspace, {"field": "period", "format": "%m/%d", "from": "year"})
    (workspace.root / "s.csv").write_text('"","offense","2026 thru 6/8","2025 thru 6/8"\n"1","Agg. Assault",3,5\n'
                                          '"2","Homicide",2,1\n')

    result = run("reconcile", "incidents", "ytd", "--incident-file", workspace.root / "i.csv",
                 "--summary-file", workspace.root / "s.csv", "--format", "json")

    findings = json.loads(result.output)["findings"]
    assert result.exit_code == 1, result.output
    assert [(f["key"], f["message"]) for f in findings] == [(
        {"period": "6/8"},
        "period 6/8: the summary table (ytd) gives 2 for Homicide, but the incident data count 1 (homicide)")]


def test_a_summary_period_that_is_no_date_is_a_finding_not_an_internal_error(workspace, run):
    year_to_date(workspace, {"field": "period", "format": "%m/%d"})
    (workspace.root / "s.csv").write_text('"","offense","2026 thru June 8","2025 thru June 8"\n'
                                          '"1","Agg. Assault",3,5\n')

    result = run("reconcile", "incidents", "ytd", "--incident-file", workspace.root / "i.csv",
                 "--summary-file", workspace.root / "s.csv", "--format", "json")

    assert result.exit_code == 1, result.output
    assert [f["message"] for f in json.loads(result.output)["findings"]] == [
        "the summary table (ytd) gives its period as 'June 8', which is no date or range of dates written '%m/%d' "
        "(a range: 5/26-6/8, 5/26 thru 6/8): its figures were not compared"]


def test_a_figure_declared_once_reconciles_every_table_the_export_ships(workspace, run):
    """Issue 28: shootings are aggravated assaults and homicides with a firearm. Declared once in the incident
    descriptor's `figures`, both the two-week table and the year-to-date table reconcile them; a figure named like
    a category is refused."""
    recent_offences(workspace)
    reshaped(workspace, "ytd", [{"header": "2026 thru {period}", "field": "count"}],
             [{"name": "description", "type": "string", "description": "Offence."},
              {"name": "period", "type": "string", "description": "The last day counted."},
              {"name": "count", "type": "integer", "description": "This year to date."}], ["description", "period"])
    shootings = {"Shootings": "shootings"}
    add_dataset(workspace, "incidents", {
        "name": "incidents", "licenses": [{"name": "PDDL-1.0"}],
        "figures": {"shootings": {"categories": ["aggravated_assault", "homicide"],
                                  "where": [{"column": "weapon", "in": ["Firearm"]}]}},
        "reconcile": [
            {"summary": "recent", "period": "occurred", "category": "code", "summary_category": "description",
             "summary_period": {"field": "period", "format": "%m/%d"}, "summary_count": "count", "counts": shootings},
            {"summary": "ytd", "period": "occurred", "category": "code", "summary_category": "description",
             "summary_period": {"field": "period", "format": "%m/%d", "from": "year"}, "summary_count": "count",
             "counts": shootings}],
        "resources": [{"name": "incidents", "schema": {"matchKey": ["occurred", "code"], "fields": [
            {"name": "occurred", "type": "date", "description": "When."},
            {"name": "code", "type": "string", "description": "Offence code.",
             "categories": {"4A": "aggravated_assault", "1A": "homicide", "3A": "robbery"}},
            {"name": "weapon", "type": "string", "description": "Weapon."}]}}]}, [])
    # Shootings 5/26-6/8: 2 (an assault and a homicide with a firearm; the knife and the robbery do not count).
    # This year to 6/8: those 2 and one in March. (Robberies on 1 January and 9 June: the incident data cover both
    # tables' periods, which are compared only then.)
    (workspace.root / "i.csv").write_text(
        "occurred,code,weapon\n2026-01-01,3A,\n2026-03-02,4A,Firearm\n2026-05-27,4A,Firearm\n2026-06-01,1A,Firearm\n"
        "2026-06-02,4A,Knife\n2026-06-03,3A,Firearm\n2026-06-09,3A,\n")
    (workspace.root / "recent.csv").write_text('"","description","5/26-6/8","vs. 5/12-5/25"\n"1","Shootings",2,0\n')
    (workspace.root / "ytd.csv").write_text('"","description","2026 thru 6/8"\n"1","Shootings",4\n')

    def reconcile(summary: str):
        result = run("reconcile", "incidents", summary, "--incident-file", workspace.root / "i.csv",
                     "--summary-file", workspace.root / f"{summary}.csv", "--format", "json")
        return result.exit_code, [f["message"] for f in json.loads(result.output)["findings"]]

    assert reconcile("recent") == (0, [])
    assert reconcile("ytd") == (1, ["period 6/8: the summary table (ytd) gives 4 for Shootings, but the incident "
                                    "data count 3 (aggravated_assault + homicide)"])
    descriptor = workspace.root / "datapackages" / "incidents" / "datapackage.yaml"
    descriptor.write_text(descriptor.read_text().replace("shootings:", "homicide:", 1))
    clash = run("reconcile", "incidents", "recent", "--incident-file", workspace.root / "i.csv",
                "--summary-file", workspace.root / "recent.csv")
    assert clash.exit_code == 2 and "figures: 'homicide' is also a category" in clash.output
