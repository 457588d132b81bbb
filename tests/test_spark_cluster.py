"""`--engine spark` on real Spark servers on this machine, started and stopped by the tests with pyspark's own
scripts: a standalone master and two workers, each its own JVM, whose master a workspace's audit.yaml names; and a
Spark Connect server, which a workspace names as its `remote`. The findings and the diff are exactly DuckDB's.

The audit runs in the test's process, as a fresh Spark session of its own for each test (started by the command,
as in a process of its own, and stopped after): a Python process and a JVM fewer per test keep `make test` within
its CPU budget. The one exception is the check of a release only the cluster may open, which runs the command as
another account than the cluster's (tests/spark_cluster.py), so that the operating system says what it opened."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, PROJECT
from tests.spark_cluster import CLUSTER_ACCOUNT, DRIVER_ACCOUNT, accounts_problem, as_account, free_port, standalone


@pytest.fixture(scope="module")
def cluster():
    """A standalone master and two workers (tests/spark_cluster.py), as the account CLUSTER_ACCOUNT when the tests
    run as root (else as this process's own)."""
    with standalone(account=None if accounts_problem() else CLUSTER_ACCOUNT) as running:
        yield running


@pytest.fixture
def own_session():
    """The audit's Spark session (one per process) made afresh by the test's command, and stopped after it."""
    from audit.engine import spark

    before = spark._SESSION
    spark._SESSION = None
    yield
    if spark._SESSION is not None:
        spark._SESSION.stop()
    spark._SESSION = before
    os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)  # set by a Spark Connect session; classic sessions follow


def workspace_with(tmp_path, settings: str):
    from audit.workspace import Workspace

    root = tmp_path / "office"
    for folder in ("datapackages", "expectations"):
        shutil.copytree(PROJECT / folder, root / folder)
    (root / "audit.yaml").write_text(settings)
    return Workspace.at(root)


def audit(workspace, *args: str):
    from click.testing import CliRunner

    from audit.cli import cli

    result = CliRunner().invoke(cli, [*map(str, args), "--workspace", str(workspace.root)], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return result


def test_check_on_a_standalone_cluster_gives_exactly_duckdbs_findings(cluster, own_session, tmp_path):
    master, status = cluster.master, cluster.status
    # The driver (in this process's JVM, which an earlier test may have bound to 127.0.0.1) says where it listens.
    workspace = workspace_with(tmp_path, f"spark: {{master: '{master}', conf: {{spark.executor.memory: 512m, "
                                         f"spark.cores.max: 2, spark.driver.host: 127.0.0.1, "
                                         f"spark.driver.bindAddress: 127.0.0.1, "
                                         f"spark.executor.extraJavaOptions: -Doffice.own=1}}}}\n")
    check = ["check", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--format", "json"]

    on_duckdb = audit(workspace, *check)
    on_spark = audit(workspace, *check, "--engine", "spark")
    from audit.engine import spark

    # Every JVM of the session compiles the huge methods Spark generates, the office's own options kept after ours
    # (Spark puts its own first).
    conf = spark._SESSION.sparkContext.getConf()
    assert conf.get("spark.driver.extraJavaOptions").endswith(" ".join(spark.java_options()))
    assert conf.get("spark.executor.extraJavaOptions").endswith(" ".join([*spark.java_options(), "-Doffice.own=1"]))
    assert "-XX:-DontCompileHugeMethods" in spark.java_options()
    spark._SESSION.stop()  # the application ends, and the master lists it as completed

    assert on_spark.exit_code == on_duckdb.exit_code
    assert json.loads(on_spark.output)["findings"] == json.loads(on_duckdb.output)["findings"]
    assert json.loads(on_spark.output)["release"]["engines"] == {"spark": 11, "duckdb": []}
    # It ran on the cluster, not in a local Spark: the master lists the application, finished (once it has heard).
    deadline = time.time() + 30
    while not (apps := json.load(urllib.request.urlopen(status, timeout=5))["completedapps"]) and time.time() < deadline:
        time.sleep(0.5)
    assert [a["name"] for a in apps] == ["audit"]


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory):
    """A Spark Connect server on this machine (pyspark's own jar, local mode), its sc:// address."""
    import pyspark

    spark_submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    logs = tmp_path_factory.mktemp("spark-connect-logs")
    port = free_port()
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOG_DIR": str(logs)}
    server = subprocess.Popen(
        [str(spark_submit), "--class", "org.apache.spark.sql.connect.service.SparkConnectServer", "--master", "local[2]",
         "--conf", f"spark.connect.grpc.binding.port={port}", "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
         "--conf", "spark.ui.enabled=false", "--name", "audit-connect-test"],
        env=env, stdout=(logs / "server.log").open("w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while True:  # listening: the server is up
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.time() < deadline, f"Spark Connect did not start: see {logs}"
                time.sleep(1)
        yield f"sc://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_check_and_diff_through_spark_connect_give_exactly_duckdbs_findings(connect_server, own_session, tmp_path):
    """Spark Connect: the audit is a thin client of a Spark server it did not start; the staged file is read there."""
    workspace = workspace_with(tmp_path, f"spark: {{remote: '{connect_server}'}}\n")
    folder = EXAMPLE_CSV.parent.parent
    audit(workspace, "ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09")
    assert audit(workspace, "publish", EXAMPLE).exit_code == 0
    check = ["check", EXAMPLE, folder / "releases" / "2024-03-revised-example.csv", "--waivers", EXAMPLE_WAIVERS,
             "--notes", folder / "revision-notes-2024-03.yaml", "--format", "json"]

    on_duckdb, on_spark = audit(workspace, *check), audit(workspace, *check, "--engine", "spark")
    from audit.engine import spark

    assert type(spark._SESSION).__module__.startswith("pyspark.sql.connect")  # a client, not a driver of its own
    assert on_spark.exit_code == on_duckdb.exit_code == 1
    duck, remote = json.loads(on_duckdb.output), json.loads(on_spark.output)
    assert remote["findings"] == duck["findings"] and remote["revisions"] == duck["revisions"]
    assert remote["release"]["engines"]["diff"] == "spark"


def test_a_release_only_the_cluster_can_read_is_checked_and_recorded_where_it_lies(cluster, tmp_path):
    """Issue 31's Spark where the data live: the release is a folder of Parquet that only the cluster's account may
    open, and `audit ingest` runs as another account, which the operating system lets open none of it. The files
    are listed, typed, digested and checked on the executors, and the findings, the diff against the published
    release and the digest are exactly what DuckDB gives reading the same folder; the log records the release by
    its URI and that digest."""
    import pwd
    import sys
    import tempfile

    import duckdb

    why_not = accounts_problem()
    if why_not:
        pytest.skip(why_not)
    master, account = cluster.master, cluster.account
    shared = Path(tempfile.mkdtemp(prefix="audit-in-place-"))
    shared.chmod(0o755)
    try:
        # The office: the example's 2023-09 published, its 2024-03 revision to check, waivers and notes beside.
        folder = EXAMPLE_CSV.parent.parent
        workspace = workspace_with(shared, "")
        for file in (EXAMPLE_WAIVERS, folder / "revision-notes-2024-03.yaml"):
            shutil.copy(file, workspace.root / file.name)
        waivers, notes = (workspace.root / "waivers.yaml", workspace.root / "revision-notes-2024-03.yaml")
        audit(workspace, "ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", waivers, "--version", "2023-09")
        assert audit(workspace, "publish", EXAMPLE).exit_code == 0
        (workspace.root / "audit.yaml").write_text(
            f"spark: {{master: '{master}', conf: {{spark.executor.memory: 512m, spark.cores.max: 2, "
            f"spark.driver.host: 127.0.0.1, spark.driver.bindAddress: 127.0.0.1, "
            f"spark.pyspark.python: '{sys.executable}'}}}}\n")
        # The release: two Parquet files in a folder only the cluster's account may open.
        lake = shared / "lake" / "2024-03"
        lake.mkdir(parents=True)
        with duckdb.connect() as con:
            for name, where in (("part-0.parquet", '"Year" < 2020'), ("part-1.parquet", '"Year" >= 2020')):
                con.execute(f"COPY (SELECT * FROM read_csv('{folder / 'releases' / '2024-03-revised-example.csv'}', "
                            f"thousands = ',') WHERE {where}) TO '{lake / name}' (FORMAT parquet)")
        cluster_user, driver_user = pwd.getpwnam(account), pwd.getpwnam(DRIVER_ACCOUNT)
        for path in (lake.parent, lake, *lake.iterdir()):
            os.chown(path, cluster_user.pw_uid, cluster_user.pw_gid)
        lake.chmod(0o700)
        home = shared / "home"
        home.mkdir()
        for path in (home, workspace.root, *workspace.root.rglob("*")):
            os.chown(path, driver_user.pw_uid, driver_user.pw_gid, follow_symlinks=False)
        as_driver = [*as_account(DRIVER_ACCOUNT), sys.executable]
        env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(PROJECT)}
        reach = subprocess.run([*as_driver, "-c", "import audit, os, sys; os.listdir(sys.argv[1])", str(lake)],
                               env=env, capture_output=True, text=True)
        if "ModuleNotFoundError" in reach.stderr or "No such file" in reach.stderr:
            pytest.skip(f"runs the command as {DRIVER_ACCOUNT}, who cannot run this checkout's Python (it lies in a "
                        f"folder only its owner may enter): {reach.stderr.strip()[-200:]}")
        assert "PermissionError" in reach.stderr, "the driver's account must not be able to open the release"
        options = ["--waivers", str(waivers), "--notes", str(notes), "--format", "json"]

        # `ingest` runs the whole of `check` (one process fewer keeps `make test` in its budget), then records it.
        in_place = subprocess.run([*as_driver, "-m", "audit", "ingest", EXAMPLE, lake.as_uri(), *options, "--engine",
                                   "spark", "--workspace", str(workspace.root)],
                                  env=env, cwd=workspace.root, capture_output=True, text=True, timeout=600)
        on_duckdb = audit(workspace, "check", EXAMPLE, lake, *options)  # root reads the folder itself

        assert in_place.returncode == on_duckdb.exit_code == 1, in_place.stderr[-2000:]  # recorded all the same
        spark_report, duckdb_report = json.loads(in_place.stdout), json.loads(on_duckdb.output)
        assert spark_report["findings"] == duckdb_report["findings"]
        assert spark_report["revisions"] == duckdb_report["revisions"]
        assert spark_report["release"]["sha256"] == duckdb_report["release"]["sha256"]
        assert spark_report["release"]["rows"] == duckdb_report["release"]["rows"] == 6
        assert spark_report["release"]["engines"]["spark"] == 11
        # Recorded where it lies: the log keeps its URI and its files' digest, and no copy of its rows.
        with duckdb.connect(str(workspace.log_path), read_only=True) as log:
            kept = log.execute("SELECT data_table, data_digest FROM releases ORDER BY seq DESC LIMIT 1").fetchone()
        assert kept == (lake.as_uri(), duckdb_report["release"]["sha256"])
        assert not any(p.name.endswith(".data") for p in workspace.root.iterdir())
    finally:
        shutil.rmtree(shared, ignore_errors=True)
