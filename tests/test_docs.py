"""The documentation is true: set-up commands, CI, suites, and every command's help."""

from __future__ import annotations

import re

import great_expectations as gx
import pytest
from click.testing import CliRunner

from audit.cli import cli
from audit.validate import expectations as _custom  # noqa: F401  (registers our expectation types)
from audit.validate.suite import load_suite_json
from audit.workspace import Workspace
from tests.conftest import PROJECT

README = (PROJECT / "README.md").read_text(encoding="utf-8")


def test_readme_gives_the_two_setup_commands_and_ci_runs_the_test_one():
    assert "make audit" in README and "make test" in README
    ci = [line for line in (PROJECT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert ci[-1] == "make test"


@pytest.mark.parametrize("suite", sorted((PROJECT / "expectations").glob("*.json")), ids=lambda p: p.stem)
def test_every_suite_loads_and_has_a_dataset(suite):
    data = load_suite_json(suite)
    gx.ExpectationSuite(name=suite.stem, expectations=data["expectations"])
    Workspace.at(PROJECT).dataset(suite.stem)


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help_and_is_in_the_readme(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    # Every command but keygen (which only makes a key file) and witness (another party's service) works on a
    # workspace.
    assert result.exit_code == 0 and ("--workspace" in result.output or command in ("keygen", "witness"))
    assert re.search(rf"`audit {command}\b", README)


@pytest.mark.parametrize("command", sorted(cli.commands["witness"].commands))
def test_every_witness_command_has_help_and_is_in_the_readme(command):
    result = CliRunner().invoke(cli, ["witness", command, "--help"])
    assert result.exit_code == 0
    assert re.search(rf"`audit witness {command}\b", README)


def test_every_finding_code_is_documented():
    from audit.findings import CHECKS

    for code in CHECKS:
        assert f"`{code}`" in README, code


def test_the_readmes_first_console_session_is_the_commands_output(tmp_path):
    """The README's first example, run as it says (in a fresh copy of the project's workspace), prints exactly
    what the README shows and exits as it says."""
    import shutil

    block = re.search(r"```console\n(.*?)```", README, re.S).group(1).splitlines()
    command, shown = block[0].removeprefix("$ ").split(), block[1:block.index("$ echo $?")]
    exit_code = int(block[block.index("$ echo $?") + 1])
    for part in ("datapackages", "expectations"):
        shutil.copytree(PROJECT / part, tmp_path / part)
    assert command[0] == ".venv/bin/audit"

    result = CliRunner().invoke(cli, [*command[1:], "--workspace", str(tmp_path)])

    assert result.exit_code == exit_code
    assert result.output.splitlines() == shown


def test_the_catalogue_of_finding_codes_is_the_one_source():
    """Every code an expectation, a standard-expectation mapping or the reader uses is in the catalogue, and the
    README's table of codes lists exactly the catalogue."""
    from audit.findings import CHECKS, RENAMED_COLUMN, STANDARD_CHECKS
    from audit.validate.expectations import RowCheckExpectation

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    used = {RENAMED_COLUMN, *STANDARD_CHECKS.values()}
    for cls in subclasses(RowCheckExpectation):
        used |= {c for c in [getattr(cls, "check", None), *getattr(cls, "row_checks", {})] if c}
    table = README[README.index("### Finding codes"):README.index("## A report a person reads")]
    in_readme = set(re.findall(r"^\| `([a-z-]+)` \|", table, re.M))

    assert used <= set(CHECKS), used - set(CHECKS)
    assert in_readme == set(CHECKS), in_readme ^ set(CHECKS)


def test_every_code_says_what_it_found_from_the_one_catalogue_of_messages():
    """Each code has its usual message, and every message form fills in from named fields alone: a form that
    needed a field no caller gives would fail here, not in front of a reader."""
    import string

    from audit.findings import MESSAGES, Code

    assert set(MESSAGES) == set(Code), set(Code) ^ set(MESSAGES)
    for code, forms in MESSAGES.items():
        assert "" in forms, code
        for form, template in forms.items():
            fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
            assert fields and all(name.isidentifier() for name in fields), (code, form)
    said = Code.CATEGORY_SUM.say(total="Violent crime", parts="Murder + Rape", observed=10_624, expected=9_399,
                                 gap=1_225)
    assert said == "Violent crime is 10,624 but Murder + Rape sum to 9,399 (1,225 unaccounted for)"


DOCUMENTS = [PROJECT / "README.md", PROJECT / "CHANGELOG.md", *sorted((PROJECT / "docs").glob("*.md"))]


def _anchors(text: str) -> set[str]:
    """GitHub's anchors for a Markdown file's headings."""
    return {re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            for m in re.finditer(r"^#{1,6} (.*)$", text, re.M)}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_link_between_the_documents_resolves(document):
    text = document.read_text(encoding="utf-8")
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # a page on the web
        path, _, anchor = target.partition("#")
        file = (document.parent / path).resolve() if path else document
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file.read_text(encoding="utf-8")):
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_the_documents_examples_are_well_formed_and_name_real_expectations(document):
    """Every YAML example parses; every JSON example is JSON, and each suite entry in it names an expectation
    type GX or this project registers."""
    import json

    import yaml
    from great_expectations.expectations.registry import get_expectation_impl

    text = document.read_text(encoding="utf-8")
    for block in re.findall(r"```yaml\n(.*?)```", text, re.S):
        yaml.safe_load(block)
    for block in re.findall(r"```json\n(.*?)```", text, re.S):
        decoder, at, body = json.JSONDecoder(), 0, block.strip()
        while at < len(body):
            entry, at = decoder.raw_decode(body, at)
            while at < len(body) and body[at] in " \n,":
                at += 1
            if isinstance(entry, dict) and "type" in entry and "kwargs" in entry:
                get_expectation_impl(entry["type"])


def test_the_readmes_python_snippets_run_as_written(tmp_path):
    """Issue 29: the README's Python snippet named a file that does not exist. Each ```python block runs, as
    printed, in a copy of this project's workspace (its datasets, no log), and ends without an error."""
    import os
    import shutil
    import subprocess
    import sys

    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    for folder in ("datapackages", "expectations"):
        shutil.copytree(PROJECT / folder, tmp_path / folder)
    assert blocks
    for block in blocks:
        done = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(PROJECT)})
        assert done.returncode == 0, (block, done.stderr[-2000:])


def test_the_office_files_error_examples_are_the_tools_own_lines(workspace, tmp_path, monkeypatch):
    """Issue 29: docs/office-files.md showed error lines that differed from the tool's. Both mistakes it shows are
    made here, and each line it prints is the one the docs give (the workspace's own path in place of theirs)."""
    from tests.conftest import EXAMPLE, EXAMPLE_CSV

    shown = re.search(r"```\n(error: waivers.yaml.*?)```", (PROJECT / "docs" / "office-files.md").read_text(),
                      re.S).group(1).splitlines()
    (tmp_path / "waivers.yaml").write_text("version: 1\nwaivers:\n  - kye: {year: 2021}\n    check: category-sum\n"
                                           "    reason: accepted\n    approved_by: the office\n")
    monkeypatch.chdir(tmp_path)  # the waivers file named as an office names it, from where it runs the command
    check = ["check", EXAMPLE, str(EXAMPLE_CSV), "--workspace", str(workspace.root)]

    waiver = CliRunner().invoke(cli, [*check, "--waivers", "waivers.yaml"])
    (workspace.root / "audit.yaml").write_text("signing_kye: keys/office.pem\n")
    settings = CliRunner().invoke(cli, check)

    assert waiver.output.strip() == shown[0]
    assert settings.output.strip() == shown[1].replace("/srv/office", str(workspace.root))
