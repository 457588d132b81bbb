"""What a person at a terminal expects of a command-line tool (issue 29): `-h`, a release read from standard input
with `-`, and the workspace found from any folder inside it, as git finds its repository."""

from __future__ import annotations

import json

from click.testing import CliRunner

from audit.cli import cli
from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS


def invoke(*args, stdin: bytes | None = None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=stdin, prog_name="audit", catch_exceptions=False)


def test_h_is_help_for_the_tool_and_for_each_command():
    assert invoke("-h").output.startswith("Usage: audit [OPTIONS] COMMAND [ARGS]...")
    assert invoke("check", "-h").output.startswith("Usage: audit check [OPTIONS] DATASET FILE")


def test_a_release_piped_in_is_read_from_standard_input_and_named_stdin(workspace):
    result = invoke("check", EXAMPLE, "-", "--waivers", EXAMPLE_WAIVERS, "--format", "json",
                    "--workspace", workspace.root, stdin=EXAMPLE_CSV.read_bytes())

    report = json.loads(result.output)
    assert result.exit_code == 0, result.output
    assert report["release"]["source"] == "stdin" and report["release"]["rows"] == 6


def test_the_workspace_is_found_from_a_folder_inside_it(workspace, monkeypatch):
    inside = workspace.root / "datapackages" / EXAMPLE
    monkeypatch.chdir(inside)

    result = invoke("check", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--format", "json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["dataset"] == EXAMPLE


def test_q_says_the_verdict_alone_and_v_every_check_run(workspace):
    args = ("check", EXAMPLE, EXAMPLE_CSV, "--workspace", workspace.root)

    quiet, verbose = invoke("-q", *args), invoke("-v", *args)
    normal = invoke(*args)

    assert quiet.output == "FAILED: 2 finding(s) block publication\n" and quiet.exit_code == normal.exit_code == 1
    assert "CHECKS RUN (" in verbose.output and "CHECKS RUN" not in normal.output
    listed = verbose.output.split("CHECKS RUN (")[1].splitlines()[1:]
    checks = {line[25:]: line[:25].strip() for line in listed if line.startswith("  ")}
    assert checks["category-sum [violent_crime, homicide, rape, robbery, aggravated_assault]"] == "2 blocking"
    assert checks["unique [year]"] == "passed"
    assert invoke("-q", "-v", *args).exit_code == 2
