"""Interrupts and pipes are not verdicts: Ctrl-C stops a command with exit 130 and one line, and what it was
writing is rolled back; a reader that stops reading ends the command quietly (141), never with exit 1 or a
traceback. Run as the office runs the tool: in processes of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS

pytestmark = pytest.mark.slow  # starts the tool in processes of its own


def start(workspace, *args, env=None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "audit", *map(str, args), "--workspace", str(workspace.root)],
                            env={**os.environ, **(env or {})}, **kwargs)


def wait_for(process: subprocess.Popen, said: str, timeout: float = 60) -> None:
    deadline, seen = time.time() + timeout, ""
    while said not in seen:
        assert time.time() < deadline and process.poll() is None, seen
        seen += process.stderr.readline().decode()


@pytest.mark.parametrize("point", ["ingest-data-stored", "ingest-before-commit"])
def test_ctrl_c_while_ingest_records_rolls_back_and_exits_130_with_one_line(workspace, point):
    ingest = start(workspace, "ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS,
                   env={"AUDIT_PAUSE_AT": point}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(ingest, f"paused at {point}")

    ingest.send_signal(signal.SIGINT)
    out, err = ingest.communicate(timeout=60)

    assert ingest.returncode == 130, err
    assert err.decode().strip().splitlines() == [
        "interrupted: the command stopped before its end; what it had not finished writing was rolled back"]
    # Nothing recorded: the log this ingest created is gone again, or holds no entry.
    log = workspace.root / "audit.duckdb"
    if log.exists():
        import duckdb

        with duckdb.connect(str(log), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM releases").fetchone() == (0,)


def test_sigterm_while_ingest_records_rolls_back_removes_its_spill_folder_and_exits_143(workspace, tmp_path):
    """A CI runner's timeout or `kill` sends SIGTERM, which Python's default ends on the spot: the command's
    temporary folders stayed behind (28 GB spilled by a 100M-row check). It is unwound as Ctrl-C is."""
    temp = tmp_path / "temp"
    temp.mkdir()
    ingest = start(workspace, "ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS,
                   env={"AUDIT_PAUSE_AT": "ingest-before-commit", "TMPDIR": str(temp)}, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE)
    wait_for(ingest, "paused at ingest-before-commit")
    assert list(temp.glob("audit-spill-*"))

    ingest.send_signal(signal.SIGTERM)
    out, err = ingest.communicate(timeout=60)

    assert ingest.returncode == 143, err
    assert err.decode().strip().splitlines() == [
        "terminated: the command stopped before its end; what it had not finished writing was rolled back"]
    assert list(temp.iterdir()) == []
    log = workspace.root / "audit.duckdb"
    if log.exists():
        import duckdb

        with duckdb.connect(str(log), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM releases").fetchone() == (0,)


def test_a_reader_that_stops_reading_ends_the_command_quietly(workspace, tmp_path):
    """A check whose report (JSON: every finding) is far longer than a pipe holds, its reader gone after 100 bytes."""
    rows = [line for line in EXAMPLE_CSV.read_text().splitlines()]
    big = tmp_path / "big.csv"
    big.write_text("\n".join([rows[0]] + [rows[5].replace("2021", str(1000 + i), 1) for i in range(4000)]) + "\n")
    check = start(workspace, "check", EXAMPLE, big, "--format", "json", stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    assert check.stdout.read(100)
    check.stdout.close()
    err = check.stderr.read().decode()

    assert check.wait(timeout=120) == 141 and "Traceback" not in err and err.strip() == "", err


def test_a_command_started_with_its_output_closed_gives_its_verdict_not_a_traceback(workspace):
    closed = subprocess.run(f"{sys.executable} -m audit check {EXAMPLE} {EXAMPLE_CSV} --workspace {workspace.root} >&-",
                            shell=True, capture_output=True, text=True, timeout=120)

    assert closed.returncode == 1 and "Traceback" not in closed.stderr  # 1: the example's findings, its verdict
