"""Exit codes mean one thing each: 0 clean, 1 findings in the data (or tampering found), 2 the tool could not do
its job. A tool failure is never 1, and never a traceback unless asked for with --debug. Run as the office runs
the command: in a process of its own."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import EXAMPLE, EXAMPLE_CSV


def audit(workspace, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "audit", *map(str, args), "--workspace", str(workspace.root)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


def suite_naming(workspace, expectation: dict) -> None:
    path = workspace.root / "expectations" / f"{EXAMPLE}.json"
    suite = json.loads(path.read_text())
    suite["expectations"].append(expectation)
    path.write_text(json.dumps(suite))


def test_a_suite_naming_a_column_the_table_lacks_is_an_input_error(workspace, run):
    suite_naming(workspace, {"type": "expect_column_values_to_equal_sum_of_columns",
                             "kwargs": {"column": "violent_crim", "parts": ["homicide", "rape"]}})

    result = run("check", EXAMPLE, EXAMPLE_CSV)

    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "names column 'violent_crim', which the table does not have; did you mean 'violent_crime'?" in result.output


def test_a_standard_expectation_on_a_missing_column_is_an_input_error_not_a_finding(workspace, run):
    suite_naming(workspace, {"type": "expect_column_values_to_be_between",
                             "kwargs": {"column": "populaton", "min_value": 0}})

    result = run("check", EXAMPLE, EXAMPLE_CSV, "--format", "json")

    assert result.exit_code == 2 and "did you mean 'population'?" in result.output
    assert json.loads(result.stdout)["success"] is False


@pytest.mark.slow
def test_an_internal_error_is_one_line_and_exit_2_with_the_traceback_only_on_request(workspace, tmp_path):
    # A stand-in for a bug: a sitecustomize that breaks one function the command needs.
    (tmp_path / "sitecustomize.py").write_text(
        "import audit.render\n"
        "def broken(*a, **k):\n    raise ZeroDivisionError('a bug')\n"
        "audit.render.report_text = broken\n")
    env = {"PYTHONPATH": f"{tmp_path}:{sys.path[0]}"}

    plain = audit(workspace, "check", EXAMPLE, EXAMPLE_CSV, env=env)
    debug = audit(workspace, "check", EXAMPLE, EXAMPLE_CSV, env={**env, "AUDIT_DEBUG": "1"})  # or audit --debug

    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert plain.stderr.strip().splitlines() == [
        "error: internal error (ZeroDivisionError: a bug); this is a bug in audit, not a finding about the data: "
        "please report it with the command you ran and the output of the same command with --debug"]
    assert debug.returncode == 2 and "Traceback" in debug.stderr


@pytest.mark.slow
def test_a_folder_the_tool_may_not_write_is_an_input_error_naming_it(workspace):
    from audit import pipeline
    from tests.conftest import EXAMPLE_WAIVERS

    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")

    result = audit(workspace, "report", EXAMPLE, "--out", "/proc/version/report.html")  # no one may write there

    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: cannot read or write /proc/version") and len(result.stderr.splitlines()) == 1


@pytest.mark.slow
def test_a_full_disk_stops_ingest_with_one_line_and_nothing_recorded(tmp_path):
    """A workspace on a file system with almost no room (a small tmpfs, mounted as root; skipped where the test
    may not mount one): ingest cannot write the log, says so in one line, exits 2, and leaves no log behind."""
    import shutil

    from tests.conftest import PROJECT

    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=60k", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("a full disk is made by mounting a 60 kB tmpfs, which only root may do; this machine refused: "
                    f"{mounted.stderr.decode().strip()}")
    try:
        for part in ("datapackages", "expectations"):
            shutil.copytree(PROJECT / part, disk / part, ignore=shutil.ignore_patterns("releases"))
        result = subprocess.run([sys.executable, "-m", "audit", "ingest", EXAMPLE, str(EXAMPLE_CSV), "--workspace",
                                 str(disk)], capture_output=True, text=True, timeout=300)

        assert result.returncode == 2 and "Traceback" not in result.stderr
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("error: cannot read or write") and "No space left on device" in line
        assert not (disk / "audit.duckdb").exists()
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


@pytest.mark.slow
def test_a_full_disk_stops_each_writer_with_one_line_and_leaves_no_trace(tmp_path):
    """With the example recorded on a small tmpfs that is then filled to the last byte, every command that writes
    (publish, site, report, a second ingest) exits 2 with one line, leaves no empty folder or half-written file
    behind, and the log still verifies once there is room again."""
    import shutil

    from tests.conftest import PROJECT, snapshot

    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"a full disk is made by mounting a tmpfs, which only root may do: {mounted.stderr.decode()}")

    def audit_here(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "audit", *args, "--workspace", str(disk / "office")],
                              capture_output=True, text=True, timeout=300)

    try:
        for part in ("datapackages", "expectations"):
            shutil.copytree(PROJECT / part, disk / "office" / part, ignore=shutil.ignore_patterns("releases"))
        assert audit_here("ingest", EXAMPLE, str(EXAMPLE_CSV), "--waivers",
                          str(PROJECT / "datapackages" / EXAMPLE / "waivers.yaml")).returncode == 0
        filler = disk / "filler"
        with filler.open("wb") as handle:  # every byte the disk has left
            while True:
                try:
                    handle.write(b"\0" * 65536)
                    handle.flush()
                except OSError:
                    break
        before = snapshot(disk / "office")
        revised = PROJECT / "datapackages" / EXAMPLE / "releases" / "2024-03-revised-example.csv"
        for command in (["publish", EXAMPLE], ["site"], ["report", EXAMPLE], ["ingest", EXAMPLE, str(revised)]):
            result = audit_here(*command)

            assert result.returncode == 2 and "Traceback" not in result.stderr, (command, result.stderr)
            [line] = result.stderr.strip().splitlines()
            assert "No space left on device (the disk is full" in line, (command, line)
            assert snapshot(disk / "office") == before, command
        filler.unlink()
        assert audit_here("verify").returncode == 0
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


def test_diff_with_nothing_to_compare_with_is_an_input_error(workspace, run):
    from tests.conftest import EXAMPLE_WAIVERS

    run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09")

    result = run("diff", EXAMPLE)

    assert result.exit_code == 2
    assert "has no release before '2023-09' to compare with" in result.output


def test_a_standard_expectation_without_its_column_is_an_input_error(workspace, run):
    suite_naming(workspace, {"type": "expect_column_values_to_not_be_null", "kwargs": {}})

    result = run("check", EXAMPLE, EXAMPLE_CSV)

    assert result.exit_code == 2 and "Traceback" not in result.output
    [line] = result.output.splitlines()
    assert line.startswith("error: ") and "column" in line
