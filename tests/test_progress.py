"""Loading a large file shows a progress bar on a terminal, and nothing in CI or when piped."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import duckdb
import pytest

LOAD = ("import duckdb, sys; from pathlib import Path; from audit.ingest.read import read_raw; "
        "read_raw(duckdb.connect(), Path(sys.argv[1]), None, 'raw')")

pytestmark = pytest.mark.slow  # each test starts a process of its own, on a terminal or a pipe


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("progress") / "incidents.csv"
    duckdb.connect().execute(
        f"COPY (SELECT i AS id, 'Offence ' || (i % 40) AS offence, i * 0.5 AS x FROM range(3000000) t(i)) "
        f"TO '{path}' (HEADER)")
    return path


def load_with_stderr_on_a_terminal(path, env) -> str:
    return stderr_on_a_terminal([LOAD, str(path)], env)


def stderr_on_a_terminal(args: list[str], env) -> str:
    """What `python -c ARGS...` writes to its stderr, when that is a terminal."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", *args], stderr=terminal, stdout=subprocess.DEVNULL, env=env)
    os.close(terminal)
    seen = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed: the process has ended
            break
        if not chunk:
            break
        seen += chunk
    proc.wait()
    os.close(controller)
    assert proc.returncode == 0, seen.decode("utf-8", "replace")[-3000:]  # what it said, where it failed
    return seen.decode("utf-8", "replace")


def quiet_env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in ("CI", "AUDIT_NO_PROGRESS")}


def test_a_terminal_sees_a_progress_bar(big_csv):
    shown = load_with_stderr_on_a_terminal(big_csv, quiet_env())

    assert "reading incidents.csv" in shown and "%" in shown


def test_ci_sees_nothing(big_csv):
    assert load_with_stderr_on_a_terminal(big_csv, {**quiet_env(), "CI": "true"}) == ""


def test_a_pipe_sees_nothing(big_csv):
    piped = subprocess.run([sys.executable, "-c", LOAD, str(big_csv)], capture_output=True, env=quiet_env())

    assert piped.returncode == 0 and piped.stderr == b""


STEP = "import time; from audit.progress import step\nwith step('running the checks'):\n    time.sleep(0.6)"


def step_on_a_terminal(env) -> str:
    return stderr_on_a_terminal([STEP], env)


def test_every_long_step_says_what_it_is_doing_on_a_terminal_and_nothing_in_ci():
    """Issue 31: progress showed only while the file was read. Each step (typing, the checks, the diff, recording,
    publishing) shows its name and elapsed time while it runs, on a terminal; nothing under CI."""
    assert "running the checks" in step_on_a_terminal(quiet_env())
    assert step_on_a_terminal({**quiet_env(), "CI": "true"}) == ""


NESTED = ("import duckdb; from audit.progress import query_progress, step\n"
          "con = duckdb.connect()\n"
          "with step('an outer step'):\n"
          "    with step('an inner step'), query_progress(con, 'a query inside'):\n"
          "        con.execute('SELECT count(*) FROM range(1000)')")


def test_a_step_inside_another_leaves_the_outer_one_shown():
    """Rich shows one live display at a time and raises at a second: a step or a bar inside a step shows nothing of
    its own, and the command goes on (the process would exit 1 otherwise)."""
    shown = stderr_on_a_terminal([NESTED], quiet_env())

    assert "an outer step" in shown and "an inner step" not in shown and "a query inside" not in shown


INIT = ("import sys; from pathlib import Path; from audit.init import init_dataset; from audit.workspace import Workspace\n"
        "init_dataset(Workspace.at(Path(sys.argv[1])), 'county', sys.argv[2])")


def test_init_says_each_of_its_steps_on_a_terminal(tmp_path):
    """`audit init` on ten million rows ran a minute with only its reading shown: each of its steps says what it
    is doing, from the types to the offence codes."""
    table = os.path.join(os.path.dirname(__file__), "data", "maryland-county-crime-2021-12.csv")
    shown = stderr_on_a_terminal([INIT, str(tmp_path), table], quiet_env())

    for said in ("finding each column's type", "typing the columns", "describing the columns", "looking for the key",
                 "looking for sums, rates", "listing the rows", "looking for offence codes"):
        assert said in shown, said
