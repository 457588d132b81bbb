"""`audit check --engine spark` on a real Spark cluster on this machine: a standalone master and two workers, each
its own JVM, started and stopped by the test (pyspark's own spark-class), the check run as a separate process whose
audit.yaml names the master. Its findings are exactly DuckDB's."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
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


def test_check_on_a_standalone_cluster_gives_exactly_duckdbs_findings(cluster, tmp_path):
    master, status = cluster
    root = tmp_path / "office"
    for folder in ("datapackages", "expectations"):
        shutil.copytree(PROJECT / folder, root / folder)
    (root / "audit.yaml").write_text(f"spark: {{master: '{master}', conf: {{spark.executor.memory: 512m, "
                                     f"spark.cores.max: 2}}}}\n")

    def check(*engine: str) -> tuple[int, dict]:
        done = subprocess.run([sys.executable, "-m", "audit", "check", EXAMPLE, str(EXAMPLE_CSV), "--waivers",
                               str(EXAMPLE_WAIVERS), *engine, "--format", "json", "--workspace", str(root)],
                              capture_output=True, text=True, timeout=600)
        return done.returncode, json.loads(done.stdout)

    duck_code, on_duckdb = check()
    spark_code, on_spark = check("--engine", "spark")

    assert spark_code == duck_code
    assert on_spark["findings"] == on_duckdb["findings"] and on_duckdb["findings"]
    assert on_spark["release"]["engines"] == {"spark": 11, "duckdb": []}
    # It ran on the cluster, not in a local Spark: the master lists the application, finished.
    apps = json.load(urllib.request.urlopen(status, timeout=5))["completedapps"]
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


def test_check_and_diff_through_spark_connect_give_exactly_duckdbs_findings(connect_server, tmp_path):
    """Spark Connect: the audit is a thin client of a Spark server it did not start; the staged file is read there."""
    root = tmp_path / "office"
    for folder in ("datapackages", "expectations"):
        shutil.copytree(PROJECT / folder, root / folder)
    (root / "audit.yaml").write_text(f"spark: {{remote: '{connect_server}'}}\n")
    revised = EXAMPLE_CSV.parent / "2024-03-revised-example.csv"
    notes = EXAMPLE_CSV.parent.parent / "revision-notes-2024-03.yaml"

    def audit(*args: str) -> tuple[int, str]:
        done = subprocess.run([sys.executable, "-m", "audit", *args, "--workspace", str(root)],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode in (0, 1), done.stderr
        return done.returncode, done.stdout

    audit("ingest", EXAMPLE, str(EXAMPLE_CSV), "--waivers", str(EXAMPLE_WAIVERS), "--version", "2023-09",
          "--engine", "spark")
    assert audit("publish", EXAMPLE)[0] == 0
    check = ["check", EXAMPLE, str(revised), "--waivers", str(EXAMPLE_WAIVERS), "--notes", str(notes), "--format", "json"]
    (duck_code, duck_out), (spark_code, spark_out) = audit(*check), audit(*check, "--engine", "spark")
    on_duckdb, on_spark = json.loads(duck_out), json.loads(spark_out)

    assert spark_code == duck_code == 1
    assert on_spark["findings"] == on_duckdb["findings"] and on_spark["revisions"] == on_duckdb["revisions"]
    assert on_spark["release"]["engines"]["diff"] == "spark"
