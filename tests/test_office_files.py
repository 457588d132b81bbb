"""Every file a data office writes is read strictly (audit/schemas/): a misspelt or unknown entry is an input
error (exit 2) naming the file, the line and the nearest valid name, and nothing is recorded; never an entry
silently ignored that changes the outcome."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import EXAMPLE, EXAMPLE_CSV, PROJECT

WAIVER = {"check": "category-sum", "key": {"year": 2021}, "reason": "accepted", "approved_by": "office"}
NOTE = {"where": {"year": 2020}, "reason": "review", "approved_by": "office"}
CLAIM = {"id": "c", "statement": "s", "stated": 342, "value": {"column": "homicide", "where": {"year": 2017}}}


def descriptor_with(change):
    descriptor = yaml.safe_load((PROJECT / "datapackages" / EXAMPLE / "datapackage.yaml").read_text())
    change(descriptor)
    return descriptor


def rename(mapping: dict, old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


# case: (which file, its content, the entry named, the nearest valid name or what the message says)
CASES = {
    "waiver kye": ("waivers", {"waivers": [{**{k: v for k, v in WAIVER.items() if k != "key"}, "kye": {"year": 2021}}]},
                   "'kye'", "did you mean 'key'?"),
    "waiver obsreved": ("waivers", {"waivers": [{**WAIVER, "obsreved": 10344}]}, "'obsreved'", "did you mean 'observed'?"),
    "waiver covering a whole check unsaid": ("waivers", {"waivers": [{k: v for k, v in WAIVER.items() if k != "key"}]},
                                             "waivers.0", "`all: true`"),
    "waiver of an unknown check": ("waivers", {"waivers": [{**WAIVER, "check": "category_sum"}]}, "waiver 1",
                                   "did you mean 'category-sum'?"),
    "settings signing_kye": ("settings", {"signing_kye": "keys/office.pem"}, "'signing_kye'",
                             "did you mean 'signing_key'?"),
    "settings memory_limt": ("settings", {"memory_limt": "1GB"}, "'memory_limt'", "did you mean 'memory_limit'?"),
    "note columns misspelt": ("notes", {"notes": [{**NOTE, "colums": ["homicide"]}]}, "'colums'",
                              "did you mean 'columns'?"),
    "claim sorce": ("claims", {"claims": [{**CLAIM, "sorce": "x"}]}, "'sorce'", "did you mean 'source'?"),
    "descriptor contraints": ("descriptor", descriptor_with(lambda d: d["resources"][0]["schema"]["fields"][1].update(
        contraints={"minimum": 0})), "'contraints'", "did you mean 'constraints'?"),
    "descriptor minumum": ("descriptor", descriptor_with(lambda d: d["resources"][0]["schema"]["fields"][1].update(
        constraints={"minumum": 400})), "'minumum'", "did you mean 'minimum'?"),
    "descriptor temporal feild": ("descriptor", descriptor_with(lambda d: rename(d["temporal"], "field", "feild")),
                                  "'feild'", "did you mean 'field'?"),
}


def write(workspace, tmp_path, which: str, content) -> list[str]:
    """Write the office file; return the extra arguments that make the command read it."""
    text = yaml.safe_dump(content, sort_keys=False)
    if which == "settings":
        (workspace.root / "audit.yaml").write_text(text)
        return []
    if which == "descriptor":
        (workspace.root / "datapackages" / EXAMPLE / "datapackage.yaml").write_text(text)
        return []
    if which == "claims":
        (workspace.root / "datapackages" / EXAMPLE / "claims.yaml").write_text(text)
        return []
    path = tmp_path / f"{which}.yaml"
    path.write_text(text)
    return [f"--{which}", str(path)]


@pytest.mark.parametrize("case", CASES)
def test_a_misspelt_entry_is_an_input_error_naming_file_line_and_nearest_name(workspace, run, tmp_path, case):
    which, content, entry, says = CASES[case]
    extra = write(workspace, tmp_path, which, content)

    result = run("ingest", EXAMPLE, EXAMPLE_CSV, *extra)

    assert result.exit_code == 2, result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert entry in line and says in line and "Traceback" not in result.output
    assert ", line " in line or "waiver 1" in line
    assert not (workspace.root / "audit.duckdb").exists()  # nothing recorded


def test_a_waiver_for_a_whole_check_says_so_and_the_report_counts_what_each_covered(workspace, run, tmp_path):
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(yaml.safe_dump({"waivers": [
        {"check": "category-sum", "all": True, "reason": "totals published as received", "approved_by": "office"},
        {"check": "claim", "key": {"claim": "no-such-claim"}, "reason": "stale", "approved_by": "office"}]}))

    result = run("check", EXAMPLE, EXAMPLE_CSV, "--waivers", waivers)

    assert "category-sum   every finding        covered 2 finding(s)" in result.output
    assert "claim          claim=no-such-claim  covered 0 finding(s); it may be stale" in result.output


@pytest.mark.parametrize("text, says", [
    ("a: &a [*a]\n", "refers to itself"),
    ("x: " + "[" * 200 + "]" * 200 + "\n", "levels deep"),
])
def test_self_referencing_or_deeply_nested_yaml_is_refused(workspace, run, tmp_path, text, says):
    path = tmp_path / "notes.yaml"
    path.write_text(text)

    result = run("check", EXAMPLE, EXAMPLE_CSV, "--notes", path)

    assert result.exit_code == 2 and says in result.output and "Traceback" not in result.output


def test_a_date_in_a_note_is_read_as_written_and_reported_as_json(tmp_path):
    """A note's `where` may hold a date (YAML reads it as one); the JSON report and the log carry it as text."""
    import json

    from audit import pipeline
    from tests.conftest import add_dataset, empty_workspace

    (tmp_path / "office").mkdir()
    workspace = empty_workspace(tmp_path / "office")
    add_dataset(workspace, "daily", {"resources": [{"name": "daily", "schema": {"primaryKey": ["day"], "fields": [
        {"name": "day", "type": "date"}, {"name": "incidents", "type": "integer"}]}}]}, [])
    first, second = tmp_path / "1.csv", tmp_path / "2.csv"
    first.write_text("day,incidents\n2024-03-01,4\n2024-03-02,5\n")
    second.write_text("day,incidents\n2024-03-01,6\n2024-03-02,5\n")
    notes = tmp_path / "notes.yaml"
    notes.write_text("notes:\n  - where: {day: 2024-03-01}\n    reason: late reports\n    approved_by: office\n")
    pipeline.ingest(workspace, "daily", first, version="1")
    (workspace.root / "datapackages" / "daily" / "datapackage.yaml").write_text(yaml.safe_dump({
        "licenses": [{"name": "PDDL-1.0"}], "resources": [{"name": "daily", "schema": {"primaryKey": ["day"], "fields": [
            {"name": "day", "type": "date", "description": "day"},
            {"name": "incidents", "type": "integer", "description": "n"}]}}]}))
    assert pipeline.publish(workspace, "daily").path is not None
    from click.testing import CliRunner

    from audit.cli import cli

    result = CliRunner().invoke(cli, ["ingest", "daily", str(second), "--notes", str(notes), "--version", "2",
                                      "--format", "json", "--workspace", str(workspace.root)], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["revisions"]["notes"][0]["where"] == {"day": ["2024-03-01"]}
    assert report["revisions"]["counts"]["explained"] == 1


def test_frictionless_rules_for_the_descriptor_are_checked_by_frictionless(workspace, run):
    descriptor = descriptor_with(lambda d: d["resources"][0]["schema"]["fields"][2]["constraints"].update(
        minimum="zero") if "constraints" in d["resources"][0]["schema"]["fields"][2] else
        d["resources"][0]["schema"]["fields"][2].update(constraints={"minimum": "zero"}))
    descriptor["name"] = "Baltimore violent crime!"
    (workspace.root / "datapackages" / EXAMPLE / "datapackage.yaml").write_text(yaml.safe_dump(descriptor))

    result = run("check", EXAMPLE, EXAMPLE_CSV)

    assert result.exit_code == 2 and "Frictionless:" in result.output and "Traceback" not in result.output
