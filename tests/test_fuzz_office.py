"""Fuzzing what an office writes and where it writes: random damage to every office file (waivers, notes, claims, the
suite, the descriptor, audit.yaml) and random output paths for every writer (publish, site, report, feed) never give
a traceback, never an exit 1 that is not findings about the data, and never change a byte of the office's records
when a command is refused. `make test` draws a few examples of each; `make stress` ten times as many.

Each example runs one command through the CLI on one office (the example recorded and published once), then puts
back the office file it damaged.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import pipeline
from audit.cli import run
from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_REVISED, EXAMPLE_WAIVERS, PROJECT, examples, snapshot

FUZZ = settings(max_examples=examples(6), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    """The example recorded and published once, with portal settings; beside it someone else's folder and a link."""
    root = tmp_path_factory.mktemp("fuzz-office") / "office"
    root.mkdir()
    for part in ("datapackages", "expectations"):
        shutil.copytree(PROJECT / part, root / part, ignore=shutil.ignore_patterns("releases"))
    (root / "audit.yaml").write_text(
        "recorded_by: Records Unit\nportal: {base_url: 'https://data.example.gov/', publisher: {name: Police}, "
        "contact: {name: Records Unit, email: records@example.gov}}\n", encoding="utf-8")
    from audit.workspace import Workspace

    workspace = Workspace.at(root)
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    pipeline.publish(workspace, EXAMPLE)
    others = root.parent / "someone-else"
    others.mkdir()
    (others / "notes.txt").write_text("not the tool's\n", encoding="utf-8")
    (root.parent / "link-to-elsewhere").symlink_to(others, target_is_directory=True)
    return workspace


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def audit(office, *args: Any) -> Outcome:
    """`audit ARGS --workspace OFFICE` as the console runs it (audit.cli.run: an unforeseen error is one line, as
    it is for the office), in this process."""
    with CliRunner().isolation() as (stdout, stderr, _):
        code = run([*map(str, args), "--workspace", str(office.root)])
        return Outcome(code, stdout.getvalue().decode(errors="replace"), stderr.getvalue().decode(errors="replace"))


def assert_clean_outcome(result, exit_codes: set[int]) -> None:
    """A verdict or one line: never a traceback, never an internal error, never exit 1 without findings."""
    output = result.output
    assert result.exit_code in exit_codes, (result.exit_code, output[-2000:])
    assert "Traceback" not in output and "internal error" not in output, output[-2000:]
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    if result.exit_code == 1:  # a verdict: findings that block publication, or revisions no note explains
        report = json.loads(result.stdout)
        blocking = [f for f in report["findings"] if f["severity"] == "error" and not f["waived"]]
        assert report["success"] is False and "error" not in report and blocking, result.stdout[:2000]


# -- office files --------------------------------------------------------------------------------------------

ODD_TEXT = ["", " ", "=1+1", "../../etc/passwd", "year", "Infinity", "NaN", "East\u200bern", "ｙｅａｒ", "${HOME}",
            "<script>alert(1)</script>", "x" * 5000, "2021-02-30", "null", "true", "\ud7ff"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=12),
                    st.sampled_from(ODD_TEXT))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=8) | st.sampled_from(["year", "key", "where", "column", "kwargs", "type"]), inner, max_size=3),
    max_leaves=6)


def paths_of(document: Any, at: tuple = ()) -> list[tuple]:
    """Every place in a JSON-like document: the document itself, each key's value, each item."""
    found = [at]
    if isinstance(document, dict):
        for key, value in document.items():
            found += paths_of(value, (*at, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += paths_of(value, (*at, index))
    return found


def damaged(data, document: Any) -> Any:
    """`document` with one random change: a value replaced, a key removed or renamed, an entry added."""
    document = json.loads(json.dumps(document, default=str))
    at = data.draw(st.sampled_from(paths_of(document)))
    if not at:
        return data.draw(VALUES)
    *parent_path, last = at
    parent = document
    for step in parent_path:
        parent = parent[step]
    how = data.draw(st.sampled_from(["replace", "remove", "rename", "add"]))
    if how == "replace":
        parent[last] = data.draw(VALUES)
    elif how == "remove":
        del parent[last]
    elif how == "rename" and isinstance(parent, dict):
        parent[data.draw(st.text(min_size=1, max_size=10))] = parent.pop(last)
    elif isinstance(parent, list):
        parent.insert(last, data.draw(VALUES))
    else:
        parent[data.draw(st.text(max_size=10))] = data.draw(VALUES)
    return document


def text_damaged(data, text: str) -> str:
    """`text` as written, then perhaps damaged as text: cut short, a line given twice, a byte that is not UTF-8."""
    how = data.draw(st.sampled_from(["none", "cut", "line twice", "stray byte"]))
    if how == "cut" and text:
        return text[:data.draw(st.integers(0, len(text) - 1))]
    lines = text.splitlines(keepends=True)
    if how == "line twice" and lines:
        i = data.draw(st.integers(0, len(lines) - 1))
        return "".join(lines[:i + 1] + lines[i:])
    if how == "stray byte":
        return text + "\udcff"  # written with surrogateescape: one byte 0xff
    return text


def example_document(kind: str) -> tuple[Path | None, Any, str]:
    """(the file in the workspace it replaces, or None for a file given on the command line; its valid content;
    its format)"""
    folder = PROJECT / "datapackages" / EXAMPLE
    return {
        "waivers": (None, yaml.safe_load(EXAMPLE_WAIVERS.read_text()), "yaml"),
        "notes": (None, yaml.safe_load((folder / "revision-notes-2024-03.yaml").read_text()), "yaml"),
        "claims": (Path("datapackages") / EXAMPLE / "claims.yaml", yaml.safe_load((folder / "claims.yaml").read_text()),
                   "yaml"),
        "descriptor": (Path("datapackages") / EXAMPLE / "datapackage.yaml",
                       yaml.safe_load((folder / "datapackage.yaml").read_text()), "yaml"),
        "suite": (Path("expectations") / f"{EXAMPLE}.json",
                  json.loads((PROJECT / "expectations" / f"{EXAMPLE}.json").read_text()), "json"),
        "settings": (Path("audit.yaml"), {"recorded_by": "Records Unit", "memory_limit": "2GB",
                                          "portal": {"base_url": "https://data.example.gov/"}}, "yaml"),
    }[kind]


@FUZZ
@given(kind=st.sampled_from(["waivers", "notes", "claims", "descriptor", "suite", "settings"]), data=st.data())
def test_a_damaged_office_file_gives_a_verdict_or_one_line_and_changes_nothing(office, tmp_path, kind, data):
    place, document, form = example_document(kind)
    document = damaged(data, document)
    text = json.dumps(document, allow_nan=True) if form == "json" else yaml.safe_dump(document, allow_unicode=True)
    text = text_damaged(data, text)
    file = office.root / place if place else tmp_path / f"{kind}.yaml"
    kept = file.read_bytes() if file.exists() else None
    before = snapshot(office.root.parent)
    file.write_bytes(text.encode("utf-8", "surrogateescape"))
    given_files = {"waivers": ["--waivers", file], "notes": ["--notes", file, "--against", "recorded"]}.get(kind, [])
    release = EXAMPLE_REVISED if kind == "notes" else EXAMPLE_CSV
    try:
        result = audit(office, "check", EXAMPLE, release, *given_files, "--format", "json")
    finally:
        if kept is None:
            file.unlink()
        else:
            file.write_bytes(kept)

    assert_clean_outcome(result, {0, 1, 2})
    assert snapshot(office.root.parent) == before  # `check` writes nothing, whatever it was given


# -- output paths ----------------------------------------------------------------------------------------------

PLACES = ["{ws}", "{ws}/published", f"{{ws}}/published/{EXAMPLE}", f"{{ws}}/published/{EXAMPLE}/1.0.0",
          "{ws}/datapackages", "{ws}/expectations", "{ws}/audit.duckdb", "{ws}/audit.yaml", "{ws}/audit.duckdb.data",
          "{ws}/reports", "{ws}/site", "{ws}/data-docs", "{around}", "{around}/someone-else",
          "{around}/link-to-elsewhere", "/", str(Path.home()), "/dev/null", "/proc/version", "{fresh}"]
TAILS = ["", "/new", "/index.html", "/data.json", "/README.md", "/..", "/../..", "/./x", "/.audit-output"]
WRITERS = {"publish": ["publish", EXAMPLE, "--out"], "site": ["site", "--out"],
           "report": ["report", EXAMPLE, "--out"], "feed": ["feed", "--out"]}


def records(office) -> dict[str, str]:
    """The office's records as they are: what no output may change (the log is checked by `audit verify`)."""
    found = {}
    for part in ("datapackages", "expectations", "audit.yaml", "published"):
        path = office.root / part
        found.update(snapshot(path) if path.is_dir() else {str(path): path.read_text()})
    return found


@FUZZ
@given(writer=st.sampled_from(sorted(WRITERS)), place=st.sampled_from(PLACES), tail=st.sampled_from(TAILS),
       fresh=st.text(alphabet="abc-_.", min_size=1, max_size=6))
def test_any_output_path_is_written_or_refused_and_loses_nothing(office, tmp_path, writer, place, tail, fresh):
    out = (place + tail).format(ws=office.root, around=office.root.parent, fresh=tmp_path / f"out-{fresh}")
    around_before = snapshot(office.root.parent)
    records_before = records(office)

    result = audit(office, *WRITERS[writer], out)

    assert_clean_outcome(result, {0, 2})
    if result.exit_code == 2:
        assert snapshot(office.root.parent) == around_before
    else:
        after = snapshot(office.root.parent)
        lost = {p for p in around_before if p not in after or (after[p] != around_before[p] and not _ours(p, out))}
        assert not lost, (out, sorted(lost)[:5])
        now = records(office)
        assert all(now.get(p) == v for p, v in records_before.items() if not _ours(p, out)), out
        assert audit(office, "verify").exit_code == 0


def _ours(path: str, out: str) -> bool:
    """Whether the command may have changed `path`: it is the output or inside it (a site is replaced whole), or
    the change log, which records a publication."""
    real, real_out = os.path.realpath(path), os.path.realpath(out)
    return real == real_out or real.startswith(real_out + os.sep) or Path(path).name.startswith("audit.duckdb")
