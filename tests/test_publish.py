"""`audit publish`: a valid Frictionless package, caveats for waived findings, refusal otherwise."""

from __future__ import annotations

import csv
import json

import pytest

from audit import pipeline
from audit.publish.versioning import next_version
from tests.conftest import (
    EXAMPLE,
    EXAMPLE_CSV,
    EXAMPLE_REVISED,
    EXAMPLE_WAIVERS,
    complete_notes,
    data_findings,
    frictionless_errors,
    log_rows,
)


def test_each_file_of_a_package_carries_its_size_and_digest_for_any_frictionless_reader(workspace, run, tmp_path):
    """Issue 29: a reader without this tool checks a package's files with Frictionless alone: each data file's
    resource carries `bytes` and `hash` (sha256), and an altered file is a hash-count error."""
    import hashlib

    assert run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09").exit_code == 0
    assert run("publish", EXAMPLE, "--out", tmp_path / "portal").exit_code == 0
    package = tmp_path / "portal" / EXAMPLE / "1.0.0"
    descriptor = json.loads((package / "datapackage.json").read_text())

    for resource in descriptor["resources"]:
        if resource["name"] in ("changelog", "changelog-head"):  # written after the descriptor; the chain covers them
            assert "hash" not in resource
            continue
        content = (package / resource["path"]).read_bytes()
        assert (resource["bytes"], resource["hash"]) == (len(content), f"sha256:{hashlib.sha256(content).hexdigest()}")
    data = package / descriptor["resources"][0]["path"]
    data.write_text(data.read_text().replace("2017", "2071", 1))
    assert any("hash" in error for error in frictionless_errors(package)), frictionless_errors(package)


def test_published_package_is_valid_and_documented(workspace, run, tmp_path):
    assert run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09").exit_code == 0
    out = tmp_path / "portal"

    result = run("publish", EXAMPLE, "--out", out)

    assert result.exit_code == 0, result.output
    assert "2 waived finding(s) as caveats" in result.output
    package = out / EXAMPLE / "1.0.0"
    assert frictionless_errors(package) == []
    descriptor = json.loads((package / "datapackage.json").read_text())
    assert descriptor["version"] == "1.0.0" and descriptor["audit"]["release"]["version"] == "2023-09"
    assert descriptor["licenses"] and descriptor["sources"]
    data = descriptor["resources"][0]
    assert data["schema"]["primaryKey"] == ["year"]
    assert all(f.get("description") for f in data["schema"]["fields"])
    assert {r["name"] for r in descriptor["resources"]} == {"violent-crime", "findings", "validation", "changelog",
                                                           "changelog-head"}
    # The package carries the chain head at its publication, the hash of its own publication entry, in a file
    # of its own: that entry lists every other file by its hash, the descriptor and README included.
    assert descriptor["audit"]["changeLog"] == {"extract": "changelog.jsonl", "head": "changelog-head.json"}
    [publication] = log_rows(workspace, "publications")
    assert json.loads((package / "changelog-head.json").read_text())["head"] == publication["hash"]
    assert set(json.loads(publication["files"])) == {
        "README.md", "datapackage.json", "data/violent-crime.csv", "findings.csv", "validation.json", "report.html"}


def test_published_csv_has_plain_integers(workspace, tmp_path):
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    result = pipeline.publish(workspace, EXAMPLE, tmp_path / "p")

    rows = list(csv.DictReader((result.path / "data" / "violent-crime.csv").open()))
    assert rows[0] == {"year": "2017", "population": "610226", "violent_crime": "12430", "homicide": "342",
                       "rape": "382", "robbery": "5879", "aggravated_assault": "5827"}


def test_readme_and_report_carry_the_waived_findings_as_caveats(workspace, tmp_path):
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    out = pipeline.publish(workspace, EXAMPLE, tmp_path / "p").path

    readme = (out / "README.md").read_text()
    assert "year=2021" in readme and "10,344" in readme and "9,399" in readme
    assert "year=2022" in readme and "10,624" in readme and "9,246" in readme
    assert "Accepted because" in readme
    report = json.loads((out / "validation.json").read_text())
    assert [f["waived"] for f in data_findings(report["findings"])] == [True, True]
    findings = list(csv.DictReader((out / "findings.csv").open()))
    assert [json.loads(f["key"]) for f in findings] == [{"year": 2021}, {"year": 2022}, {"claim": "violent-crime-rate-2019"}]
    assert "2,027.01 per 100,000 residents.\" (National Public Safety Partnership" in readme
    assert "not supported: the data give 1,870.46" in readme


def test_publish_refuses_a_release_with_unwaived_findings(workspace, run, tmp_path):
    run("ingest", EXAMPLE, EXAMPLE_CSV)
    out = tmp_path / "package"

    result = run("publish", EXAMPLE, "--out", out)

    assert result.exit_code == 1
    assert "refused" in result.output and "year=2021" in result.output
    assert not out.exists()
    assert log_rows(workspace, "publications") == []


def test_publish_before_any_ingest_is_an_error(run):
    result = run("publish", EXAMPLE)

    assert result.exit_code == 2 and "audit ingest" in result.output


def test_default_destination_is_versioned_under_the_workspace(workspace):
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")

    result = pipeline.publish(workspace, EXAMPLE)

    assert result.path == workspace.root / "published" / EXAMPLE / "1.0.0"
    assert (result.path / "datapackage.json").is_file()
    assert not [p for p in result.path.parent.iterdir() if p.name.startswith(".")]  # no staging left behind
    index = json.loads((result.path.parent / "index.json").read_text())
    assert index["latest"] == "1.0.0" and [v["release"] for v in index["versions"]] == ["2023-09"]


@pytest.mark.parametrize("previous, schema_changed, counts, expected", [
    (None, False, None, "1.0.0"),
    ("1.0.0", False, {"changed": 3}, "1.0.1"),
    ("1.0.1", False, {"changed": 3, "added": 1}, "1.1.0"),
    ("1.1.0", False, {"removed": 2}, "1.2.0"),
    ("1.2.0", True, {}, "2.0.0"),
    ("2.0.0", False, {"column-added": 1, "added": 5}, "3.0.0"),
    ("3.0.0", False, {}, "3.0.1"),
])
def test_the_version_rule(previous, schema_changed, counts, expected):
    assert next_version(previous, schema_changed, counts)[0] == expected


def test_each_publication_gets_its_own_folder_and_the_index_names_the_latest(workspace, tmp_path):
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    first = pipeline.publish(workspace, EXAMPLE)
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_REVISED, EXAMPLE_WAIVERS, "2024-03", complete_notes(tmp_path))
    second = pipeline.publish(workspace, EXAMPLE)
    text = EXAMPLE_REVISED.read_text()
    grown = tmp_path / "2024-09.csv"
    grown.write_text(text + "2023,593490,11101,348,324,4856,5573\n")  # a year added, its offences summing up
    notes = tmp_path / "added.yaml"
    notes.write_text("version: 1\nnotes:\n  - {id: year-2023, where: {year: 2023}, reason: The 2023 count is added., "
                     "approved_by: Data office}\n")
    pipeline.ingest(workspace, EXAMPLE, grown, EXAMPLE_WAIVERS, "2024-09", notes)
    third = pipeline.publish(workspace, EXAMPLE)

    assert [r.package_version for r in (first, second, third)] == ["1.0.0", "1.0.1", "1.1.0"]
    assert [frictionless_errors(r.path) for r in (first, second, third)] == [[], [], []]
    assert second.version_rule.startswith("patch") and third.version_rule.startswith("minor")
    assert (first.path / "datapackage.json").is_file()  # the earlier versions are still there, untouched
    index = json.loads((workspace.publish_root / EXAMPLE / "index.json").read_text())
    assert index["latest"] == "1.1.0"
    assert [(v["version"], v["release"]) for v in index["versions"]] == [
        ("1.0.0", "2023-09"), ("1.0.1", "2024-03"), ("1.1.0", "2024-09")]
    assert "Version 1.1.0, release 2024-09 (minor: rows were added, removed or relabelled since 1.0.1)." in \
        (third.path / "README.md").read_text()


def test_a_release_recorded_before_another_was_published_must_be_compared_again(workspace, tmp_path):
    from audit.errors import StateError

    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_REVISED, EXAMPLE_WAIVERS, "2024-03")  # nothing published yet
    pipeline.publish(workspace, EXAMPLE, version="2023-09")

    # 2024-03 was never compared with 2023-09: publishing it would let its revisions through unchecked.
    with pytest.raises(StateError, match="never checked against revision notes"):
        pipeline.publish(workspace, EXAMPLE, version="2024-03")
    assert pipeline.ingest(workspace, EXAMPLE, EXAMPLE_REVISED, EXAMPLE_WAIVERS, "2024-03").already_recorded

    again = pipeline.ingest(workspace, EXAMPLE, EXAMPLE_REVISED, EXAMPLE_WAIVERS, "2024-03-r",
                            complete_notes(tmp_path))

    assert not again.already_recorded and again.report.revisions.counts["changed"] == 4
    assert pipeline.publish(workspace, EXAMPLE, version="2024-03-r").package_version == "1.0.1"


def test_a_release_keeps_the_date_its_file_was_issued_beside_the_day_it_was_published(workspace, tmp_path):
    """Issue 29: a back-filled history published in one afternoon showed one date for every release. A release
    whose file names its date (an export's as-of date) carries it as its issued date, in the package and on the
    site, beside the publication time."""
    import shutil

    dated = tmp_path / "violent-crime-2023-09-30.csv"
    shutil.copy(EXAMPLE_CSV, dated)
    pipeline.ingest(workspace, EXAMPLE, dated, EXAMPLE_WAIVERS, "2023-09")
    package = pipeline.publish(workspace, EXAMPLE).path

    release = json.loads((package / "datapackage.json").read_text())["audit"]["release"]
    assert release["issued"] == "2023-09-30"
    site = pipeline.site(workspace)
    page = (site.root / "datasets" / f"{EXAMPLE}.html").read_text()
    assert "(release 2023-09, issued 2023-09-30, published " in page


def test_a_back_filled_release_carries_the_day_it_was_issued_beside_the_day_it_was_published(workspace, run,
                                                                                               tmp_path):
    """Issue 29: a history published in one afternoon keeps each release's own date (publish --issued), shown on
    the site beside the day it was published; a day after today is refused, nothing written."""
    import datetime

    assert run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09").exit_code == 0
    tomorrow = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
    future = run("publish", EXAMPLE, "--issued", tomorrow)
    published = run("publish", EXAMPLE, "--issued", "2023-09-30")

    assert future.exit_code == 2 and "is after today" in future.output
    assert published.exit_code == 0, published.output
    package = workspace.publish_root / EXAMPLE / "1.0.0"
    assert json.loads((package / "datapackage.json").read_text())["audit"]["release"]["issued"] == "2023-09-30"
    day = json.loads((package.parent / "index.json").read_text())["versions"][0]["published"][:10]
    page = (pipeline.site(workspace).root / "datasets" / f"{EXAMPLE}.html").read_text()
    assert f"issued 2023-09-30, published {day}" in page
