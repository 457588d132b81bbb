"""`audit check --format junit|github`: what CI systems display."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, add_dataset, write_variant


def junit(output: str) -> ET.Element:
    return ET.fromstring(output.encode("utf-8"))


def test_junit_has_a_test_case_per_expectation_and_fails_those_with_findings(run):
    result = run("check", EXAMPLE, EXAMPLE_CSV, "--format", "junit")

    assert result.exit_code == 1
    suite = junit(result.output).find("testsuite")
    cases = suite.findall("testcase")
    failed = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("tests")) == len(cases) > 5
    assert [c.get("name") for c in failed] == [
        "category-sum [violent_crime, homicide, rape, robbery, aggravated_assault]"]
    failure = failed[0].find("failure")
    assert failure.get("message").startswith("2 finding(s) block publication")
    assert "year=2021" in failure.text and "10344" in failure.text and "year=2022" in failure.text
    # A warning is shown, not failed: the unsupported published claim.
    # Each claim is named by its id (issue 29: "claim" alone did not say which statement).
    claims = {c.get("name").split(" [")[0]: c for c in cases if c.get("name").startswith("claim")}
    assert set(claims) >= {"claim violent-crime-rate-2019", "claim violent-crime-change-2017-2022"}
    unsupported = [c for c in claims.values() if c.find("system-out") is not None]
    assert unsupported and all(c.find("failure") is None for c in unsupported)
    assert all("not supported" in c.find("system-out").text for c in unsupported)
    assert {p.get("name") for p in suite.find("properties")} >= {"release.sha256", "release.source"}


def test_junit_passes_when_the_findings_are_waived(run):
    result = run("check", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--format", "junit")

    assert result.exit_code == 0
    suite = junit(result.output).find("testsuite")
    assert suite.get("failures") == "0"
    assert "waived: The published table's Violent Crime total for 2021" in result.output


def test_junit_reports_unreadable_input_as_an_error_case(run, tmp_path):
    bad = write_variant(tmp_path, "12,430", "12,43O")

    result = run("check", EXAMPLE, bad, "--format", "junit")

    assert result.exit_code == 2
    error = junit(result.output.split("\n", 1)[1] if result.output.startswith("error:") else result.output)
    assert error.find("testsuite/testcase/error") is not None
    assert "12,43O" in error.find("testsuite/testcase/error").text


def test_github_annotations_name_the_file_and_each_finding(run):
    result = run("check", EXAMPLE, EXAMPLE_CSV, "--format", "github")

    assert result.exit_code == 1
    lines = result.output.splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    assert len(errors) == 2
    # 2021 is the file's line 6 (the header is line 1): a reviewer's click lands on the row (issue 29).
    assert errors[0].startswith(f"::error file={EXAMPLE_CSV},line=6,title=audit category-sum ({EXAMPLE})::year=2021")
    assert any(line.startswith("::warning ") and "claim" in line for line in lines)
    assert lines[-1].startswith("::notice title=audit baltimore-violent-crime::failed")


def test_the_example_workflow_runs_make_check_on_pull_requests_that_change_data():
    import yaml

    from tests.conftest import PROJECT

    workflow = yaml.safe_load((PROJECT / ".github" / "workflows" / "check-data.yml").read_text())
    trigger = workflow[True]["pull_request"]["paths"]  # YAML 1.1 reads the key `on` as True
    assert "datapackages/**" in trigger
    script = "\n".join(step.get("run", "") for step in workflow["jobs"]["check"]["steps"])
    assert "make check" in script and "FORMAT=github" in script and "FORMAT=junit" in script


def test_every_command_that_takes_format_offers_the_formats_of_the_one_table():
    from audit.cli import FORMAT_NAMES, cli
    from audit.render import FORMATS, formats_for

    for kind, names in FORMAT_NAMES.items():
        assert names == formats_for(kind), kind
    for command, kind in (("check", "report"), ("ingest", "report"), ("reconcile", "report"), ("diff", "diff"),
                          ("verify", "verify")):
        [option] = [p for p in cli.commands[command].params if p.name == "fmt"]
        assert list(option.type.choices) == formats_for(kind), command
    assert set(FORMATS) == {"text", "json", "junit", "github", "csv", "notes"}


def test_diff_and_verify_speak_junit_and_github_too(workspace, run, tmp_path):
    import xml.etree.ElementTree as ET

    from tests.conftest import EXAMPLE_REVISED

    run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09")
    run("publish", EXAMPLE)
    run("ingest", EXAMPLE, EXAMPLE_REVISED, "--waivers", EXAMPLE_WAIVERS, "--version", "2024-03")

    junit = ET.fromstring(run("diff", EXAMPLE, "--format", "junit").output)
    github = run("diff", EXAMPLE, "--format", "github").output
    verified = ET.fromstring(run("verify", "--format", "junit").output)

    assert int(junit.get("failures")) == len([c for c in junit if c.find("failure") is not None]) > 0
    assert github.count("::error ") == int(junit.get("failures"))
    assert verified.get("failures") == "0" and int(verified.get("tests")) >= 2


@pytest.mark.parametrize("seed", range(4))
def test_annotations_point_at_the_line_each_failing_row_was_read_from(workspace, run, tmp_path, seed):
    """Title rows above the header, blank lines, CRLF endings: each finding about a row carries the file's own line
    of that row, as GitHub counts lines. Where a quoted cell spans two lines, rows are not lines, and no finding
    carries one rather than a wrong one."""
    import json
    import random

    add_dataset(workspace, "counts", {"name": "counts", "resources": [{"name": "counts", "path": "data/counts.csv",
                "schema": {"primaryKey": ["id"], "fields": [{"name": "id", "type": "string"},
                                                          {"name": "note", "type": "string"},
                                                          {"name": "count", "type": "integer"}]}}]},
                [{"type": "expect_column_values_to_be_between", "kwargs": {"column": "count", "min_value": 0}}])
    draw = random.Random(seed)
    lines = ["Counts by id, as of 2026-06-01", ""] if seed % 2 else []
    lines.append("id,note,count")
    for i in range(60):
        if draw.random() < 0.1:
            lines.append("")
        lines.append(f"r{i},fine,{-i if i % 13 == 5 else i}")
    spanning = seed == 3
    if spanning:
        lines.append('r99,"two\nlines",1')
    path = tmp_path / "counts.csv"
    path.write_bytes(("\r\n" if seed == 2 else "\n").join(lines).encode() + b"\n")
    physical = path.read_bytes().decode().replace("\r\n", "\n").split("\n")

    result = run("check", "counts", path, "--format", "json")
    github = run("check", "counts", path, "--format", "github")

    found = json.loads(result.output)["findings"]
    assert [f["key"]["id"] for f in found] == ["r5", "r18", "r31", "r44", "r57"]
    if spanning:
        assert all("line" not in f for f in found) and ",line=" not in github.output
    else:
        assert all(physical[f["line"] - 1].startswith(f["key"]["id"] + ",") for f in found)
        assert f"file={path},line={found[0]['line']}," in github.output
