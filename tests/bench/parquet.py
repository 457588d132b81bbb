"""Benchmark: `audit check` of an incident release kept as Parquet, at 10M rows and more, against plain DuckDB.

    .venv/bin/python -m tests.bench.parquet --rows 10000000 [100000000] [--json out.json]

For each size it writes one Baltimore-like incident release as Parquet (tests/bench/incidents.py's columns:
generated, never committed) and a workspace whose suite is the bench suite written with GX's standard
names (not-null, between, in-set, unique, a regex on the incident id), which run as our own SQL checks.
Each measurement runs in its own process; its peak memory is that of the process and its children together (on
Spark, the JVM):

    floor    DuckDB alone: the same checks as plain SQL over read_parquet
    check    `audit check` of the Parquet file: read it where it lies, type it, run the suite, nothing recorded
    ingest + publish   `audit ingest` of the file (typed, checked, recorded with its copy in the log's folder as
             Parquet), then `audit publish` (the package's CSV written and read back against the recorded digest)

and, for the sizes given to --spark-rows, on Spark in local mode (and with --cluster, on a standalone master with
two workers started for the run, tests/spark_cluster.py):

    spark floor     pyspark alone: the same checks as plain Spark SQL over spark.read.parquet
    spark check     `audit check --engine spark FILE`: typed by DuckDB, streamed to a staged Parquet file, which
                    Spark reads and runs the suite on (local mode only)
    spark in place  `audit check --engine spark file://...`: listed, typed, digested and checked on the executors
                    (audit.ingest.in_place); the driver opens nothing of the release
    spark ingest in place  `audit ingest --engine spark file://...` into a log of its own: the same, and recorded
                    by its URI and its files' digest, with no copy of its rows (audit.log.copies)

Not a test: read the ratio to the floor measured in the same run, not single figures.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.incidents import BOUNDS, CODES, DATASET, write_workspace

SUITE = [
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "occurred"}},
    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "offense_code", "value_set": list(CODES)}},
    {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "incident_id", "regex": "^I[0-9]{9}$"}},
    *({"type": "expect_column_values_to_be_between", "kwargs": {"column": c, "min_value": lo, "max_value": hi}}
      for c, (lo, hi) in BOUNDS.items()),
]
SPARK_FLOOR = """
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("{master}").config("spark.ui.enabled", "false").config("spark.driver.memory", "5g")
         .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
         .config("spark.executor.memory", "{executor_memory}").getOrCreate())
spark.read.parquet('{path}').createOrReplaceTempView("t")
spark.sql("SELECT count_if(occurred IS NULL), count_if(offense_code NOT IN ({codes})), "
          "count_if(NOT incident_id RLIKE '^I[0-9]{{9}}$'), {bounds} FROM t").collect()
spark.sql("SELECT incident_id, count(*) FROM t GROUP BY incident_id HAVING count(*) > 1").collect()
spark.stop()
"""
FLOOR = """
import duckdb, sys
con = duckdb.connect()
src = "read_parquet('{path}')"
con.execute(f"SELECT count(*) FILTER (WHERE occurred IS NULL), "
            f"count(*) FILTER (WHERE offense_code NOT IN ({codes})), "
            f"count(*) FILTER (WHERE NOT regexp_matches(incident_id, '^I[0-9]{{{{9}}}}$')), "
            f"{bounds} FROM {{src}}").fetchall()
con.execute(f"SELECT incident_id, count(*) FROM {{src}} GROUP BY ALL HAVING count(*) > 1").fetchall()
"""


def generate(path: Path, rows: int) -> None:
    import duckdb

    codes = "[" + ", ".join(f"'{c}'" for c in CODES) + "]"
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        con.execute("CREATE MACRO h(v, salt, n) AS CAST(hash(v, salt) % n AS BIGINT)")
        con.execute(f"""COPY (SELECT 'I' || lpad(CAST(i AS VARCHAR), 9, '0') AS incident_id,
            TIMESTAMP '2015-01-01' + to_seconds(CAST(h(i, 1, 315360000) AS BIGINT)) AS occurred,
            {codes}[1 + h(i, 2, {len(CODES)})] AS offense_code, 'Description ' || h(i, 2, {len(CODES)}) AS description,
            'District ' || h(i, 3, 9) AS district, 'Neighborhood ' || h(i, 4, 278) AS neighborhood,
            round(39.2 + h(i, 5, 180000) / 1e6, 6) AS latitude, round(-76.7 + h(i, 6, 180000) / 1e6, 6) AS longitude,
            'Premise ' || h(i, 7, 120) AS premise, ['FIREARM', 'KNIFE', 'HANDS', 'OTHER'][1 + h(i, 8, 4)] AS weapon,
            CAST(h(i, 9, 90) AS INTEGER) AS victim_age, ['M', 'F', 'U'][1 + h(i, 10, 3)] AS victim_sex,
            ['BLACK', 'WHITE', 'ASIAN', 'UNKNOWN'][1 + h(i, 11, 4)] AS victim_race
            FROM range({rows}) t(i)) TO '{path}' (FORMAT parquet)""")


def measure(command: list[str], ok: tuple[int, ...] = (0, 1)) -> tuple[float, float, float, int]:
    """(seconds, peak RSS in MiB of the process and its children together (Spark's JVM is one), peak RSS in MiB of
    the process alone, exit code), sampled every 0.1 s with psutil: GNU time would report only the largest single
    process. The end of its stderr is shown when it exits with a code not in `ok` (an audit's 1: findings)."""
    import psutil

    start = time.perf_counter()
    errors = tempfile.TemporaryFile()
    process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
    peak = own = 0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            sizes = [p.memory_info().rss for p in tree if p.is_running()]
            peak, own = max(peak, sum(sizes)), max(own, sizes[0])
        except (psutil.Error, IndexError):  # a process ended between listing and reading
            pass
        time.sleep(0.1)
    seconds = time.perf_counter() - start
    if process.returncode not in ok:
        errors.seek(0)
        sys.stderr.write(errors.read().decode(errors="replace")[-3000:])
    errors.close()
    return seconds, peak / 2**20, own / 2**20, process.returncode


def measure_floor(command: list[str]) -> tuple[float, float]:
    """(seconds, peak MiB) of a floor, which has to succeed: a floor that fails early is no floor (Spark's refused its
    own regex from 3f15fe0 on, and every Spark ratio until 2026-12-07 was taken against a JVM start)."""
    seconds, mb, _, code = measure(command, ok=(0,))
    if code != 0:
        raise SystemExit(f"the floor failed (exit {code}): its error is above")
    return seconds, mb


def spark_on(root: Path, path: Path, rows: int, master: str, staged: bool) -> dict:
    """The Spark floor and `audit check` on `master`: of the file staged by the driver (with `staged`) and of the
    release read where it lies; then `audit ingest` of it where it lies. Prints a row for each; returns the
    figures."""
    where = "local" if master.startswith("local") else "standalone, 2 workers"
    bounds = ", ".join(f"count_if({c} NOT BETWEEN {lo} AND {hi})" for c, (lo, hi) in BOUNDS.items())
    floor = SPARK_FLOOR.format(path=path, codes=", ".join(f"'{c}'" for c in CODES), bounds=bounds, master=master,
                               executor_memory="5g")
    # In local mode the driver is the executor: its memory holds a whole file to digest it (audit.ingest.in_place).
    (root / "audit.yaml").write_text(json.dumps({"spark": {"master": master, "conf": {
        "spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1", "spark.executor.memory": "5g",
        "spark.driver.memory": "5g" if master.startswith("local") else "1g", "spark.pyspark.python": sys.executable}}}))
    f_seconds, f_mb = measure_floor([sys.executable, "-c", floor])
    out = {f"spark_{where}_floor_seconds": f_seconds, f"spark_{where}_floor_mb": f_mb}
    # Recorded where it lies, into a workspace of its own: the bench's own log is for the DuckDB ingest after.
    office = root / f"ingest-in-place-{where.split(',')[0]}"
    for part in ("datapackages", "expectations"):
        shutil.copytree(root / part, office / part)
    shutil.copy(root / "audit.yaml", office / "audit.yaml")
    runs = [("staged", "check", str(path), root)] if staged else []
    runs += [("in place", "check", path.as_uri(), root), ("ingest in place", "ingest", path.as_uri(), office)]
    for name, command, release, workspace in runs:
        seconds, mb, driver_mb, code = measure([sys.executable, "-m", "audit", command, DATASET, release, "--engine",
                                                "spark", "--workspace", str(workspace), "--format", "json"])
        if code not in (0, 1):
            raise SystemExit(f"audit {command} --engine spark ({name}, {where}) failed (exit {code}) at {rows:,} rows")
        out.update({f"spark_{where}_{name}_seconds": seconds, f"spark_{where}_{name}_mb": mb,
                    f"spark_{where}_{name}_driver_mb": driver_mb})
        print(f"| {rows:,} on Spark {where}, {name} | {f_seconds:.1f} | {f_mb:,.0f} | {seconds:.1f} | {mb:,.0f} "
              f"(the audit process alone: {driver_mb:,.0f}) | {seconds / f_seconds:.1f}x |", flush=True)
    (root / "audit.yaml").unlink()
    return out


def ingest_and_publish(root: Path, path: Path, rows: int, floor_seconds: float) -> dict:
    """`audit ingest` of the Parquet release, then `audit publish`, each a process of its own; prints a row."""
    steps = []
    for command in (["ingest", DATASET, str(path), "--version", "1"], ["publish", DATASET]):
        seconds, mb, _, code = measure([sys.executable, "-m", "audit", *command, "--workspace", str(root)])
        if code != 0:
            raise SystemExit(f"audit {command[0]} failed (exit {code}) at {rows:,} rows")
        steps.append((seconds, mb))
    seconds, mb = sum(s for s, _ in steps), max(m for _, m in steps)
    print(f"| {rows:,}, ingest + publish ({steps[0][0]:.1f} + {steps[1][0]:.1f} s) | {floor_seconds:.1f} | | "
          f"{seconds:.1f} | {mb:,.0f} | {seconds / floor_seconds:.1f}x |", flush=True)
    return {"ingest_seconds": steps[0][0], "publish_seconds": steps[1][0], "ingest_publish_mb": mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000_000])
    parser.add_argument("--spark-rows", type=int, nargs="*", default=[10_000_000])
    parser.add_argument("--cluster", action="store_true", help="also on a standalone master with two workers")
    parser.add_argument("--ingest-rows", type=int, nargs="*", default=[], help="sizes also ingested and published")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = []
    print("| rows | floor s | floor MiB | check s | check MiB | check / floor |")
    print("|---|---|---|---|---|---|")
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="audit-bench-parquet-") as tmp:
            root = Path(tmp)
            write_workspace(root)
            (root / "expectations" / f"{DATASET}.json").write_text(json.dumps({"name": DATASET, "expectations": SUITE}))
            path = root / "release.parquet"
            generate(path, rows)
            bounds = ", ".join(f"count(*) FILTER (WHERE {c} NOT BETWEEN {lo} AND {hi})" for c, (lo, hi) in BOUNDS.items())
            floor = FLOOR.format(path=path, codes=", ".join(f"'{c}'" for c in CODES), bounds=bounds)
            f_seconds, f_mb = measure_floor([sys.executable, "-c", floor])
            c_seconds, c_mb, _, code = measure([sys.executable, "-m", "audit", "check", DATASET, str(path),
                                             "--workspace", str(root), "--format", "json"])
            if code not in (0, 1):
                raise SystemExit(f"audit check failed (exit {code}) at {rows:,} rows")
            result = {"rows": rows, "floor_seconds": f_seconds, "floor_mb": f_mb, "check_seconds": c_seconds,
                      "check_mb": c_mb}
            print(f"| {rows:,} | {f_seconds:.1f} | {f_mb:,.0f} | {c_seconds:.1f} | {c_mb:,.0f} | "
                  f"{c_seconds / f_seconds:.1f}x |", flush=True)
            if rows in args.spark_rows:
                result.update(spark_on(root, path, rows, "local[*]", staged=True))
                if args.cluster:
                    from tests.spark_cluster import standalone

                    with standalone(workers=2, cores=1, memory="6g") as cluster:
                        result.update(spark_on(root, path, rows, cluster.master, staged=False))
            if rows in args.ingest_rows:  # last: once published, the release is every later check's baseline
                result.update(ingest_and_publish(root, path, rows, f_seconds))
            results.append(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
