"""`audit check --format junit|github`: what CI systems display."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, write_variant


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
    assert errors[0].startswith(f"::error file={EXAMPLE_CSV},title=audit category-sum ({EXAMPLE})::year=2021")
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
