"""A Spark standalone cluster on this machine, started and stopped with pyspark's own scripts: a master and
workers, each its own JVM, for the cluster tests (tests/test_spark_cluster.py) and the Spark benchmark
(tests/bench/parquet.py).

Run by root, the cluster can run as another account (`account`), so that what its executors may open and what the
command's driver may open are the operating system's word."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

# Accounts every Debian-based system has (base-passwd): run by root, the cluster runs as the first and a driver that
# must not read a release as the second.
CLUSTER_ACCOUNT, DRIVER_ACCOUNT = "daemon", "nobody"


@dataclass(frozen=True)
class Cluster:
    master: str               # spark://127.0.0.1:PORT
    status: str               # the master's status page, as JSON
    account: str | None       # the account its processes run as (None: this process's own)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_account(account: str | None) -> list[str]:
    """The command prefix that runs a process as `account` (none: as this process's own)."""
    if account is None:
        return []
    import pwd

    user = pwd.getpwnam(account)
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]


def accounts_problem() -> str | None:
    """Why the cluster and a driver cannot run as other accounts here (None when they can)."""
    import pwd

    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return ("shows the command cannot open the release by running the cluster and the command as two other "
                "accounts, which needs root and setpriv (run the tests as root to include it)")
    try:
        for account in (CLUSTER_ACCOUNT, DRIVER_ACCOUNT):
            pwd.getpwnam(account)
    except KeyError:
        return (f"runs the cluster as {CLUSTER_ACCOUNT} and the command as {DRIVER_ACCOUNT}, accounts every Debian "
                "system has and this one lacks")
    return None


@contextmanager
def standalone(workers: int = 2, cores: int = 1, memory: str = "512m", account: str | None = None) -> Iterator[Cluster]:
    """A master and `workers` workers of `cores` cores and `memory` each, as `account`, until the block ends."""
    import pyspark

    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    # Not under pytest's own folders, which only root may enter: the workers keep their work here.
    logs = Path(tempfile.mkdtemp(prefix="audit-spark-cluster-"))
    logs.chmod(0o755)
    if account:
        import pwd

        user = pwd.getpwnam(account)
        os.chown(logs, user.pw_uid, user.pw_gid)
    port, ui = free_port(), free_port()
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOG_DIR": str(logs), "HOME": str(logs)}
    processes = [subprocess.Popen([*as_account(account), str(spark_class), "org.apache.spark.deploy.master.Master",
                                   "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui)], env=env,
                                  stdout=(logs / "master.log").open("w"), stderr=subprocess.STDOUT)]
    master = f"spark://127.0.0.1:{port}"
    for n in range(workers):
        processes.append(subprocess.Popen(
            [*as_account(account), str(spark_class), "org.apache.spark.deploy.worker.Worker", master, "--cores",
             str(cores), "--memory", memory, "--webui-port", str(free_port()), "--work-dir", str(logs / f"work-{n}")],
            env=env, stdout=(logs / f"worker-{n}.log").open("w"), stderr=subprocess.STDOUT))
    try:
        deadline = time.time() + 120
        while True:  # the master's own status page says when every worker has registered
            try:
                status = json.load(urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=2))
                if sum(1 for w in status.get("workers", []) if w.get("state") == "ALIVE") == workers:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"the Spark cluster did not start: see {logs}")
            time.sleep(1)
        yield Cluster(master, f"http://127.0.0.1:{ui}/json/", account)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(logs, ignore_errors=True)
