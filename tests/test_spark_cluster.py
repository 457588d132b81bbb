"""`--engine spark` on real Spark servers on this machine, started and stopped by the tests with pyspark's own
scripts: a standalone master and two workers, each its own JVM, whose master a workspace's audit.yaml names; and a
Spark Connect server, which a workspace names as its `remote`. The findings and the diff are exactly DuckDB's.

The audit runs in the test's process, as a fresh Spark session of its own for each test (started by the command,
as in a process of its own, and stopped after): a Python process and a JVM fewer per test keep `make test` within
its CPU budget."""

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    import pyspark

    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    logs = tmp_path_factory.mktemp("spark-logs")
    port, ui = _free_port(), _free_port()
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOG_DIR": str(logs)}
    processes = [subprocess.Popen([str(spark_class), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                   "--port", str(port), "--webui-port", str(ui)], env=env,
                                  stdout=(logs / "master.log").open("w"), stderr=subprocess.STDOUT)]
    master = f"spark://127.0.0.1:{port}"
    for n in range(2):
        processes.append(subprocess.Popen(
            [str(spark_class), "org.apache.spark.deploy.worker.Worker", master, "--cores", "1", "--memory", "512m",
             "--webui-port", str(_free_port()), "--work-dir", str(logs / f"work-{n}")], env=env,
            stdout=(logs / f"worker-{n}.log").open("w"), stderr=subprocess.STDOUT))
    try:
        deadline = time.time() + 120
        while True:  # the master's own status page says when both workers have registered
            try:
                status = json.load(urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=2))
                if sum(1 for w in status.get("workers", []) if w.get("state") == "ALIVE") == 2:
                    break
            except OSError:
                pass
            assert time.time() < deadline, f"the Spark cluster did not start: see {logs}"
            time.sleep(1)
        yield master, f"http://127.0.0.1:{ui}/json/"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


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
    master, status = cluster
    # The driver (in this process's JVM, which an earlier test may have bound to 127.0.0.1) says where it listens.
    workspace = workspace_with(tmp_path, f"spark: {{master: '{master}', conf: {{spark.executor.memory: 512m, "
                                         f"spark.cores.max: 2, spark.driver.host: 127.0.0.1, "
                                         f"spark.driver.bindAddress: 127.0.0.1}}}}\n")
    check = ["check", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--format", "json"]

    on_duckdb = audit(workspace, *check)
    on_spark = audit(workspace, *check, "--engine", "spark")
    from audit.engine import spark

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
    port = _free_port()
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
