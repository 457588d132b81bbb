"""A command killed at any point (SIGKILL: no cleanup) loses nothing and leaves nothing half-done,
and a second writer waits for the log, then fails cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from audit import pipeline
from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, audit_process, log_rows
from tests.consistency import inconsistencies, packages

pytestmark = pytest.mark.slow  # each test kills audit processes at crash points

INGEST = ["ingest", EXAMPLE, str(EXAMPLE_CSV), "--waivers", str(EXAMPLE_WAIVERS), "--version", "2023-09"]


@pytest.mark.parametrize("point", ["ingest-data-stored", "ingest-before-commit", "ingest-after-commit"])
def test_ingest_killed_at_any_point_records_all_or_nothing(workspace, point):
    killed = audit_process(workspace, *INGEST, crash_at=point)

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert inconsistencies(workspace.root) == []
    recorded = [r["version"] for r in log_rows(workspace, "releases")]
    assert recorded == (["2023-09"] if point == "ingest-after-commit" else [])

    rerun = pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")

    assert rerun.report.success and rerun.already_recorded == (point == "ingest-after-commit")
    assert [r["version"] for r in log_rows(workspace, "releases")] == ["2023-09"]
    assert inconsistencies(workspace.root) == []


@pytest.mark.parametrize("point", ["publish-package-written", "publish-before-commit", "publish-after-commit"])
def test_publish_killed_at_any_point_leaves_no_half_package_and_a_rerun_finishes(workspace, point):
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")

    killed = audit_process(workspace, "publish", EXAMPLE, crash_at=point)

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert inconsistencies(workspace.root) == []
    assert packages(workspace) == []  # nothing visible yet: any package is still hidden
    assert len(log_rows(workspace, "publications")) == (1 if point == "publish-after-commit" else 0)

    rerun = pipeline.publish(workspace, EXAMPLE)

    assert rerun.already_published == (point == "publish-after-commit")
    assert packages(workspace) == [rerun.path]
    assert len(log_rows(workspace, "publications")) == 1
    assert inconsistencies(workspace.root) == []
    assert not [p for p in rerun.path.parent.iterdir() if p.name.startswith(".")]  # leftovers cleared


def hold_log(workspace, seconds: float) -> subprocess.Popen:
    """Another process writing the log (holding DuckDB's file lock) for `seconds`."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " time.sleep(float(sys.argv[2]))", str(workspace.log_path), str(seconds)],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_writer_gives_up_after_the_timeout_with_a_clear_message(workspace, run):
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    holder = hold_log(workspace, 30)
    try:
        started = time.monotonic()
        result = run("publish", EXAMPLE, "--lock-timeout", "1")
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()

    assert result.exit_code == 2
    assert "in use by another audit process" in result.output and "Traceback" not in result.output
    assert waited >= 1
    assert log_rows(workspace, "publications") == [] and inconsistencies(workspace.root) == []


def test_a_second_writer_waits_for_the_first_to_finish(workspace, run):
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    holder = hold_log(workspace, 1.5)

    result = run("publish", EXAMPLE, "--lock-timeout", "60")
    holder.wait()

    assert result.exit_code == 0, result.output
    assert len(log_rows(workspace, "publications")) == 1 and inconsistencies(workspace.root) == []


def test_writers_that_give_up_on_a_new_log_never_remove_the_winners_log(workspace, tmp_path):
    """Three ingests start at once on a workspace with no log yet; those that time out waiting for the lock must
    not take the log the winner created with them (a loser never created it)."""

    files = []
    for k in range(3):
        lines = EXAMPLE_CSV.read_text().splitlines(keepends=True)
        path = tmp_path / f"writer-{k}.csv"
        path.write_text("".join(lines[:k + 1] + lines[k + 2:]))  # each its own release: one row left out
        files.append(path)
    procs = [subprocess.Popen([sys.executable, "-m", "audit", "ingest", EXAMPLE, str(f), "--version", f"w{k}",
                               "--workspace", str(workspace.root), "--lock-timeout", "0.2"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ)
             for k, f in enumerate(files)]
    codes = [p.wait(timeout=300) for p in procs]
    outputs = [p.communicate()[1] for p in procs]

    assert workspace.log_path.exists(), (codes, outputs)
    recorded = log_rows(workspace, "releases")
    assert len(recorded) == sum(1 for c in codes if c in (0, 1)) >= 1
    assert all("in use by another audit process" in e for c, e in zip(codes, outputs) if c == 2)
    assert inconsistencies(workspace.root) == []


HOLD_A_SPILL_FOLDER = """
import os, signal, sys
from pathlib import Path
from audit.files import spill_folder
with spill_folder() as folder:
    (Path(folder) / "spilled.tmp").write_bytes(b"x" * 1000)
    print(folder, flush=True)
    if sys.argv[1] == "killed":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.read()  # held until the test closes stdin
"""


def test_a_killed_commands_spill_folder_is_removed_by_the_next_command_and_a_running_ones_kept(tmp_path, monkeypatch):
    """A command killed out of memory or by SIGKILL never removes the folder its database spilled to, which can
    hold gigabytes: the next command's database removes it. The folder of a command still running is kept."""
    import tempfile

    from audit.files import spill_folder

    env = {**os.environ, "TMPDIR": str(tmp_path)}
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    killed = subprocess.run([sys.executable, "-c", HOLD_A_SPILL_FOLDER, "killed"], env=env, capture_output=True,
                            text=True, stdin=subprocess.DEVNULL)
    assert killed.returncode == -signal.SIGKILL
    left = killed.stdout.strip()
    assert os.path.isfile(os.path.join(left, "spilled.tmp"))
    running = subprocess.Popen([sys.executable, "-c", HOLD_A_SPILL_FOLDER, "running"], env=env, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        held = running.stdout.readline().strip()
        assert not os.path.exists(left)  # the running command's database removed it as it started
        # A link named as a spill folder, made by anyone who can write the temporary folder, to a folder of records.
        records = tmp_path / "records"
        records.mkdir()
        (records / ".held-by-a-running-command").write_text("")
        (records / "release.csv").write_text("figures")
        os.symlink(records, tmp_path / "audit-spill-bait")

        with spill_folder() as mine:
            assert os.path.isfile(os.path.join(held, "spilled.tmp"))
            assert (records / "release.csv").read_text() == "figures"
            assert os.path.isdir(mine)
        assert not os.path.exists(mine)
    finally:
        running.stdin.close()
        running.wait(timeout=30)
    assert not os.path.exists(held)  # removed by its own command as it ended
