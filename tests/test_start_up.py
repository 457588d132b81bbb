"""What a command pays for before it reads a row: each `audit` command runs in a process of its own, so every
import on its path is paid on every run."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, EXAMPLE_CSV


def _imported(workspace, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """`audit ARGS` in a process of its own, and the modules it imported or tried to (Python's -X importtime
    lists an import that was refused, too)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "audit", *args, "--workspace",
                           str(workspace.root)], capture_output=True, text=True, timeout=300)
    names = {line.split("|")[-1].strip() for line in done.stderr.splitlines()
             if line.startswith("import time:") and "|" in line}
    return done, names


def test_a_check_on_duckdb_does_not_import_pyspark_though_it_is_installed(workspace, run):
    """Great Expectations imports pyspark whenever it can (0.45 s, with scipy); a check on DuckDB never uses it. Nor
    does it run the statistics and charts (scipy.stats, altair) that only an expectation of GX's own needs."""
    assert importlib.util.find_spec("pyspark") is not None, "pyspark is installed with the test extras"
    done, names = _imported(workspace, "check", EXAMPLE, str(EXAMPLE_CSV), "--format", "json")
    # pyspark's own import loads its serializers first thing: an import of pyspark that was refused loads none of it.
    assert "great_expectations" in names and "pyspark.serializers" not in names
    # A module deferred is listed by -X importtime only once its code runs: then its own modules are imported too.
    assert "great_expectations.expectations.core.expect_column_kl_divergence_to_be_less_than" in names
    assert not {name for name in names if name.startswith(("scipy.stats.", "altair."))}
    # The findings are those of the same check run where pyspark is imported (in this test process).
    in_process = run("check", EXAMPLE, EXAMPLE_CSV, "--format", "json")
    assert done.returncode == in_process.exit_code == 1
    assert json.loads(done.stdout)["findings"] == json.loads(in_process.output)["findings"]


def test_only_a_command_on_duckdb_in_a_process_of_its_own_leaves_pyspark_out(monkeypatch, tmp_path):
    """The rule the check above runs by. A command on Spark keeps pyspark (the Spark commands that tests run in
    processes of their own, tests/test_spark_cluster.py, fail without it); so does a process that may run other
    commands, as this one does, since GX keeps what its import found."""
    import audit.validate as validate
    from audit.engine import choose

    duckdb_engine, spark = (choose(name, {}, tmp_path / "audit.yaml") for name in ("duckdb", "spark"))
    assert validate.left_out(duckdb_engine) == validate.left_out(spark) == ()
    monkeypatch.setattr(validate, "_one_command", True)  # as the console entry point says (audit.cli.main)
    assert validate.left_out(duckdb_engine) == ("pyspark",) and validate.left_out(spark) == ()


def test_a_command_in_a_process_of_its_own_starts_its_engine_meanwhile_and_quietly(monkeypatch, capfd):
    """Spark's JVM takes 6-7 s to start: a command in a process of its own starts its engine in a thread while DuckDB
    reads and stages the release. A start that fails there says nothing: the command's own start, when it first
    queries, reports it. A process that runs other commands (this one) starts nothing ahead."""
    import threading

    import audit.validate as validate
    from audit.engine import Engine

    started, failed = [], threading.Event()

    class Starting(Engine):
        def start(self):
            started.append(threading.current_thread().name)

    class Failing(Engine):
        def start(self):
            failed.set()
            raise RuntimeError("no Spark master at spark://nowhere:7077")

    def join_starts():
        for thread in threading.enumerate():
            if thread.name == "start-engine":
                thread.join(timeout=30)

    monkeypatch.setattr(validate, "_import_validation", lambda without: None)  # only the engine's start is looked at
    validate.import_in_background(Starting())
    join_starts()
    assert started == []
    monkeypatch.setattr(validate, "_one_command", True)  # as the console entry point says (audit.cli.main)
    validate.import_in_background(Starting())
    validate.import_in_background(Failing())
    join_starts()
    assert started == ["start-engine"] and failed.is_set()
    assert capfd.readouterr().err == ""


def test_the_background_import_starts_once_reading_is_duckdbs(workspace, monkeypatch, tmp_path):
    """Great Expectations' import (3 s of Python holding the GIL) started with the command, and the check of a CSV
    file's bytes (Python too) then took 5 s instead of 2 s at ten million rows. It now starts once the bytes are
    checked, before DuckDB reads the cells; for Parquet, which DuckDB reads from the start, at once; and a file
    refused for its bytes never starts it."""
    import duckdb

    from audit.errors import InputError
    from audit.ingest import decode, load_release, read

    said: list[str] = []
    checked = decode.prepare_text

    def checking(*args, **kwargs):
        said.append("bytes checked")
        return checked(*args, **kwargs)

    monkeypatch.setattr(read, "prepare_text", checking)
    # DuckDB reads a file's cells into a table, or, for a plain export, views them where they lie.
    for reader in ("_read_csv_cells", "_direct_view"):
        reading = getattr(read, reader)
        monkeypatch.setattr(read, reader, lambda *a, reading=reading: (said.append("DuckDB reads"), reading(*a))[1])
    dataset = workspace.dataset(EXAMPLE)
    start = lambda: said.append("import started")  # noqa: E731

    load_release(duckdb.connect(), dataset, EXAMPLE_CSV, start_meanwhile=start)
    assert said == ["bytes checked", "import started", "DuckDB reads"]

    said.clear()
    parquet = tmp_path / "release.parquet"
    duckdb.connect().execute(f"COPY (SELECT * FROM read_csv('{EXAMPLE_CSV}')) TO '{parquet}' (FORMAT parquet)")
    try:
        load_release(duckdb.connect(), dataset, parquet, start_meanwhile=start)
    except InputError:
        pass  # a file typed by DuckDB's guess may not fit the descriptor: the import had started all the same
    assert said[0] == "import started"

    said.clear()
    gzip = tmp_path / "release.csv"
    gzip.write_bytes(b"\x1f\x8b" + b"\0" * 100)
    with pytest.raises(InputError):
        load_release(duckdb.connect(), dataset, gzip, start_meanwhile=start)
    assert "import started" not in said


def test_what_gxs_import_defers_is_imported_whole_when_an_expectation_uses_it():
    """The statistics and charts left out of Great Expectations' import (audit.validate.DEFERRED) are modules that
    run their code on first use: GX's KL-divergence expectation, which imports both, computes and draws as before.
    The deferring lasts only while GX is imported: its finder is gone after."""
    script = """
import sys
from audit.validate import DEFERRED, _import_validation
_import_validation(())
assert all(type(sys.modules[name]).__name__ == "_LazyModule" for name in DEFERRED), DEFERRED
assert not any(type(finder).__name__ == "_Deferring" for finder in sys.meta_path)
from great_expectations.expectations.core.expect_column_kl_divergence_to_be_less_than import alt, stats
print(round(float(stats.entropy([0.5, 0.5], [0.9, 0.1])), 6), alt.Chart.__name__, type(stats).__name__)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0.510826", "Chart", "module"]


def test_two_imports_of_gx_that_overlap_in_one_process_both_end_whole():
    """A process that runs one command after another (`audit init` then `audit check` in a notebook, or a test) may
    start a second background import of Great Expectations while the first still runs: each puts its deferring
    finder in place. Both imports end, GX whole and the finders gone (each once asked the other without end, and
    the first import failed with RecursionError, so the check after found a module half made)."""
    script = """
import sys, threading, time
from audit.validate import _import_validation
failed = []
def importing():
    try:
        _import_validation(())
    except BaseException as exc:
        failed.append(exc)
first = threading.Thread(target=importing)
first.start()
time.sleep(0.3)  # the first is inside GX's import, which takes seconds
second = threading.Thread(target=importing)
second.start()
first.join(); second.join()
from audit.validate.translate import findings_from_results
from great_expectations.expectations.core.expect_column_kl_divergence_to_be_less_than import stats
print(failed, callable(findings_from_results), type(stats).__name__,
      [type(f).__name__ for f in sys.meta_path if type(f).__name__ == "_Deferring"])
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "True", "_LazyModule", "[]"]



def test_init_builds_its_checks_from_our_whole_package_whatever_gxs_import_left_half_done(tmp_path):
    """`audit init` imports GX in a thread while it reads the table, then builds the checks it proposes from GX's
    registry, where our checks are only once their package is defined. That import can be caught with our base
    module whole and the checks not yet defined: init then found no sum check and exited 1 (1 init in 15 on a
    loaded machine). Here that state is made without a thread (the base module loaded, the package not), and init
    must still propose its sums."""
    script = """
import importlib.util, sys
from pathlib import Path
import audit.init
import audit.validate
base = Path(audit.validate.__file__).parent / "expectations" / "base.py"
spec = importlib.util.spec_from_file_location("audit.validate.expectations.base", base)
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module
spec.loader.exec_module(module)
audit.init.import_in_background = lambda *args: None  # the background import is the state above, stopped
audit.init.init_dataset(audit.init.Workspace.at(Path(sys.argv[1])), "county", sys.argv[2])
print("expect_column_values_to_equal_sum_of_columns" in (Path(sys.argv[1]) / "expectations" / "county.json").read_text())
"""
    table = Path(__file__).parent / "data" / "maryland-county-crime-2021-12.csv"
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path), str(table)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["True"]
