"""Shared test fixtures: a fresh workspace copied from the project's own, and a CLI runner."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from audit.cli import cli
from audit.workspace import Workspace

PROJECT = Path(__file__).resolve().parent.parent
# Hypothesis example counts are written for `make test` and scaled up by `make stress` (AUDIT_EXAMPLES_SCALE=10).
EXAMPLES_SCALE = float(os.environ.get("AUDIT_EXAMPLES_SCALE", "1"))


# The tests' Spark JVMs (the local session, a cluster's master, workers and executors, a Spark Connect server) live
# seconds, not hours: the quick JIT compiler alone and the serial collector halve the CPU they take, which keeps
# `make test` within its budget. Every JVM the tests start inherits this environment.
os.environ.setdefault("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")


def examples(count: int) -> int:
    """How many examples a property test draws: `count` in `make test`, more under `make stress`."""
    return max(1, round(count * EXAMPLES_SCALE))
EXAMPLE = "baltimore-violent-crime"
EXAMPLE_CSV = PROJECT / "datapackages" / EXAMPLE / "releases" / "2023-09-npsp-table-1.csv"
EXAMPLE_WAIVERS = PROJECT / "datapackages" / EXAMPLE / "waivers.yaml"
EXAMPLE_REVISED = PROJECT / "datapackages" / EXAMPLE / "releases" / "2024-03-revised-example.csv"


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A workspace with the project's descriptors and suites, and an empty log."""
    root = tmp_path / "office"
    shutil.copytree(PROJECT / "datapackages", root / "datapackages")
    shutil.copytree(PROJECT / "expectations", root / "expectations")
    return Workspace.at(root)


@pytest.fixture
def run(workspace: Workspace):
    """Run `audit ARGS... --workspace <the test workspace>`; return the click Result."""

    def invoke(*args: str):
        return CliRunner().invoke(cli, [*map(str, args), "--workspace", str(workspace.root)], catch_exceptions=False)

    return invoke


def example_text() -> str:
    return EXAMPLE_CSV.read_text(encoding="utf-8")


def write_variant(tmp_path: Path, old: str, new: str, name: str = "variant.csv") -> Path:
    """The example table with one piece of text replaced: a file made to have exactly one defect."""
    text = example_text()
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def empty_workspace(root: Path) -> Workspace:
    """A workspace with no datasets yet (for module-scoped fixtures, which cannot use `workspace`)."""
    (root / "datapackages").mkdir()
    (root / "expectations").mkdir()
    return Workspace.at(root)


def add_dataset(workspace: Workspace, name: str, descriptor: dict, expectations: list[dict]) -> None:
    """Define a dataset in the workspace, as a data office would, without Python."""
    import yaml

    folder = workspace.root / "datapackages" / name
    folder.mkdir(parents=True)
    (folder / "datapackage.yaml").write_text(yaml.safe_dump(descriptor), encoding="utf-8")
    suite = {"name": name, "expectations": expectations}
    (workspace.root / "expectations" / f"{name}.json").write_text(json.dumps(suite), encoding="utf-8")


# The malformed-input corpus (tests/data/bad-input): one small file per quirk, each a release of one dataset.
CORPUS = Path(__file__).parent / "data" / "bad-input"
FILES = CORPUS / "files"
DATASET = "district-offences"


def add_corpus_dataset(workspace: Workspace) -> Workspace:
    """Define the dataset every corpus file is a release of."""
    import yaml

    add_dataset(workspace, DATASET, yaml.safe_load((CORPUS / "datapackage.yaml").read_text()),
                json.loads((CORPUS / "expectations.json").read_text())["expectations"])
    return workspace


def complete_notes(folder: Path) -> Path:
    """The example's 2024-03 notes, with the one change they leave unexplained explained too."""
    import yaml

    notes = yaml.safe_load((PROJECT / "datapackages" / EXAMPLE / "revision-notes-2024-03.yaml").read_text())
    notes["notes"][1]["columns"].append("violent_crime")
    path = folder / "complete-notes.yaml"
    path.write_text(yaml.safe_dump(notes))
    return path


def data_findings(findings: list) -> list:
    """The findings about the rows themselves, leaving out the example's published-claim checks
    (tests/test_claims.py covers those)."""
    return [f for f in findings if (f["check"] if isinstance(f, dict) else f.check) != "claim"]


# Fixtures that start a real Spark or a browser: a test that uses one is marked so, and `make test-fast` leaves it out.
SPARK_FIXTURES = {"spark", "cluster", "connect_server", "own_session"}


def pytest_collection_modifyitems(items) -> None:
    """Mark tests by what they start: Spark, a browser; a property test (Hypothesis) draws many examples, so it is
    slow. Modules and tests that start processes or audit large generated tables say so themselves (`slow`)."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SPARK_FIXTURES:
            item.add_marker(pytest.mark.spark)
        if "browser" in fixtures:
            item.add_marker(pytest.mark.browser)
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.slow)


def pytest_unconfigure(config) -> None:
    """End the test process as the CLI does (see audit.engine.gx_duckdb.exit_skipping_teardown),
    so pytest's own summary is the last thing CI reads."""
    import sys

    if "audit.engine.gx_duckdb" in sys.modules:
        import atexit

        from audit.engine.gx_duckdb import exit_skipping_teardown

        status = int(getattr(config, "_audit_exitstatus", 0))
        atexit.register(exit_skipping_teardown, status)


def pytest_sessionfinish(session, exitstatus) -> None:
    session.config._audit_exitstatus = exitstatus


CHROMIUM = os.environ.get("AUDIT_CHROMIUM", "/usr/bin/chromium")
# Flags for a sandboxed machine with no network: no background connections, no first-run work.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, through Playwright: the real browser the pages are looked at in."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing: `make test` installs Debian's chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def snapshot(*folders: Path) -> dict[str, str]:
    """Every file under `folders` (links as where they lead), by its bytes' digest."""
    found = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            key = str(path)
            if path.is_symlink():
                found[key] = "link to " + os.readlink(path)
            elif path.is_file():
                found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                found[key] = "folder"
    return found


def assert_refused(args: list, says: str, around: Path) -> str:
    """`audit ARGS` exits 2 with one line on stderr that says `says`, no traceback, and not a byte under `around`
    (the workspace, and what lies beside it) changed."""
    before = snapshot(around)
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    err = result.stderr
    assert result.exit_code == 2, (result.exit_code, result.stdout, err)
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    assert says in err, err
    assert "Traceback" not in result.output and "internal error" not in err, err
    assert snapshot(around) == before
    return err
