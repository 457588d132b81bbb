"""Stress the change log: out-of-band tampering, processes killed at random moments, concurrent writers.

    .venv/bin/python -m tests.stress.change_log [--mutations 1000] [--kills 100] [--writers 8] [--json out.json]

A script, not a test (it runs for several minutes). It builds a workspace with an
incident-level dataset (the benchmark's generator, 50,000 rows by default), two
published versions, then:

mutations  copies the log and changes it as anyone holding the file could: updates a cell
           of any table (stored release rows included), deletes a row, inserts a row (a copy,
           at the same or another position), reorders (swaps two entries' positions, or
           shuffles a stored release). `audit verify` with both packages must catch each.
kills      runs ingest and publish (cycling through the four steps of two releases) and
           SIGKILLs each at a random moment of its run; after each kill, the workspace must
           be consistent (tests/consistency.py) and a re-run must succeed.
writers    starts that many ingests into one log at once: with a long lock timeout all must
           be recorded; with a short one the losers must exit 2 with a message, no traceback.
           Either way the log must verify.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from audit.log.store import TABLES
from tests.bench.incidents import DATASET, csv_releases, fresh_workspace
from tests.consistency import inconsistencies, packages

# -- the commands --------------------------------------------------------------


def steps(files: dict[str, Path]) -> list[list[str]]:
    """The four commands of two releases' lives: ingest and publish, twice."""
    return [["ingest", DATASET, str(files["v1"]), "--version", "1"], ["publish", DATASET],
            ["ingest", DATASET, str(files["v2"]), "--version", "2", "--notes", str(files["notes"])],
            ["publish", DATASET]]


def audit(root: Path, args: list[str], **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "audit", *args, "--workspace", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def run_audit(root: Path, args: list[str]) -> tuple[int, str, float]:
    start = time.perf_counter()
    proc = audit(root, args)
    _, err = proc.communicate()
    return proc.returncode, err, time.perf_counter() - start


# -- mutations -----------------------------------------------------------------


def _new_value_sql(column: str, kind: str) -> str:
    c = f'"{column}"'
    if kind == "VARCHAR":
        return f"coalesce({c} || 'x', 'x')"
    if kind == "BOOLEAN":
        return f"coalesce(NOT {c}, true)"
    if kind.startswith("TIMESTAMP"):
        return f"coalesce({c} + INTERVAL 1 SECOND, TIMESTAMP '2000-01-01')"
    if kind == "DATE":
        return f"coalesce({c} + 1, DATE '2000-01-01')"
    return f"coalesce({c} + 1, 1)"


def mutate(con: duckdb.DuckDBPyConnection, rng: random.Random) -> str | None:
    """One random out-of-band change to the log in `con`; a description, or None if it would change nothing."""
    data_tables = [f'release_data."{r[0]}"' for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'release_data'").fetchall()]
    tables = [t for t in TABLES if con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]] + data_tables
    table = rng.choice(tables)
    rowids = [r[0] for r in con.execute(f"SELECT rowid FROM {table}").fetchall()]
    rowid = rng.choice(rowids)
    kind = rng.choice(["update", "delete", "insert", "reorder"])
    if kind == "update":
        column, ctype = rng.choice(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall())
        con.execute(f'UPDATE {table} SET "{column}" = {_new_value_sql(column, ctype)} WHERE rowid = {rowid}')
        return f"update: {table}.{column}"
    if kind == "delete":
        con.execute(f"DELETE FROM {table} WHERE rowid = {rowid}")
        return f"delete: a row of {table}"
    if kind == "insert":
        if table in data_tables or rng.random() < 0.3:
            con.execute(f"INSERT INTO {table} SELECT * FROM {table} WHERE rowid = {rowid}")
            return f"insert: a copy of a row of {table}"
        (top,) = con.execute("SELECT max(seq) FROM (" + " UNION ALL ".join(
            f"SELECT seq FROM {t}" for t in TABLES) + ")").fetchall()[0]
        seq = rng.choice([top + 1, rng.randint(1, top)])
        con.execute(f"INSERT INTO {table} SELECT * REPLACE ({seq} AS seq) FROM {table} WHERE rowid = {rowid}")
        return f"insert: a copy of an entry of {table} at seq {seq}"
    if table in data_tables:
        before = con.execute(f"SELECT list(t) FROM (SELECT * FROM {table} ORDER BY rowid) t").fetchall()[0][0]
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table} ORDER BY random()")
        after = con.execute(f"SELECT list(t) FROM (SELECT * FROM {table} ORDER BY rowid) t").fetchall()[0][0]
        return None if before == after else f"reorder: shuffle the rows of {table}"
    other = rng.choice([t for t in tables if t not in data_tables])
    (seq_a,) = con.execute(f"SELECT seq FROM {table} WHERE rowid = {rowid}").fetchall()[0]
    (other_rowid, seq_b) = rng.choice(con.execute(f"SELECT rowid, seq FROM {other}").fetchall())
    if seq_a == seq_b:
        return None
    con.execute(f"UPDATE {table} SET seq = {seq_b} WHERE rowid = {rowid}")
    con.execute(f"UPDATE {other} SET seq = {seq_a} WHERE rowid = {other_rowid}")
    return f"reorder: swap the positions of an entry of {table} and one of {other}"


def mutation_stress(root: Path, count: int, rng: random.Random) -> dict:
    from audit import pipeline
    from audit.workspace import Workspace

    published = packages(Workspace.at(root))
    tried, caught, missed = 0, 0, []
    by_kind: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory(prefix="audit-mutate-") as tmp:
        copy_root = Path(tmp)
        while tried < count:
            shutil.copy(root / "audit.duckdb", copy_root / "audit.duckdb")
            with duckdb.connect(str(copy_root / "audit.duckdb")) as con:
                what = mutate(con, rng)
            if what is None:
                continue
            tried += 1
            ok = pipeline.verify(Workspace.at(copy_root), published).ok
            kind = what.split(":")[0]
            tally = by_kind.setdefault(kind, [0, 0])
            tally[0] += 1
            if not ok:
                caught += 1
                tally[1] += 1
            else:
                missed.append(what)
            (copy_root / "audit.duckdb").unlink()
    return {"tried": tried, "caught": caught, "by_kind": {k: {"tried": v[0], "caught": v[1]} for k, v in by_kind.items()},
            "missed": missed}


# -- kills ---------------------------------------------------------------------


def kill_stress(template: Path, files: dict[str, Path], durations: list[float], count: int, rng: random.Random,
                work: Path) -> dict:
    """Kill each step at a moment drawn from its clean run's duration (`durations`, measured in setup)."""
    commands = steps(files)
    killed = finished_first = inconsistent = failed_reruns = 0
    problems: list[str] = []
    cycle, step = 0, 0
    root = fresh_workspace(template, work / "w0")
    while killed < count:
        delay = rng.uniform(0, durations[step])
        proc = audit(root, commands[step])
        try:
            proc.wait(timeout=delay)
            finished_first += 1
        except subprocess.TimeoutExpired:
            proc.kill()
            killed += 1
        proc.communicate()
        found = inconsistencies(root)
        if found:
            inconsistent += 1
            problems.append(f"after killing `{' '.join(commands[step][:1])}` at {delay:.2f} s: {found}")
        code, err, seconds = run_audit(root, commands[step])
        if code not in (0, 1) or inconsistencies(root):
            failed_reruns += 1
            problems.append(f"re-run of `{commands[step][0]}` exited {code}: {err.strip()[-300:]}")
        print(f"  kill {killed:>3}/{count}: {commands[step][0]:<7} at {delay:5.2f} s of {durations[step]:5.2f} s, "
              f"consistent: {not found}, re-run exit {code} in {seconds:.2f} s", flush=True)
        step = (step + 1) % len(commands)
        if step == 0:
            shutil.rmtree(root)
            cycle += 1
            root = fresh_workspace(template, work / f"w{cycle}")
    return {"kill_points": killed, "finished_before_the_kill": finished_first, "inconsistent": inconsistent,
            "failed_reruns": failed_reruns, "problems": problems}


# -- concurrent writers ------------------------------------------------------


def writer_stress(template: Path, files: dict[str, Path], writers: int, lock_timeout: float, work: Path) -> dict:
    root = fresh_workspace(template, work)
    variants = []
    lines = files["v1"].read_text().splitlines(keepends=True)
    for k in range(writers):  # each writer its own release: the first file with one row left out
        path = work / f"writer-{k}.csv"
        path.write_text("".join(lines[:1] + lines[1:k + 1] + lines[k + 2:]))
        variants.append(path)
    start = time.perf_counter()
    procs = [audit(root, ["ingest", DATASET, str(v), "--version", f"w{k}", "--lock-timeout", str(lock_timeout)])
             for k, v in enumerate(variants)]
    outcomes = [(p.wait(), p.communicate()[1]) for p in procs]
    seconds = time.perf_counter() - start
    codes = [c for c, _ in outcomes]
    with duckdb.connect(str(root / "audit.duckdb"), read_only=True) as con:
        recorded = con.execute("SELECT count(*) FROM releases").fetchall()[0][0]
    found = inconsistencies(root)
    return {
        "writers": writers, "lock_timeout": lock_timeout, "seconds": round(seconds, 1),
        "exit_codes": {str(c): codes.count(c) for c in sorted(set(codes))}, "recorded": recorded,
        "tracebacks": sum("Traceback" in err for _, err in outcomes),
        "lock_messages": sum("in use by another audit process" in err for _, err in outcomes),
        "corrupted_logs": int(bool(found)), "problems": found,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--mutations", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    results: dict = {"rows": args.rows, "seed": args.seed}
    with tempfile.TemporaryDirectory(prefix="audit-stress-") as tmp:
        work = Path(tmp)
        template = work / "template"
        files = csv_releases(template, args.rows)
        print(f"workspace: {args.rows:,} incidents, two releases; building the log with two publications", flush=True)
        base = fresh_workspace(template, work / "base")
        durations = []
        for command in steps(files):
            code, err, seconds = run_audit(base, command)
            if code != 0:
                sys.exit(f"setting up: `audit {' '.join(command)}` exited {code}: {err}")
            durations.append(seconds)
        results["step_seconds"] = dict(zip(["ingest 1", "publish 1", "ingest 2", "publish 2"], durations))

        print(f"mutations: {args.mutations} random out-of-band changes, each then `audit verify`", flush=True)
        results["mutations"] = mutation_stress(base, args.mutations, rng)
        print(f"kills: {args.kills} commands SIGKILLed at random moments", flush=True)
        results["kills"] = kill_stress(template, files, durations, args.kills, rng, work / "kills")
        print(f"writers: {args.writers} concurrent ingests into one log", flush=True)
        results["writers_wait"] = writer_stress(template, files, args.writers, 300, work / "writers-wait")
        results["writers_timeout"] = writer_stress(template, files, args.writers, 0.5, work / "writers-timeout")

    m, k = results["mutations"], results["kills"]
    print()
    print(f"mutations tried {m['tried']:>5}, caught by verify {m['caught']:>5}   "
          + ", ".join(f"{kind} {v['caught']}/{v['tried']}" for kind, v in m["by_kind"].items()))
    print(f"kill points     {k['kill_points']:>5}, inconsistent outcomes {k['inconsistent']}, failed re-runs "
          f"{k['failed_reruns']} ({k['finished_before_the_kill']} runs finished before their kill and are not counted)")
    for key in ("writers_wait", "writers_timeout"):
        w = results[key]
        print(f"writers {w['writers']} (lock timeout {w['lock_timeout']:g} s): exit codes {w['exit_codes']}, "
              f"recorded {w['recorded']}, clean lock messages {w['lock_messages']}, tracebacks {w['tracebacks']}, "
              f"corrupted logs {w['corrupted_logs']}, {w['seconds']} s")
    for problem in m["missed"] + k["problems"]:
        print("  !", problem)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    bad = m["caught"] < m["tried"] or k["inconsistent"] or k["failed_reruns"] or any(
        results[w]["corrupted_logs"] or results[w]["tracebacks"] for w in ("writers_wait", "writers_timeout"))
    os._exit(1 if bad else 0)  # os._exit: skip DuckDB's teardown report (see exit_skipping_teardown)


if __name__ == "__main__":
    main()
