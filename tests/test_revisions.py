"""Revisions: every change to a published figure is found, matched to a revision note, and gated.

A small district table is published once; a second release changes it, and the
office's notes explain some of the changes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from audit import pipeline
from tests.conftest import add_dataset, copy_of_built, frictionless_errors, log_rows

DATASET = "district-crime"
HEADER = "District,Year,Robbery,Assault\n"
PUBLISHED = HEADER + "Central,2021,\"1,204\",310\nCentral,2022,1190,305\nEastern,2021,980,402\nEastern,2022,1012,398\n"


@pytest.fixture
def office(built_workspaces, tmp_path_factory, workspace):
    """A workspace whose district table has a published release, 2022-12 (built once, copied for each test)."""
    return copy_of_built(built_workspaces, tmp_path_factory, workspace, "district-published", _publish_districts)


def _publish_districts(workspace):
    add_dataset(workspace, DATASET, {
        "name": DATASET, "title": "Crime by district",
        "licenses": [{"name": "PDDL-1.0"}], "sources": [{"title": "Police department"}],
        "resources": [{"name": "crime", "schema": {"primaryKey": ["district", "year"], "fields": [
            {"name": "district", "type": "string", "description": "Police district."},
            {"name": "year", "type": "integer", "description": "Year reported."},
            {"name": "robbery", "type": "integer", "description": "Robberies.", "unit": "offences"},
            {"name": "assault", "type": "integer", "description": "Aggravated assaults.", "unit": "offences"},
        ]}}],
    }, [])
    baseline = write(workspace.root / "published.csv", PUBLISHED)
    pipeline.ingest(workspace, DATASET, baseline, version="2022-12")
    pipeline.publish(workspace, DATASET)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def notes_file(tmp_path: Path, *notes: dict) -> Path:
    full = [{"reason": "Reviewed.", "approved_by": "Data office", **n} for n in notes]
    return write(tmp_path / "notes.yaml", yaml.safe_dump({"version": 1, "notes": full}))


def revised(office, tmp_path, old: str, new: str, notes: Path | None = None):
    """Check the published table with `old` replaced by `new`; return the report's revision findings."""
    assert old in PUBLISHED, old
    report = pipeline.check(office, DATASET, write(tmp_path / "revised.csv", PUBLISHED.replace(old, new)), notes=notes)
    return [f for f in report.findings if f.check == "unexplained-revision"], report


def test_a_changed_cell_without_a_note_is_an_unexplained_revision(office, tmp_path):
    findings, report = revised(office, tmp_path, "Eastern,2021,980,402", "Eastern,2021,980,390")

    [finding] = findings
    assert (finding.severity, finding.key, finding.columns) == ("error", {"district": "Eastern", "year": 2021}, ["assault"])
    assert (finding.expected, finding.observed) == (402, 390)
    assert "changed from 402 to 390 since the published release 2022-12" in finding.message
    assert not report.success
    assert report.revisions.counts == {"changed": 1, "explained": 0, "unexplained": 1}


def test_numbers_formatted_differently_are_not_revisions(office, tmp_path):
    # "1,204" was published; 1204 and " 1204 " are the same count.
    findings, report = revised(office, tmp_path, 'Central,2021,"1,204",310', 'Central,2021," 1204 ",310.0'.replace(".0", ""))

    assert findings == [] and report.success
    assert report.revisions.counts == {"explained": 0, "unexplained": 0}


def test_a_note_on_a_row_explains_every_column_of_it(office, tmp_path):
    notes = notes_file(tmp_path, {"where": {"district": "Eastern", "year": 2021}})

    findings, report = revised(office, tmp_path, "Eastern,2021,980,402", "Eastern,2021,981,390", notes)

    assert findings == [] and report.success
    assert report.revisions.counts == {"changed": 2, "explained": 2, "unexplained": 0}


def test_a_note_naming_columns_explains_only_those(office, tmp_path):
    notes = notes_file(tmp_path, {"where": {"district": "Eastern", "year": 2021}, "columns": ["assault"]})

    findings, _ = revised(office, tmp_path, "Eastern,2021,980,402", "Eastern,2021,981,390", notes)

    assert [(f.columns, f.expected, f.observed) for f in findings] == [(["robbery"], 980, 981)]


def test_a_note_with_a_list_of_keys_covers_each_of_them(office, tmp_path):
    notes = notes_file(tmp_path, {"where": {"year": [2021, 2022]}, "columns": ["assault"]})
    text = PUBLISHED.replace("Central,2021,\"1,204\",310", "Central,2021,\"1,204\",311").replace(
        "Eastern,2022,1012,398", "Eastern,2022,1012,399")

    report = pipeline.check(office, DATASET, write(tmp_path / "r.csv", text), notes=notes)

    assert report.success and report.revisions.counts["explained"] == 2


def test_a_note_explaining_more_changes_than_it_expects_is_a_warning_naming_the_excess(office, tmp_path):
    """Issue 28: one date-range note explained 113,362 changed cells in one week, silently. A note may say how many
    changes it is meant to explain (`expect`); explaining more is a `note-scope` warning with the excess."""
    notes = notes_file(tmp_path, {"id": "spring-recount", "where": {"district": "Eastern"}, "expect": 1})

    _, report = revised(office, tmp_path, "Eastern,2021,980,402", "Eastern,2021,981,390", notes)

    [scope] = [f for f in report.findings if f.check == "note-scope"]
    assert (scope.severity, scope.expected, scope.observed) == ("warning", 1, 2)
    assert scope.message == ("note 'spring-recount' explains 2 changes (changed), 1 more than the 1 it expects: it may "
                             "explain changes it was not written for; narrow its where, columns or changes")
    assert report.success  # the changes are explained; the warning says the note may be too wide


def test_a_note_explaining_thousands_of_changes_with_no_expected_count_says_so(office, tmp_path):
    added = "".join(f"District {i},2023,{i},{i}\n" for i in range(1_001))  # a new year, a thousand and one rows
    release = write(tmp_path / "r.csv", PUBLISHED + added)

    report = pipeline.check(office, DATASET, release, notes=notes_file(tmp_path, {"id": "new", "where": {"year": 2023}}))

    [scope] = [f for f in report.findings if f.check == "note-scope"]
    assert "note 'new' explains 1,001 changes (added) and says how many it expects nowhere" in scope.message
    bounded = notes_file(tmp_path, {"id": "new", "where": {"year": 2023}, "expect": 1_001})
    assert not [f for f in pipeline.check(office, DATASET, release, notes=bounded).findings if f.check == "note-scope"]


def test_a_note_for_other_rows_explains_nothing(office, tmp_path):
    notes = notes_file(tmp_path, {"where": {"district": "Central"}})

    findings, _ = revised(office, tmp_path, "Eastern,2021,980,402", "Eastern,2021,980,390", notes)

    assert len(findings) == 1


def test_added_and_removed_rows_are_revisions_a_row_note_explains(office, tmp_path):
    text = PUBLISHED.replace("Eastern,2022,1012,398\n", "") + "Western,2022,700,250\n"
    path = write(tmp_path / "r.csv", text)

    unexplained = pipeline.check(office, DATASET, path)
    added = notes_file(tmp_path, {"where": {"district": "Western"}, "reason": "New district."})
    half = pipeline.check(office, DATASET, path, notes=added)

    assert sorted((f.key["district"], f.message.split(" since")[0]) for f in unexplained.findings) == [
        ("Eastern", "this row was removed"), ("Western", "this row was added")]
    assert [f.key for f in half.findings] == [{"district": "Eastern", "year": 2022}]


def test_a_note_naming_columns_does_not_explain_a_removed_row(office, tmp_path):
    notes = notes_file(tmp_path, {"where": {"district": "Eastern"}, "columns": ["robbery", "assault"]})

    report = pipeline.check(office, DATASET, write(tmp_path / "r.csv", PUBLISHED.replace("Eastern,2022,1012,398\n", "")),
                            notes=notes)

    assert [f.message.split(" since")[0] for f in report.findings] == ["this row was removed"]


def test_a_key_missing_in_one_release_is_a_row_removed_and_one_added(office, tmp_path):
    # The new file lost Eastern's district name in 2022: that row no longer matches the published one.
    findings, _ = revised(office, tmp_path, "Eastern,2022,1012,398", ",2022,1012,398")

    assert sorted((json.dumps(f.key), f.message.split(" since")[0]) for f in findings) == [
        ('{"district": "Eastern", "year": 2022}', "this row was removed"),
        ('{"district": null, "year": 2022}', "this row was added"),
    ]


def test_a_cell_that_becomes_missing_is_a_revision(office, tmp_path):
    findings, _ = revised(office, tmp_path, "Central,2022,1190,305", "Central,2022,,305")

    assert [(f.expected, f.observed) for f in findings] == [(1190, None)]
    assert "from 1,190 to (missing)" in findings[0].message


def test_repeated_keys_are_matched_in_file_order_not_multiplied(office, tmp_path):
    text = PUBLISHED + "Eastern,2022,1012,398\n"  # Eastern 2022 now twice

    report = pipeline.check(office, DATASET, write(tmp_path / "r.csv", text))

    assert [f.message.split(" since")[0] for f in report.findings if f.check == "unexplained-revision"] == [
        "this row was added"]


def test_no_published_release_means_nothing_to_revise(workspace, tmp_path):
    from tests.conftest import EXAMPLE, EXAMPLE_CSV

    report = pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV).report

    assert report.revisions is None


def test_notes_naming_an_unknown_column_are_refused(office, run, tmp_path):
    notes = notes_file(tmp_path, {"where": {"precinct": "Central"}, "columns": ["burglary"]})

    result = run("check", DATASET, write(tmp_path / "r.csv", PUBLISHED), "--notes", notes)

    assert result.exit_code == 2
    assert "note 1: the dataset has no field 'precinct', 'burglary'" in result.output


def test_a_note_value_of_the_wrong_type_is_refused(office, run, tmp_path):
    notes = notes_file(tmp_path, {"where": {"year": "last year"}})

    result = run("check", DATASET, write(tmp_path / "r.csv", PUBLISHED), "--notes", notes)

    assert result.exit_code == 2 and "'last year' is not a valid integer" in result.output


def test_ingest_logs_each_change_with_its_note_and_publish_is_gated(office, run, tmp_path):
    notes = notes_file(tmp_path, {"id": "assault-review", "where": {"year": 2021}, "columns": ["assault"],
                                  "reference": "Memo 7"})
    text = PUBLISHED.replace("Eastern,2021,980,402", "Eastern,2021,980,390").replace(
        "Central,2022,1190,305", "Central,2022,1191,305")
    path = write(tmp_path / "r.csv", text)

    ingest = run("ingest", DATASET, path, "--notes", notes, "--version", "2023-06")
    refused = run("publish", DATASET)

    assert ingest.exit_code == 1 and "robbery changed from 1,190 to 1,191" in ingest.output
    assert refused.exit_code == 1 and "refused" in refused.output
    changes = log_rows(office, "changes")
    assert [(c["key"], c["column"], c["old"], c["new"], c["note_id"]) for c in changes] == [
        ('{"district":"Central","year":2022}', "robbery", "1190", "1191", None),
        ('{"district":"Eastern","year":2021}', "assault", "402", "390", "assault-review"),
    ]
    assert {c["baseline_release_id"] for c in changes} == {f"{DATASET}@2022-12"}
    assert [n["note_id"] for n in log_rows(office, "notes")] == ["assault-review"]


def test_a_revision_recorded_in_batches_is_one_chain_and_one_write(office, run, tmp_path, monkeypatch):
    """A large diff's changes are read from it a batch at a time (audit.diff.changes.RECORD_BATCH) and the log
    takes them a batch at a time (audit.log.store.APPEND_BATCH entries per INSERT), so they are never all held at
    once. Here both batches are two changes: the five changes are still one chain, in the diff's order, that `audit
    verify` holds; and a failure after the first batch is inserted records none of them."""
    from audit.diff import changes as diff_changes
    from audit.log import store

    monkeypatch.setattr(store, "APPEND_BATCH", 2)
    monkeypatch.setattr(diff_changes, "RECORD_BATCH", 2)
    text = (PUBLISHED.replace("Central,2022,1190,305", "Central,2022,1191,306")
                     .replace("Eastern,2021,980,402", "Eastern,2021,981,403")
                     .replace("Eastern,2022,1012,398", "Eastern,2022,1012,399"))
    path = write(tmp_path / "r.csv", text)
    inserted = store.ChangeLog._insert

    def failing_second_batch(log, table, entries):
        failing_second_batch.batches += table == "changes"
        if failing_second_batch.batches == 2:
            raise OSError("disk full")
        inserted(log, table, entries)

    failing_second_batch.batches = 0
    monkeypatch.setattr(store.ChangeLog, "_insert", failing_second_batch)
    with pytest.raises(OSError):
        pipeline.ingest(office, DATASET, path, version="2023-06")
    assert log_rows(office, "changes") == [] and [r["version"] for r in log_rows(office, "releases")] == ["2022-12"]

    monkeypatch.setattr(store.ChangeLog, "_insert", inserted)
    assert run("ingest", DATASET, path, "--version", "2023-06").exit_code == 1  # five changes, no note
    changes = log_rows(office, "changes")
    assert [(c["key"], c["column"]) for c in changes] == [
        ('{"district":"Central","year":2022}', "robbery"), ('{"district":"Central","year":2022}', "assault"),
        ('{"district":"Eastern","year":2021}', "robbery"), ('{"district":"Eastern","year":2021}', "assault"),
        ('{"district":"Eastern","year":2022}', "assault")]
    assert [c["seq"] for c in changes] == list(range(changes[0]["seq"], changes[0]["seq"] + 5))
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in zip(changes, changes[1:]))
    verified = run("verify")
    assert verified.exit_code == 0, verified.output


def test_a_waived_unexplained_revision_publishes_with_the_revisions_resource(office, run, tmp_path):
    notes = notes_file(tmp_path, {"where": {"year": 2021}, "columns": ["assault"], "reference": "Memo 7",
                                  "reason": "Assaults reviewed."})
    waivers = write(tmp_path / "waivers.yaml", yaml.safe_dump({"version": 1, "waivers": [{
        "check": "unexplained-revision", "key": {"district": "Central", "year": 2022},
        "reason": "Late report added by the district.", "approved_by": "Chief analyst"}]}))
    text = PUBLISHED.replace("Eastern,2021,980,402", "Eastern,2021,980,390").replace(
        "Central,2022,1190,305", "Central,2022,1191,305")
    assert run("ingest", DATASET, write(tmp_path / "r.csv", text), "--notes", notes, "--waivers", waivers).exit_code == 0

    portal = tmp_path / "portal"
    assert run("publish", DATASET, "--out", portal).exit_code == 0

    out = portal / DATASET / "1.0.1"  # only values revised since 1.0.0: a patch
    assert frictionless_errors(out) == []
    rows = list(csv.DictReader((out / "revisions.csv").open()))
    assert [(r["district"], r["year"], r["column"], r["old"], r["new"], r["reason"], r["reference"]) for r in rows] == [
        ("Central", "2022", "robbery", "1190", "1191",
         "no revision note; finding waived: Late report added by the district.", ""),
        ("Eastern", "2021", "assault", "402", "390", "Assaults reviewed.", "Memo 7"),
    ]
    readme = (out / "README.md").read_text()
    assert "## What changed since version 1.0.0 (release 2022-12)" in readme
    assert "**Assaults reviewed.** (Memo 7), approved by Data office:" in readme
    assert "district=Eastern, year=2021: assault 402 → 390" in readme
    descriptor = json.loads((out / "datapackage.json").read_text())
    assert "revisions" in {r["name"] for r in descriptor["resources"]}


def test_audit_diff_lists_changes_with_their_notes_in_three_formats(office, run, tmp_path):
    notes = notes_file(tmp_path, {"id": "n1", "where": {"year": 2021}, "columns": ["assault"]})
    text = PUBLISHED.replace("Eastern,2021,980,402", "Eastern,2021,980,390").replace(
        "Central,2022,1190,305", "Central,2022,1191,305")
    run("ingest", DATASET, write(tmp_path / "r.csv", text), "--notes", notes, "--version", "2023-06")

    as_text = run("diff", DATASET)
    as_json = run("diff", DATASET, "--from", "2022-12", "--to", "2023-06", "--format", "json")
    as_csv = run("diff", DATASET, "--format", "csv")

    assert as_text.exit_code == 1
    assert "UNEXPLAINED" in as_text.output and "note n1: Reviewed." in as_text.output
    report = json.loads(as_json.output)
    assert (report["from"]["version"], report["to"]["version"]) == ("2022-12", "2023-06")
    assert [(c["key"], c["column"], c["old"], c["new"], (c["note"] or {}).get("id")) for c in report["changes"]] == [
        ({"district": "Central", "year": 2022}, "robbery", 1190, 1191, None),
        ({"district": "Eastern", "year": 2021}, "assault", 402, 390, "n1"),
    ]
    assert as_csv.output.splitlines()[0] == "district,year,change,column,old,new,note,reason,reference,approved_by"


def test_audit_diff_of_an_explained_release_exits_zero(office, run, tmp_path):
    notes = notes_file(tmp_path, {"where": {"district": "Eastern"}})
    run("ingest", DATASET, write(tmp_path / "r.csv", PUBLISHED.replace("980,402", "980,401")), "--notes", notes)

    assert run("diff", DATASET).exit_code == 0


INCIDENTS = "city-incidents"
INCIDENT_ROWS = (
    "incident_id,occurred,offense_code,district\n"
    "I1,2024-03-02 10:00,4A,Central\nI2,2024-03-09 23:15,4A,Central\nI3,2024-03-20 08:00,3A,Eastern\n"
    "I4,2024-04-01 12:00,6C,Eastern\nI5,2024-04-11 17:30,1A,Western\n"
)


@pytest.fixture
def incidents(workspace):
    """An incident table (offence codes mapped to categories) with a published release."""
    add_dataset(workspace, INCIDENTS, {
        "name": INCIDENTS, "licenses": [{"name": "PDDL-1.0"}],
        "reclassification": {"by": ["district"], "period": "occurred", "grain": "month"},
        "resources": [{"name": "incidents", "schema": {"primaryKey": ["incident_id"], "fields": [
            {"name": "incident_id", "type": "string", "description": "Incident number."},
            {"name": "occurred", "type": "datetime", "description": "When it occurred."},
            {"name": "offense_code", "type": "string", "description": "Offence code.",
             "categories": {"1A": "homicide", "3A": "robbery", "4A": "aggravated_assault", "4E": "common_assault",
                            "6C": "larceny"}},
            {"name": "district", "type": "string", "description": "Police district."},
        ]}}],
    }, [])
    pipeline.ingest(workspace, INCIDENTS, write(workspace.root / "inc.csv", INCIDENT_ROWS), version="1")
    pipeline.publish(workspace, INCIDENTS)
    return workspace


def test_downgrades_are_counted_by_district_and_month_and_reported_even_when_explained(incidents, tmp_path):
    text = (INCIDENT_ROWS.replace("I1,2024-03-02 10:00,4A", "I1,2024-03-02 10:00,4E")
            .replace("I2,2024-03-09 23:15,4A", "I2,2024-03-09 23:15,4E")
            .replace("I4,2024-04-01 12:00,6C", "I4,2024-04-01 12:00,3A"))
    notes = notes_file(tmp_path, {"where": {"incident_id": "I1"}, "columns": ["offense_code"],
                                  "reason": "No weapon after review."})

    report = pipeline.check(incidents, INCIDENTS, write(tmp_path / "inc2.csv", text), notes=notes)

    moves = report.revisions.reclassifications
    assert moves == [
        {"from_category": "aggravated_assault", "to_category": "common_assault", "district": "Central",
         "period": "2024-03-01", "incidents": 2, "explained": 1, "downgrade": True},
        {"from_category": "larceny", "to_category": "robbery", "district": "Eastern",
         "period": "2024-04-01", "incidents": 1, "explained": 0, "downgrade": False},
    ]
    [downgrade] = [f for f in report.findings if f.check == "downgrade"]
    assert (downgrade.severity, downgrade.key) == ("warning", {"district": "Central", "period": "2024-03-01"})
    assert (downgrade.expected, downgrade.observed) == ("aggravated_assault", "common_assault")
    assert "2 incident(s) in district Central, 2024-03-01 were reclassified from aggravated_assault (violent) " \
           "to common_assault (not violent); 1 explained by a revision note" in downgrade.message
    # I2 and I4 have no note: two unexplained revisions block publication; the explained I1 does not.
    assert sorted(f.key["incident_id"] for f in report.findings if f.check == "unexplained-revision") == ["I2", "I4"]


def test_a_fully_explained_downgrade_is_still_a_warning(incidents, tmp_path):
    text = INCIDENT_ROWS.replace("I5,2024-04-11 17:30,1A", "I5,2024-04-11 17:30,6C")
    notes = notes_file(tmp_path, {"where": {"incident_id": "I5"}, "reason": "Ruled accidental."})

    report = pipeline.check(incidents, INCIDENTS, write(tmp_path / "inc2.csv", text), notes=notes)

    assert report.success
    assert [(f.check, f.severity, f.key) for f in report.findings] == [
        ("downgrade", "warning", {"district": "Western", "period": "2024-04-01"})]
    assert "all explained by a revision note" in report.findings[0].message


def test_the_bundled_example_has_one_unexplained_revision_and_is_refused(workspace):
    from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS

    folder = EXAMPLE_CSV.parent.parent
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    pipeline.publish(workspace, EXAMPLE)

    report = pipeline.ingest(workspace, EXAMPLE, folder / "releases" / "2024-03-revised-example.csv", EXAMPLE_WAIVERS,
                             "2024-03", folder / "revision-notes-2024-03.yaml").report

    assert [(f.key, f.columns, f.expected, f.observed) for f in report.findings if f.check == "unexplained-revision"] == [
        ({"year": 2018}, ["violent_crime"], 11099, 11100)]
    assert report.revisions.counts == {"changed": 4, "explained": 3, "unexplained": 1}  # 2019's reprint is no change
    assert pipeline.publish(workspace, EXAMPLE).refused


def test_the_weeks_unexplained_changes_come_as_a_notes_file_to_complete_not_to_write(office, tmp_path, run):
    """Issue 28: writing a note per change is not feasible. `audit diff --format notes` groups the changes no note
    explains by kind and column, each note bounded by `expect`; a TODO left in it is refused, and once completed
    it explains exactly those changes."""
    text = PUBLISHED.replace("Eastern,2021,980,402", "Eastern,2021,981,390").replace(
        "Central,2022,1190,305", "Central,2022,1190,300") + "Western,2022,55,61\n"
    release = write(tmp_path / "r.csv", text)
    assert run("ingest", DATASET, release, "--version", "2023-01").exit_code == 1

    result = run("diff", DATASET, "--to", "2023-01", "--format", "notes")

    template = yaml.safe_load(result.output)
    assert [(n["id"], n.get("where"), n.get("columns"), n["changes"], n["expect"]) for n in template["notes"]] == [
        ("changed-assault", {"district": ["Central", "Eastern"], "year": [2021, 2022]}, ["assault"], ["changed"], 2),
        ("changed-robbery", {"district": ["Eastern"], "year": [2021]}, ["robbery"], ["changed"], 1),
        ("added", {"district": ["Western"], "year": [2022]}, None, ["added"], 1)]
    unedited = write(tmp_path / "notes.yaml", result.output)
    refused = run("check", DATASET, release, "--notes", unedited)
    assert refused.exit_code == 2 and "still the template's TODO" in refused.output

    for note in template["notes"]:
        note["reason"], note["approved_by"] = f"Corrected after review ({note['id']}).", "Data office"
    completed = write(tmp_path / "notes.yaml", yaml.safe_dump(template))
    report = pipeline.check(office, DATASET, release, notes=completed)
    assert report.revisions.counts["unexplained"] == 0
    # The assault note lists two districts and two years: four rows, of which two changed; the expect holds.
    assert not [f for f in report.findings if f.check == "note-scope"]
