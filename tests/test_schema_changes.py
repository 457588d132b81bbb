"""A release whose columns are not the descriptor's (issue 27): a column added, a column dropped, a column renamed.

Real tables change shape between years (a national table's 2022 file adds nine columns). Such a release is read,
never refused: each column it adds is typed and kept, each field it lacks is left out, and the difference is a
`schema-change` finding (the descriptor no longer describes the data) and, against what was published, one
table-level revision per column (`column-added`, `column-removed`) that needs a note like any other change. The
checks that read a missing field are named as not run. `audit init --update` brings the descriptor and suite up to
the release, keeping the office's own edits, and only a file without the columns that identify its rows is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import DATASET, FILES, add_corpus_dataset, copy_of_built, to_parquet

CLEAN = (FILES / "clean.csv").read_text()


@pytest.fixture
def published(built_workspaces, tmp_path_factory, workspace):
    """The corpus dataset with its clean release published, and a comment of the office's in its descriptor (built
    once, copied for each test)."""
    return copy_of_built(built_workspaces, tmp_path_factory, workspace, "corpus-published", _publish_clean)


def _publish_clean(workspace) -> None:
    from audit import pipeline

    add_corpus_dataset(workspace)
    descriptor = workspace.root / "datapackages" / DATASET / "datapackage.yaml"
    descriptor.write_text("# Kept by the records unit: ask Dana before changing the key.\n" + descriptor.read_text())
    assert pipeline.ingest(workspace, DATASET, FILES / "clean.csv").report.success
    assert pipeline.publish(workspace, DATASET).path is not None


def release(tmp_path: Path, transform, name: str = "next.csv") -> Path:
    """The clean release with each line changed by `transform(cells, line number)`."""
    lines = [",".join(transform(line.split(","), n)) for n, line in enumerate(CLEAN.strip().splitlines())]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def with_burglary(cells, n):
    return cells + (["Burglary"] if n == 0 else [str(70 + n)])


def without_assault(cells, n):
    return cells[:4] + cells[5:]


def changed(report) -> dict[str, int]:
    return {kind: n for kind, n in report["revisions"]["counts"].items() if n}


def blocking(report) -> list[tuple[str, str]]:
    return sorted((f["check"], f["message"]) for f in report["findings"] if f["severity"] == "error" and not f["waived"])


def test_a_column_added_is_read_typed_and_reported_as_a_schema_change_and_a_revision(published, run, tmp_path):
    result = run("check", DATASET, release(tmp_path, with_burglary), "--format", "json")

    report = json.loads(result.stdout)
    assert result.exit_code == 1, result.output
    assert [c for c, _ in blocking(report)] == ["schema-change", "unexplained-revision"]
    schema = next(m for c, m in blocking(report) if c == "schema-change")
    assert schema.startswith("column 'Burglary' is not in the descriptor: it was read as integer field 'burglary'")
    assert "audit init --update" in schema
    assert changed(report) == {"column-added": 1, "unexplained": 1}  # one table-level change, not one in every row


def test_a_parquet_release_with_a_column_more_keeps_its_type(published, run, tmp_path):
    target = tmp_path / "next.parquet"
    to_parquet(release(tmp_path, lambda cells, n: cells + (["Cleared share"] if n == 0 else [f"0.{n}"])), target)

    report = json.loads(run("check", DATASET, target, "--format", "json").stdout)

    assert [m.split(" and kept")[0] for c, m in blocking(report) if c == "schema-change"] == [
        "column 'Cleared share' is not in the descriptor: it was read as number field 'cleared_share'"]


def test_a_column_dropped_names_the_checks_that_could_not_run(published, run, tmp_path):
    result = run("check", DATASET, release(tmp_path, without_assault), "--format", "json")

    report = json.loads(result.stdout)
    assert result.exit_code == 1, result.output
    schema = next(m for c, m in blocking(report) if c == "schema-change")
    assert schema.startswith("field 'assault' has no column in this release (looked for 'assault' or 'Aggravated "
                             "assault'), so 1 check(s) that use it could not run: expectations/district-offences.json, "
                             "expectation 1 (expect_column_values_to_equal_sum_of_columns)")
    assert changed(report) == {"column-removed": 1, "unexplained": 1}
    assert not any(f["check"] == "category-sum" for f in report["findings"])  # not run, so no bogus finding


def test_a_note_explains_the_revision_and_update_describes_the_column_keeping_the_office_edits(published, run,
                                                                                             tmp_path):
    """The whole path an office takes: the note for the revision, `init --update` for the descriptor, ingest,
    publish. The office's comment and every field it described stay as they were."""
    added = release(tmp_path, with_burglary)
    notes = tmp_path / "notes.yaml"
    notes.write_text(yaml.safe_dump({"notes": [{"id": "burglary-added", "changes": ["column-added"],
                                                "columns": ["burglary"], "approved_by": "Records unit",
                                                "reason": "Burglary is published from this year on."}]}))
    descriptor = published.root / "datapackages" / DATASET / "datapackage.yaml"
    before = yaml.safe_load(descriptor.read_text())

    noted = json.loads(run("check", DATASET, added, "--notes", notes, "--format", "json").stdout)
    assert [c for c, _ in blocking(noted)] == ["schema-change"]  # the revision explained; the description not

    update = run("init", DATASET, added, "--update")
    assert update.exit_code == 0, update.output
    assert "added field 'burglary' (integer) for column 'Burglary'" in update.output
    text = descriptor.read_text()
    assert text.startswith("# Kept by the records unit: ask Dana before changing the key.\n")
    after = yaml.safe_load(text)
    fields = after["resources"][0]["schema"]["fields"]
    assert fields[:-1] == before["resources"][0]["schema"]["fields"]
    assert fields[-1]["name"] == "burglary" and fields[-1]["type"] == "integer"
    assert fields[-1]["description"].startswith("TODO")  # publication waits for the office to describe it
    descriptor.write_text(text.replace(fields[-1]["description"], "Burglaries reported."))

    assert run("ingest", DATASET, added, "--notes", notes).exit_code == 0
    result = run("publish", DATASET)
    assert result.exit_code == 0, result.output
    package = json.loads(next((published.publish_root / DATASET).glob("2.0.0/datapackage.json")).read_text())
    assert [f["name"] for f in package["resources"][0]["schema"]["fields"]][-1] == "burglary"
    assert run("init", DATASET, added, "--update").output.strip().endswith("nothing to update")


def test_update_takes_out_a_dropped_field_and_the_checks_that_read_it(published, run, tmp_path):
    dropped = release(tmp_path, without_assault)

    result = run("init", DATASET, dropped, "--update")

    assert result.exit_code == 0, result.output
    assert "removed field 'assault': the release has no column for it" in result.output
    assert "removed from the suite: expectations/district-offences.json, expectation 1 " \
           "(expect_column_values_to_equal_sum_of_columns), which reads 'assault'" in result.output
    suite = json.loads((published.root / "expectations" / f"{DATASET}.json").read_text())
    assert suite["expectations"] == []
    report = json.loads(run("check", DATASET, dropped, "--format", "json").stdout)
    assert [c for c, _ in blocking(report)] == ["unexplained-revision"]  # only the history's change is left


def test_update_makes_a_renamed_column_an_alias_of_its_field(published, run, tmp_path):
    renamed = release(tmp_path, lambda cells, n: [c.replace("Resident population", "Residents") for c in cells])
    assert "renamed-column" in run("check", DATASET, renamed).output

    result = run("init", DATASET, renamed, "--update")

    assert "field 'population' is also read from column 'Residents', which stands where it stood" in result.output
    report = json.loads(run("check", DATASET, renamed, "--format", "json").stdout)
    assert run("check", DATASET, renamed).exit_code == 0, report["findings"]


@pytest.mark.parametrize("part", ["Police district", "Year"])
def test_a_file_without_a_key_column_is_refused_and_nothing_is_recorded(published, run, tmp_path, part):
    at = CLEAN.splitlines()[0].split(",").index(part)
    result = run("ingest", DATASET, release(tmp_path, lambda cells, n: cells[:at] + cells[at + 1:]))

    assert result.exit_code == 2, result.output
    assert "a part of the key" in result.output and "rows cannot be identified without it" in result.output


def test_publish_refuses_a_release_the_descriptor_does_not_describe(published, run, tmp_path):
    """A schema change waived is still a package whose columns the descriptor would not document."""
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(yaml.safe_dump({"version": 1, "waivers": [
        {"check": check, "key": {}, "reason": "described next week", "approved_by": "Records unit"}
        for check in ("schema-change", "unexplained-revision")]}))
    ingested = run("ingest", DATASET, release(tmp_path, with_burglary), "--waivers", waivers)
    assert ingested.exit_code == 0, ingested.output

    result = run("publish", DATASET)

    assert result.exit_code == 2, result.output
    assert "a descriptor that describes its columns (it has column(s) 'burglary' the descriptor does not " \
           "describe)" in result.output


def test_a_parquet_release_s_added_columns_keep_their_own_types_whatever_they_are(published, run, tmp_path):
    """A DECIMAL is a number; a list is read as its text: no Parquet type makes an added column an internal error."""
    import duckdb

    target = tmp_path / "typed.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * REPLACE (CAST(\"Police district\" AS VARCHAR) AS \"Police district\"), "
                    f"CAST(1.5 AS DECIMAL(5, 2)) AS share, [1, 2] AS codes FROM read_csv('{FILES / 'clean.csv'}', "
                    f"thousands = ',')) TO '{target}' (FORMAT parquet)")

    report = json.loads(run("check", DATASET, target, "--format", "json").stdout)

    assert sorted(m.split(" and kept")[0] for c, m in blocking(report) if c == "schema-change") == [
        "column 'codes' is not in the descriptor: it was read as string field 'codes'",
        "column 'share' is not in the descriptor: it was read as number field 'share'"]
