"""Weekly incident data with no incident id: rows are matched between releases as multisets, never by their
place in the file, and an incident moved between offences is one reclassification wherever the offence sits."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.conftest import WEEK_1, WEEKLY_CATEGORIES, add_dataset, define_weekly_incidents, diff_changes, log_rows


def diff(run, workspace, name: str, week_1: str, week_2: str) -> dict:
    for version, text in (("1", week_1), ("2", week_2)):
        path = workspace.root / f"{name}-{version}.csv"
        path.write_text(text)
        assert run("ingest", name, path, "--version", version).exit_code == 0
    result = run("diff", name, "--from", "1", "--to", "2", "--format", "json")
    return json.loads(result.output)


@pytest.fixture(params=["matchKey", "primaryKey"])
def keyed(request, workspace):
    """The same incidents keyed without the offence (a key that repeats) and with it (offence, time, block)."""
    key = {"matchKey": ["occurred", "block"]} if request.param == "matchKey" else \
        {"primaryKey": ["offense", "occurred", "block"]}
    define_weekly_incidents(workspace, "weekly", key)
    return request.param


def test_rows_that_swap_places_are_no_change(keyed, run, workspace):
    lines = WEEK_1.splitlines()
    swapped = "\n".join([lines[0], lines[2], lines[1], lines[4], lines[3], lines[5]]) + "\n"

    result = diff(run, workspace, "weekly", WEEK_1, swapped)

    assert diff_changes(result) == []
    assert result["reclassifications"] == []


def test_an_incident_moved_to_another_offence_is_one_reclassification_and_a_downgrade(keyed, run, workspace):
    week_2 = WEEK_1.replace("300 W RD,Robbery,Knife", "300 W RD,Larceny,Knife")

    result = diff(run, workspace, "weekly", WEEK_1, week_2)

    assert diff_changes(result) == [("changed", "offense", "Robbery", "Larceny")]
    assert [(m["from_category"], m["to_category"], m["incidents"], m["downgrade"])
            for m in result["reclassifications"]] == [("robbery", "larceny", 1, True)]
    ways = result["matching"]
    assert ways["reclassified"] == (1 if keyed == "primaryKey" else 0)
    assert ways["identical"] == (4 if keyed == "matchKey" else 0)


def test_a_new_incident_at_the_time_and_place_of_another_is_an_addition_not_a_reclassification(keyed, run, workspace):
    week_2 = WEEK_1 + "2026-06-02 11:00,200 E ST,Larceny,\n"
    lines = week_2.splitlines()
    reordered = "\n".join([lines[0], lines[1], lines[2], lines[3], lines[6], lines[4], lines[5]]) + "\n"

    result = diff(run, workspace, "weekly", WEEK_1, reordered)

    assert diff_changes(result) == [("added", None, None, None)]
    assert result["reclassifications"] == []  # never a false "rape -> larceny" downgrade


def test_the_text_diff_says_how_rows_were_matched(run, workspace):
    define_weekly_incidents(workspace, "weekly", {"primaryKey": ["offense", "occurred", "block"]})
    week_2 = WEEK_1.replace("300 W RD,Robbery,Knife", "300 W RD,Auto theft,Knife")
    diff(run, workspace, "weekly", WEEK_1, week_2)

    text = run("diff", "weekly", "--from", "1", "--to", "2").output

    assert "rows matched: 4 by key, 1 as one incident reclassified (only category fields differ)" in text


def test_a_weekly_check_can_count_changes_since_the_last_recorded_release_and_says_so(run, workspace):
    define_weekly_incidents(workspace, "weekly", {"matchKey": ["occurred", "block"]})
    week_2 = WEEK_1 + "2026-06-04 08:00,400 S BLVD,Larceny,\n"
    week_3 = week_2 + "2026-06-05 08:00,500 S BLVD,Larceny,\n"
    notes = workspace.root / "notes.yaml"
    notes.write_text("version: 1\nnotes:\n  - id: new-incidents\n    reason: Incidents reported this week.\n"
                     "    approved_by: Crime analysis unit\n")
    for version, text in (("1", WEEK_1), ("2", week_2)):
        path = workspace.root / f"week-{version}.csv"
        path.write_text(text)
        assert run("ingest", "weekly", path, "--version", version, "--notes", notes).exit_code == 0
        if version == "1":
            assert run("publish", "weekly").exit_code == 0, "the first week is published"
    path = workspace.root / "week-3.csv"
    path.write_text(week_3)

    weekly = run("check", "weekly", path, "--against", "recorded")
    monthly = run("check", "weekly", path)

    assert "REVISIONS since the recorded release 2: 1 added; 0 explained by a note, 1 unexplained" in weekly.output
    assert "REVISIONS since the published release 1: 2 added; 0 explained by a note, 2 unexplained" in monthly.output
    assert "this row was added since the recorded release 2" in weekly.output
    # Recorded against the previous week, a release is not published until it is compared with what is published.
    assert run("ingest", "weekly", path, "--version", "3", "--against", "recorded", "--notes", notes).exit_code == 0
    refused = run("publish", "weekly", "--version", "3")
    assert refused.exit_code == 2
    assert ("release 3 was compared with the recorded release 2 (--against recorded), not with the published "
            "release 1") in refused.output
    dry = run("publish", "weekly", "--version", "3", "--dry-run")
    assert dry.exit_code == 2
    assert ("refused: weekly cannot be published without a comparison with the published release 1 (release 3 was "
            "compared with the recorded release 2") in dry.output


def test_rows_leaving_and_entering_a_rolling_window_are_expected_and_a_change_inside_it_is_not(run, workspace):
    add_dataset(workspace, "window", {
        "name": "window", "licenses": [{"name": "PDDL-1.0"}], "window": {"field": "occurred", "length": "7 days"},
        "resources": [{"name": "window", "schema": {"matchKey": ["occurred", "block"], "fields": [
            {"name": "occurred", "type": "date", "description": "When it occurred."},
            {"name": "block", "type": "string", "description": "Block location."},
            {"name": "offense", "type": "string", "description": "Offence.", "categories": WEEKLY_CATEGORIES},
        ]}}]}, [])
    week_1 = ("occurred,block,offense\n2026-06-01,100 N AVE,Larceny\n2026-06-03,200 E ST,Robbery\n"
              "2026-06-06,300 W RD,Larceny\n2026-06-07,400 S BLVD,Robbery\n")
    # A week later: the window is June 7-14; June 1-6 have left it; June 9 and 14 entered it; June 7 was revised.
    week_2 = ("occurred,block,offense\n2026-06-07,400 S BLVD,Larceny\n2026-06-09,500 N AVE,Robbery\n"
              "2026-06-14,600 E ST,Larceny\n")

    result = diff(run, workspace, "window", week_1, week_2)

    kinds = [(c["change"], c["key"]["occurred"], c["note_id"]) for c in result["changes"]]
    assert sorted(kinds) == sorted([
        ("removed", "2026-06-01", "window-left"), ("removed", "2026-06-03", "window-left"),
        ("removed", "2026-06-06", "window-left"), ("changed", "2026-06-07", None),
        ("added", "2026-06-09", "window-entered"), ("added", "2026-06-14", "window-entered")])
    assert result["counts"]["unexplained"] == 1


def test_a_column_whose_values_all_changed_form_is_one_format_change_not_thousands_of_revisions(run, workspace):
    add_dataset(workspace, "times", {
        "name": "times", "licenses": [{"name": "PDDL-1.0"}],
        "resources": [{"name": "times", "schema": {"matchKey": ["day", "time", "block"], "fields": [
            {"name": "day", "type": "date", "description": "Day."},
            {"name": "time", "type": "string", "description": "Time of day, as published."},
            {"name": "block", "type": "string", "description": "Block location."},
            {"name": "offense", "type": "string", "description": "Offence.", "categories": WEEKLY_CATEGORIES},
        ]}}]}, [])
    rows = [(f"2026-06-{d:02d}", h, f"{d}00 N AVE") for d in range(1, 8) for h in (6, 9, 11)]
    week_1 = "day,time,block,offense\n" + "".join(f"{d},{h}:00:00,{b},Larceny\n" for d, h, b in rows)
    week_2 = "day,time,block,offense\n" + "".join(f"{d},{h}:00,{b},Larceny\n" for d, h, b in rows)
    for version, text in (("1", week_1), ("2", week_2)):
        path = workspace.root / f"t{version}.csv"
        path.write_text(text)
    run("ingest", "times", workspace.root / "t1.csv", "--version", "1")
    assert run("publish", "times").exit_code == 0

    result = run("check", "times", workspace.root / "t2.csv", "--format", "json")

    findings = [f for f in json.loads(result.output)["findings"] if f["severity"] == "error"]
    assert [(f["check"], f["columns"]) for f in findings] == [("format-change", ["time"])]
    assert "every value of time changed form ('11:00:00' became '11:00', no value written as before): " \
           "21 rows removed, 21 rows added" in findings[0]["message"]


def test_with_every_column_in_the_match_key_a_change_is_a_row_removed_and_one_added(run, workspace):
    """A key of every column leaves no column to compare: a changed cell can only show as its old row gone and its
    new row come (the diff named its columns by its first part, which was then the added rows')."""
    add_dataset(workspace, "logged", {"name": "logged", "licenses": [{"name": "PDDL-1.0"}], "resources": [
        {"name": "logged", "schema": {"matchKey": ["block", "offense"], "fields": [
            {"name": "block", "type": "string", "description": "Block location."},
            {"name": "offense", "type": "string", "description": "Offence."}]}}]}, [])
    week = "block,offense\n100 N AVE,Larceny\n200 E ST,Robbery\n"

    result = diff(run, workspace, "logged", week, week.replace("Robbery", "Burglary"))

    assert sorted(c["change"] for c in result["changes"]) == ["added", "removed"]


def test_an_exports_row_number_is_skipped_so_rows_that_moved_are_no_revision(run, workspace, tmp_path):
    """Exports write an unnamed row number first: `init` writes it as the resource's skipColumns, not a field, so
    the same incidents in another order (renumbered) revise nothing."""
    week = tmp_path / "week.csv"
    week.write_text('"","occurred","block","offense"\n"1","2026-06-01 10:00","100 N AVE","Larceny"\n'
                    '"2","2026-06-02 11:00","200 E ST","Robbery"\n"3","2026-06-03 09:00","300 W RD","Rape"\n')
    moved = tmp_path / "moved.csv"
    moved.write_text('"","occurred","block","offense"\n"1","2026-06-03 09:00","300 W RD","Rape"\n'
                     '"2","2026-06-01 10:00","100 N AVE","Larceny"\n"3","2026-06-02 11:00","200 E ST","Robbery"\n')
    assert run("init", "export", week).exit_code == 0
    descriptor = yaml.safe_load((workspace.root / "datapackages" / "export" / "datapackage.yaml").read_text())
    assert descriptor["resources"][0]["skipColumns"] == ["column1"]
    assert "column1" not in [f["name"] for f in descriptor["resources"][0]["schema"]["fields"]]
    assert run("ingest", "export", week).exit_code == 0

    result = run("check", "export", moved, "--against", "recorded", "--format", "json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["revisions"]["counts"] == {"explained": 0, "unexplained": 0}


def test_a_later_week_may_say_an_age_is_unknown_in_words_its_first_week_never_used(run, workspace, tmp_path):
    """init declares the markers the first export holds; a later week's 'None reported' or 'Unknown' in a number
    column is read as missing, and recorded as such, rather than refusing the week."""
    first = tmp_path / "first.csv"
    first.write_text("occurred,block,age\n2026-06-01 10:00,100 N AVE,34\n2026-06-02 11:00,200 E ST,\n")
    later = tmp_path / "later.csv"
    later.write_text("occurred,block,age\n2026-06-01 10:00,100 N AVE,34\n2026-06-02 11:00,200 E ST,None reported\n"
                     "2026-06-03 09:00,300 W RD,Unknown\n")
    assert run("init", "ages", first).exit_code == 0
    assert run("ingest", "ages", first).exit_code == 0

    result = run("check", "ages", later, "--against", "recorded", "--format", "json")

    report = json.loads(result.stdout)
    assert result.exit_code in (0, 1) and "error" not in report, result.output
    assert [(n["kind"], n["count"]) for n in report["normalisations"] if n["kind"] == "missing-marker"] == [
        ("missing-marker", 2)]


# An export with the date and the time of day apart, as many cities ship them; the time drifts between the 24-hour
# and the 12-hour clock from one week to the next.
TIMES_24 = ("crime_date,crime_time,block,offense\n"
            "2026-06-01,21:00:00,100 N AVE,Larceny\n2026-06-01,9:05,200 E ST,Robbery\n"
            "2026-06-02,00:30:00,300 W RD,Burglary\n2026-06-02,12:15:00,400 S ST,Larceny\n")
TIMES_12 = ("crime_date,crime_time,block,offense\n"
            "2026-06-01,9:00 p.m.,100 N AVE,Larceny\n2026-06-01,9:05 AM,200 E ST,Robbery\n"
            "2026-06-02,12:30 a.m.,300 W RD,Burglary\n2026-06-02,12:15 p.m.,400 S ST,Larceny\n"
            "2026-06-03,7:45 pm,500 N AVE,Robbery\n")


def test_times_that_drift_between_the_24_and_the_12_hour_clock_are_one_time_and_no_revision(workspace, run):
    """Issue 28: `h:mm:ss` one week and `h:mm a.m.` the next were unexplained revisions, or a relabel of 9:00:00 as
    21:00:00. init types such a column as a time of any form; the same instant is the same value, in the key too."""
    first = workspace.root / "week-1.csv"
    first.write_text(TIMES_24)
    assert run("init", "times", first).exit_code == 0
    descriptor = yaml.safe_load((workspace.root / "datapackages" / "times" / "datapackage.yaml").read_text())
    schema = descriptor["resources"][0]["schema"]
    time = next(f for f in schema["fields"] if f["name"] == "crime_time")
    assert (time["type"], time["format"]) == ("time", "any")
    assert "crime_time" in schema.get("primaryKey", schema.get("matchKey"))

    result = diff(run, workspace, "times", TIMES_24, TIMES_12)

    assert diff_changes(result) == [("added", None, None, None)]  # the one new incident, 2026-06-03
    check = run("check", "times", workspace.root / "times-2.csv", "--against", "recorded", "--format", "json")
    normalised = {n["kind"]: n["count"] for n in json.loads(check.output)["normalisations"]}
    assert normalised["twelve-hour-times"] == 5


@pytest.mark.parametrize("cell", ["13:00 pm", "9:00 x.m.", "25:00"])
def test_a_time_that_is_no_time_on_either_clock_is_refused(workspace, run, cell):
    first = workspace.root / "week-1.csv"
    first.write_text(TIMES_24)
    assert run("init", "times", first).exit_code == 0
    bad = workspace.root / "bad.csv"
    bad.write_text(TIMES_24.replace("9:05", cell))

    result = run("check", "times", bad)

    assert result.exit_code == 2 and f"{cell!r} is not a valid time for field 'crime_time'" in result.output


def _windowed(workspace, name: str, window: dict) -> None:
    add_dataset(workspace, name, {
        "name": name, "licenses": [{"name": "PDDL-1.0"}], "window": {"field": "occurred", **window},
        "resources": [{"name": name, "schema": {"matchKey": ["occurred", "block"], "fields": [
            {"name": "occurred", "type": "date", "description": "When it occurred."},
            {"name": "block", "type": "string", "description": "Block location."},
            {"name": "offense", "type": "string", "description": "Offence."},
        ]}}]}, [])


def _ingest_as(run, workspace, name: str, file: str, text: str, version: str) -> int:
    path = workspace.root / file
    path.write_text(text)
    return run("ingest", name, path, "--version", version).exit_code


def test_a_sparse_file_s_window_ends_at_the_export_s_date_not_at_its_last_row(run, workspace):
    """Issue 28: a file with no rows on its window's last day ended its window early, so the rows that had left it
    were unexplained removals. With `end: file name` the window ends at the as-of date in the file's name."""
    week_1 = "occurred,block,offense\n2026-06-01,100 N AVE,Arson\n2026-06-05,200 E ST,Arson\n"
    # As of June 14 (a 7-day window: June 8-14). June 1 and June 5 left; nothing happened on June 13 or 14.
    week_2 = "occurred,block,offense\n2026-06-10,300 W RD,Arson\n"
    for name, end in (("by-rows", "latest"), ("by-name", "file name")):
        _windowed(workspace, name, {"length": "7 days", "end": end})
        assert _ingest_as(run, workspace, name, f"{name}-2026-06-07.csv", week_1, "1") == 0
        _ingest_as(run, workspace, name, f"{name}-2026-06-14.csv", week_2, "2")

    by_rows = json.loads(run("diff", "by-rows", "--from", "1", "--to", "2", "--format", "json").output)
    by_name = json.loads(run("diff", "by-name", "--from", "1", "--to", "2", "--format", "json").output)

    # Ending at its last row (June 10), the window would start June 3: June 5 seems removed inside it.
    assert by_rows["counts"]["unexplained"] == 1
    assert [(c["change"], c["key"]["occurred"], c["note_id"]) for c in by_name["changes"]] == [
        ("removed", "2026-06-01", "window-left"), ("removed", "2026-06-05", "window-left"),
        ("added", "2026-06-10", "window-entered")]
    assert by_name["counts"]["unexplained"] == 0


def test_a_year_to_date_export_sheds_the_past_year_at_new_year(run, workspace):
    _windowed(workspace, "ytd", {"start": "year", "end": "file name"})
    december = "occurred,block,offense\n2025-01-03,100 N AVE,Arson\n2025-12-30,200 E ST,Arson\n"
    january = "occurred,block,offense\n2026-01-01,300 W RD,Arson\n"
    assert _ingest_as(run, workspace, "ytd", "ytd-2025-12-31.csv", december, "1") == 0

    assert _ingest_as(run, workspace, "ytd", "ytd-2026-01-02.csv", january, "2") == 0

    result = json.loads(run("diff", "ytd", "--from", "1", "--to", "2", "--format", "json").output)
    assert {c["note_id"] for c in result["changes"]} == {"window-left", "window-entered"}


def test_a_window_ending_at_the_file_name_s_date_needs_a_date_there(run, workspace):
    _windowed(workspace, "named", {"length": "7 days", "end": "file name"})
    assert _ingest_as(run, workspace, "named", "named-2026-06-07.csv", "occurred,block,offense\n2026-06-01,1 A,X\n",
                      "1") == 0

    latest = workspace.root / "latest.csv"
    latest.write_text("occurred,block,offense\n2026-06-08,2 B,X\n")

    result = run("check", "named", latest, "--against", "recorded")

    assert result.exit_code == 2 and "'latest.csv' has none" in result.output


def test_a_row_leaving_the_window_and_another_entering_it_are_two_incidents_not_one_redated(run, workspace):
    """Issue 28: two shoplifting reports alike in all but their date were shown as one incident "relabelled" from
    May 11 to June 2, and publication refused. A date is no label: they are a row that left and one that entered."""
    _windowed(workspace, "shop", {"length": "21 days"})
    may = "occurred,block,offense\n2026-05-11,100 N AVE,Shoplifting\n2026-05-20,200 E ST,Robbery\n"
    june = "occurred,block,offense\n2026-05-20,200 E ST,Robbery\n2026-06-02,100 N AVE,Shoplifting\n"

    result = diff(run, workspace, "shop", may, june)

    assert [(c["change"], c["key"]["occurred"], c["note_id"]) for c in result["changes"]] == [
        ("removed", "2026-05-11", "window-left"), ("added", "2026-06-02", "window-entered")]


EXPORT = (
    ",occurred,block,offense,weapon\n"
    "1,2026-06-01 10:00,100 N AVE,Larceny,\n"
    "2,2026-06-01 14:00,700 W RD,Shoplifting,\n"
    "3,2026-06-02 11:00,200 E ST,Robbery,Firearm\n"
    "4,2026-06-02 16:00,800 N AVE,Robbery - Carjacking,Firearm\n"
    "5,2026-06-03 09:00,300 W RD,AGG. ASSAULT,Knife\n"
    "6,2026-06-03 21:00,900 E ST,Agg. Assault,Firearm\n"
    "7,2026-06-04 13:00,400 S ST,Burglary,\n"
    "8,2026-06-04 15:00,100 S ST,Burglary,\n"
    "9,2026-06-05 15:00,500 N AVE,Shoplifting,\n"
    "10,2026-06-05 19:00,600 E ST,Common Assault,Hands\n"
    "11,2026-06-06 08:00,200 N AVE,Larceny,\n"
    "12,2026-06-06 18:00,600 E ST,Common Assault,Hands\n"
)


def test_init_on_an_export_proposes_offence_categories_so_the_next_week_counts_a_downgrade(run, workspace):
    """Issue 28: no offence categories were proposed, so a reclassification was never counted. init places each
    offence by its words (the offence column found by its values, not its name; the weapon column is no offence
    list), configures the reclassification by the incident's date, and the next week's move from an aggravated to
    a common assault is one downgrade."""
    week_1 = workspace.root / "week-1.csv"
    week_1.write_text(EXPORT)

    init = run("init", "weekly", week_1)

    assert "offence categories proposed: offense (8 values, 8 placed in a category by their words)" in init.output
    descriptor = yaml.safe_load((workspace.root / "datapackages" / "weekly" / "datapackage.yaml").read_text())
    offense = next(f for f in descriptor["resources"][0]["schema"]["fields"] if f["name"] == "offense")
    assert offense["categories"] == {
        "AGG. ASSAULT": "aggravated_assault", "Agg. Assault": "aggravated_assault", "Burglary": "burglary",
        "Common Assault": "simple_assault", "Larceny": "larceny", "Robbery": "robbery",
        "Robbery - Carjacking": "robbery", "Shoplifting": "larceny"}
    assert descriptor["reclassification"] == {"period": "occurred"}
    week_2 = EXPORT.replace("300 W RD,AGG. ASSAULT,Knife", "300 W RD,Common Assault,Knife")

    result = diff(run, workspace, "weekly", EXPORT, week_2)

    assert [(m["from_category"], m["to_category"], m["incidents"], m["downgrade"])
            for m in result["reclassifications"]] == [("aggravated_assault", "simple_assault", 1, True)]


def weeks_of_exports(folder) -> list:
    """Three weekly exports of a rolling window: each repeats the incidents still in it, under a row number of its
    own, and only the third has a victim's age written as a word ('Refused')."""
    incidents = [(f"2026-06-{day:02d} {hour}:00", f"{100 * block} N AVE", offence, age)
                 for day, hour, block, offence, age in [
                     (1, 10, 1, "Robbery", "34"), (1, 10, 2, "Larceny", "51"), (2, 11, 3, "Burglary", ""),
                     (3, 9, 4, "Robbery", "19"), (4, 13, 5, "Larceny", "27"), (5, 15, 6, "Larceny", "62"),
                     (6, 18, 7, "Burglary", "45"), (7, 8, 8, "Robbery", "Refused"), (8, 16, 9, "Larceny", "38")]]
    paths = []
    for week, rows in enumerate([incidents[:5], incidents[2:7], incidents[4:9]], 1):
        path = folder / f"export-week-{week}.csv"
        path.write_text(",occurred,block,offense,victim_age\n"
                        + "".join(f"{n},{','.join(row)}\n" for n, row in enumerate(rows, 1)))
        paths.append(path)
    return paths


def test_init_on_several_weeks_learns_from_all_of_them(run, workspace):
    """Issue 28: init on the first week alone took its markers from it, so a later week's 'Refused' age was exit
    2; and the weeks' repeated incidents must not make the key look repeated. Read together, the weeks give the
    age its own marker, a key unique within each week, and every week then reads."""
    weeks = weeks_of_exports(workspace.root)

    init = run("init", "weekly", *weeks)

    assert init.exit_code == 0, init.output
    assert init.output.startswith("3 files (export-week-1.csv to export-week-3.csv): 15 rows, 5 columns\n")
    assert "key proposed: occurred + block\n" in init.output  # when and where, unique within each week
    descriptor = yaml.safe_load((workspace.root / "datapackages" / "weekly" / "datapackage.yaml").read_text())
    resource = descriptor["resources"][0]
    age = next(f for f in resource["schema"]["fields"] if f["name"] == "victim_age")
    assert age["type"] == "integer" and "Refused" in age["missingValues"]
    assert resource["skipColumns"] == ["column1"] and "primaryKey" in resource["schema"]
    for week in weeks:
        assert run("check", "weekly", week).exit_code == 0, week.name
    alone = run("init", "first-week-only", weeks[0])
    assert alone.exit_code == 0
    assert run("check", "first-week-only", weeks[2]).exit_code == 2  # what one week cannot know


def test_init_refuses_weeks_whose_columns_differ(run, workspace, tmp_path):
    weeks = weeks_of_exports(tmp_path)
    weeks[1].write_text(weeks[1].read_text().replace("victim_age", "victim_sex"))

    result = run("init", "weekly", *weeks)

    assert result.exit_code == 2
    assert "export-week-2.csv" in result.output and "releases of one dataset must have the same columns" in result.output
    assert not (workspace.root / "datapackages" / "weekly").exists()


def test_a_week_that_writes_its_dates_in_iso_form_changes_nothing(run, workspace):
    """Issue 28: formats drift between weeks. A date declared `%m/%d/%Y` (as init writes 6/20/2026) written
    2026-06-20 the next week is the same day: no revision, no refusal, the fix recorded."""
    add_dataset(workspace, "dated", {"name": "dated", "licenses": [{"name": "PDDL-1.0"}], "resources": [{
        "name": "dated", "schema": {"matchKey": ["crime_date", "block"], "fields": [
            {"name": "crime_date", "type": "date", "format": "%m/%d/%Y", "description": "Date."},
            {"name": "block", "type": "string", "description": "Block."},
            {"name": "offense", "type": "string", "description": "Offence."}]}}]}, [])
    week_1 = "crime_date,block,offense\n6/20/2026,500 W RD,Robbery\n6/21/2026,100 N AVE,Larceny\n"
    week_2 = "crime_date,block,offense\n2026-06-21,100 N AVE,Larceny\n2026-06-20,500 W RD,Robbery\n"

    result = diff(run, workspace, "dated", week_1, week_2)
    check = json.loads(run("check", "dated", workspace.root / "dated-2.csv", "--against", "recorded",
                           "--format", "json").output)

    assert diff_changes(result) == []
    assert [(n["kind"], n["count"]) for n in check["normalisations"]] == [("iso-dates", 2)]


def test_an_as_of_date_given_on_the_command_line_ends_the_window(run, workspace, tmp_path):
    """Issue 28: the export's as-of date declared by the office (its file named without one): the sparse week's
    window ends there, so the rows that left it are explained; without it, June 5 seems removed inside the window.
    A dataset with no window refuses --as-of."""
    _windowed(workspace, "declared", {"length": "7 days"})
    week_1 = "occurred,block,offense\n2026-06-01,100 N AVE,Arson\n2026-06-05,200 E ST,Arson\n"
    assert _ingest_as(run, workspace, "declared", "week-1.csv", week_1, "1") == 0
    week_2 = tmp_path / "week-2.csv"
    week_2.write_text("occurred,block,offense\n2026-06-10,300 W RD,Arson\n")

    declared = json.loads(run("check", "declared", week_2, "--against", "recorded", "--as-of", "2026-06-14",
                              "--format", "json").output)
    undeclared = json.loads(run("check", "declared", week_2, "--against", "recorded", "--format", "json").output)
    define_weekly_incidents(workspace, "no-window", {"matchKey": ["occurred", "block"]})
    refused = run("check", "no-window", week_2, "--as-of", "2026-06-14")

    assert declared["success"] and declared["revisions"]["counts"]["unexplained"] == 0
    assert undeclared["revisions"]["counts"]["unexplained"] == 1
    assert refused.exit_code == 2 and "declares no window" in refused.output


def test_a_window_can_end_at_the_date_in_the_exports_title_row(run, workspace, tmp_path):
    """Issue 28: an export that states its as-of date above its header ("Data as of 6/14/2026") ends its window
    there (`end: title`); a title without a date is refused, naming what it reads."""
    _windowed(workspace, "titled", {"length": "7 days", "end": "title"})
    week_1 = "Data as of 6/7/2026\noccurred,block,offense\n2026-06-01,100 N AVE,Arson\n2026-06-05,200 E ST,Arson\n"
    assert _ingest_as(run, workspace, "titled", "week-1.csv", week_1, "1") == 0
    week_2, undated = tmp_path / "week-2.csv", tmp_path / "undated.csv"
    week_2.write_text("Data as of 6/14/2026\noccurred,block,offense\n2026-06-10,300 W RD,Arson\n")
    undated.write_text("Weekly arson report\noccurred,block,offense\n2026-06-10,300 W RD,Arson\n")

    report = json.loads(run("check", "titled", week_2, "--against", "recorded", "--format", "json").output)
    refused = run("check", "titled", undated, "--against", "recorded")

    assert report["success"] and report["revisions"]["counts"]["unexplained"] == 0
    assert refused.exit_code == 2 and "its title row reads 'Weekly arson report'" in refused.output


@pytest.mark.parametrize("value, category", [
    ("Broadway disturbance", None),           # "adw" (assault with a deadly weapon) inside a street's name
    ("Conduit damage", None),                 # "dui" inside a word
    ("Grapevine noise complaint", None),      # "rape" inside a word
    ("Mugging", "robbery"), ("ADW - knife", "aggravated_assault"), ("DUI", "dui"), ("Auto theft", "motor_vehicle_theft"),
])
def test_an_offence_is_placed_by_whole_words_never_by_letters_inside_another(value, category):
    """Every word of the offence list must start a word of the value: a short one ("adw", "dui", "gta") inside a
    longer word placed "Broadway disturbance" among aggravated assaults."""
    from audit.init.offences import category_of

    assert category_of(value) == category


@pytest.mark.parametrize("as_of, says", [
    ("2026-07-31", "2026-06-10, before the window of 7 days that ends then"),   # a window moved past the file
    ("2026-06-08", "2026-06-10, after the as-of date that ends its window"),    # a window ending before its rows
])
def test_an_as_of_date_that_does_not_fit_the_file_is_refused(run, workspace, tmp_path, as_of, says):
    """An insider's attack on the window: an as-of date a month late moves the window past every row the file still
    holds, so a row removed from inside the true window would read as having left it. A release is its window's
    rows: a declared end its rows do not fit is exit 2, and nothing is recorded."""
    _windowed(workspace, "declared", {"length": "7 days"})
    week_1 = "occurred,block,offense\n2026-06-01,100 N AVE,Arson\n2026-06-05,200 E ST,Arson\n"
    assert _ingest_as(run, workspace, "declared", "week-1.csv", week_1, "1") == 0
    week_2 = tmp_path / "week-2.csv"
    week_2.write_text("occurred,block,offense\n2026-06-10,300 W RD,Arson\n")

    result = run("ingest", "declared", week_2, "--against", "recorded", "--as-of", as_of)

    assert result.exit_code == 2 and says in result.output, result.output
    assert len(log_rows(workspace, "releases")) == 1
