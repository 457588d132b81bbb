"""Benchmark: the whole audit at city scale, against plain DuckDB and Great Expectations on pandas.

    .venv/bin/python -m tests.bench.city_scale [--rows 1000000] [--process-rows 5000000 10000000] [--json out.json]

For each size it writes two Baltimore-like incident releases as CSV (tests/bench/incidents.py: 13
columns; the second revises about 2 percent of rows) and a workspace whose suite checks them. Every
measurement runs in its own process, so its peak RSS is its own; the figures of one run share the
machine's state, so read the ratios.

In one process, interpreter start and imports excluded (--rows, default 1M):
    floor 1        DuckDB: read_csv of release 1, then the suite's checks as plain SQL
    audit 1        ingest release 1 (read, type, validate with the GX suite, record), then publish it
    floor 2        DuckDB: read_csv of release 2, the same checks, and the revision join (a full outer join
                   on the key with "any column differs") against release 1 in a DuckDB file
    audit 2        ingest release 2 with its notes (the above plus the diff, every change recorded), publish it
    check          `audit check` of release 1: read, type and validate with the suite; nothing recorded
    gx-pandas      Great Expectations on pandas: pd.read_csv, then the same suite with stock expectations
                   (the implied checks written as in_set, be_unique and not_match_regex)
    frictionless   `frictionless validate` of release 1 (a whole process)

As whole command-line processes (--process-rows, default 5M and 10M): `audit ingest` then `audit publish`
for each release, against a floor process (python + duckdb doing floor 1 / floor 2), and `audit check` of release 1
in a workspace with nothing recorded, against floor 1; also `audit --help`. For the sizes given to
--first-release-rows (100M in `make bench`), release 1 alone (ingest + publish, and check): its CSV is 12 GB.

Targets (issue 31), printed beside each figure: ingest + publish and check <= 3x floor below 10M rows (1M in process
too), <= 2.5x at 10M and 100M; each command's peak RSS within DuckDB's memory limit plus 500 MB (2,384 MiB); check
>= 5x faster than gx-pandas at 1M; `audit --help` < 0.5 s (issue 7: peak RSS < 1 GB at 1M, 10M whole audit < 60 s
and < 4 GB). The 10M x 10M revision diff is tests/bench/revision_diff.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from audit.formulas import FORMULA_START
from tests.bench.incidents import BOUNDS, CODES, DATASET, SUITE, TEXT_COLUMNS, csv_releases, fresh_workspace
from tests.bench.measured import run_measured

AUDIT = [sys.executable, "-m", "audit"]


# -- the floor: plain DuckDB -------------------------------------------------------------------------------

def floor_checks_sql(table: str) -> list[str]:
    """The suite's checks (the file's and the implied ones) as plain SQL, one aggregate and the key."""
    checks = ["count(*) FILTER (WHERE incident_id IS NULL)", "count(*) FILTER (WHERE occurred IS NULL)",
              f"count(*) FILTER (WHERE offense_code NOT IN ({', '.join(repr(c) for c in CODES)}))"]
    checks += [f"count(*) FILTER (WHERE {c} NOT BETWEEN {lo} AND {hi})" for c, (lo, hi) in BOUNDS.items()]
    checks += [f"count(*) FILTER (WHERE regexp_matches({c}, '{FORMULA_START}'))" for c in TEXT_COLUMNS]
    return [f"SELECT {', '.join(checks)} FROM {table}",
            f"SELECT incident_id, count(*) FROM {table} GROUP BY ALL HAVING count(*) > 1"]


def floor(csv: Path, published: Path | None) -> dict:
    """Load `csv` and run the checks; with `published` (a DuckDB file holding release 1), the revision join too."""
    import duckdb

    con = duckdb.connect()
    if published is not None:
        con.execute(f"ATTACH '{published}' AS published (READ_ONLY)")
    start = time.perf_counter()
    con.execute(f"CREATE TABLE release AS SELECT * FROM read_csv('{csv}')")
    loaded = time.perf_counter()
    for sql in floor_checks_sql("release"):
        con.execute(sql).fetchall()
    checked = time.perf_counter()
    out = {"load_seconds": loaded - start, "checks_seconds": checked - loaded}
    if published is not None:
        columns = [r[0] for r in con.execute("DESCRIBE release").fetchall()][1:]
        differs = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in columns)
        (changed,) = con.execute(
            f"SELECT count(*) FROM published.release o FULL OUTER JOIN release n ON o.incident_id = n.incident_id "
            f"WHERE o.incident_id IS NULL OR n.incident_id IS NULL OR {differs}").fetchone()
        out.update(diff_seconds=time.perf_counter() - checked, changed_rows=changed)
    out["seconds"] = time.perf_counter() - start
    return out


# -- the audit, in one process -------------------------------------------------------------------------------

def audit_in_process(root: Path, release: str, files: dict[str, Path]) -> dict:
    """Ingest release "1" or "2" (with its notes) and publish it; imports done before the clock starts."""
    import great_expectations  # noqa: F401  (what the commands import, loaded before timing)

    from audit import pipeline
    from audit.publish import publication, report_page  # noqa: F401
    from audit.validate import expectations  # noqa: F401
    from audit.workspace import Workspace

    workspace = Workspace.at(root)
    notes = files["notes"] if release == "2" else None
    start = time.perf_counter()
    ingested = pipeline.ingest(workspace, DATASET, files[f"v{release}"], version=release, notes=notes)
    middle = time.perf_counter()
    published = pipeline.publish(workspace, DATASET)
    end = time.perf_counter()
    if published.refused or not ingested.report.success:
        raise SystemExit(f"release {release} was refused: {ingested.report.findings[:3]}")
    return {"seconds": end - start, "ingest_seconds": middle - start, "publish_seconds": end - middle,
            "findings": len(ingested.report.findings)}


def check_in_process(root: Path, csv: Path) -> dict:
    import great_expectations  # noqa: F401

    from audit import pipeline
    from audit.validate import expectations  # noqa: F401
    from audit.workspace import Workspace

    start = time.perf_counter()
    report = pipeline.check(Workspace.at(root), DATASET, csv)
    return {"seconds": time.perf_counter() - start, "findings": len(report.findings)}


# -- Great Expectations on pandas -------------------------------------------------------------------------

def gx_pandas_suite() -> list[dict]:
    """The suite as stock GX expectations: the file's, and the implied ones the audit adds."""
    implied = [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "incident_id"}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "incident_id"}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "offense_code", "value_set": list(CODES)}},
        *({"type": "expect_column_values_to_not_match_regex", "kwargs": {"column": c, "regex": FORMULA_START}}
          for c in TEXT_COLUMNS),
    ]
    return SUITE + implied


def gx_pandas(csv: Path) -> dict:
    import great_expectations as gx
    import pandas as pd
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    suite = gx.ExpectationSuite(name="bench", expectations=gx_pandas_suite())
    start = time.perf_counter()
    frame = pd.read_csv(csv, parse_dates=["occurred"])
    loaded = time.perf_counter()
    batch = context.data_sources.add_pandas("pandas").add_dataframe_asset("release") \
        .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite)
    end = time.perf_counter()
    return {"seconds": end - start, "load_seconds": loaded - start, "validate_seconds": end - loaded,
            "success": result.success}


# -- running one measurement in its own process -------------------------------------------------------------

def _in_child(what: str, root: Path) -> None:
    files = {"v1": root / "v1.csv", "v2": root / "v2.csv", "notes": root / "all-explained.yaml"}
    if what in ("floor-1", "floor-2"):
        out = floor(files[f"v{what[-1]}"], root / "release-1.duckdb" if what == "floor-2" else None)
    elif what in ("audit-1", "audit-2"):
        out = audit_in_process(root / f"ws-{what}", what[-1], files)
    elif what == "check":
        # A workspace with nothing recorded: the suite alone, as GX on pandas runs it (no diff with a baseline).
        out = check_in_process(fresh_workspace(root, root / "ws-check"), files["v1"])
    elif what == "gx-pandas":
        out = gx_pandas(files["v1"])
    else:
        raise SystemExit(f"unknown measurement {what}")
    print(json.dumps(out), flush=True)
    os._exit(0)  # skip DuckDB's teardown report (see audit.engine.gx_duckdb.exit_skipping_teardown)


def measure(what: str, root: Path) -> dict:
    result = run_measured([sys.executable, "-m", "tests.bench.city_scale", "--child", what, str(root)], ok=(0,),
                          name=what)
    return {**json.loads(result["stdout"].strip().splitlines()[-1]), "peak_rss_mb": result["peak_rss_mb"]}


def _store_release_1(root: Path) -> None:
    """Release 1 in a DuckDB file, as the floor's revision join reads it (the log holds it for the audit)."""
    import duckdb

    with duckdb.connect(str(root / "release-1.duckdb")) as con:
        con.execute(f"CREATE TABLE release AS SELECT * FROM read_csv('{root / 'v1.csv'}')")


def _audit_commands(root: Path, workspace: Path, release: str) -> list[list[str]]:
    ingest = [*AUDIT, "ingest", DATASET, str(root / f"v{release}.csv"), "--version", release,
              "--workspace", str(workspace)]
    if release == "2":
        ingest += ["--notes", str(root / "all-explained.yaml")]
    return [ingest, [*AUDIT, "publish", DATASET, "--workspace", str(workspace)]]


# -- sizes -------------------------------------------------------------------------------------------------

def in_process(rows: int, frictionless: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="audit-bench-") as tmp:
        root = Path(tmp)
        files = csv_releases(root, rows)
        _store_release_1(root)
        out: dict = {"rows": rows, "csv_mb": files["v1"].stat().st_size / 1e6}
        for what in ("floor-1", "audit-1"):
            if what == "audit-1":
                fresh_workspace(root, root / "ws-audit-1")
            out[what] = measure(what, root)
            print(f"  {rows:,} {what}: {out[what]['seconds']:.2f} s", flush=True)
        # Release 2 is audited in a workspace where release 1 is already published (set up untimed).
        workspace = fresh_workspace(root, root / "ws-audit-2")
        for command in _audit_commands(root, workspace, "1"):
            run_measured(command, ok=(0,), name=f"setting up release 1: {' '.join(command)}")
        for what in ("floor-2", "audit-2", "check", "gx-pandas"):
            out[what] = measure(what, root)
            print(f"  {rows:,} {what}: {out[what]['seconds']:.2f} s", flush=True)
        if frictionless:
            # Frictionless refuses an absolute path as unsafe: run it beside the file.
            result = run_measured([str(Path(sys.executable).parent / "frictionless"), "validate", files["v1"].name],
                                  cwd=root)
            out["frictionless"] = {"seconds": result["seconds"], "peak_rss_mb": result["peak_rss_mb"],
                                   "valid": result["exit"] == 0}
            print(f"  {rows:,} frictionless: {result['seconds']:.2f} s", flush=True)
        return out


def as_processes(rows: int, releases: tuple[str, ...] = ("1", "2")) -> dict:
    with tempfile.TemporaryDirectory(prefix="audit-bench-") as tmp:
        root = Path(tmp)
        files = csv_releases(root, rows, second="2" in releases)  # at 100M rows, each CSV is 12 GB
        if "2" in releases:
            _store_release_1(root)
        out: dict = {"rows": rows, "csv_mb": files["v1"].stat().st_size / 1e6}
        # The check first, before any workspace holds a log and a package: at 100M rows its spill alone is ~30 GB.
        checked = fresh_workspace(root, root / "ws-check")
        result = run_measured([*AUDIT, "check", DATASET, str(files["v1"]), "--workspace", str(checked),
                               "--format", "json"], ok=(0,), name="audit check")
        out["check"] = {"seconds": result["seconds"], "peak_rss_mb": result["peak_rss_mb"]}
        print(f"  {rows:,} processes, check of release 1: {result['seconds']:.2f} s", flush=True)
        workspace = fresh_workspace(root, root / "ws")
        for release in releases:
            floor_args = [sys.executable, "-c", f"from tests.bench.city_scale import floor; from pathlib import Path; "
                          f"floor(Path({str(files['v' + release])!r}), "
                          f"{'Path(' + repr(str(root / 'release-1.duckdb')) + ')' if release == '2' else None})"]
            result = run_measured(floor_args, cwd=Path(__file__).parents[2], ok=(0,),  # a floor that fails is no floor
                                  name=f"the floor of release {release}")
            out[f"floor-{release}"] = {"seconds": result["seconds"], "peak_rss_mb": result["peak_rss_mb"]}
            steps = []
            for command in _audit_commands(root, workspace, release):
                steps.append(run_measured(command, ok=(0,)))
            out[f"audit-{release}"] = {"seconds": sum(s["seconds"] for s in steps),
                                       "ingest_seconds": steps[0]["seconds"], "publish_seconds": steps[1]["seconds"],
                                       "peak_rss_mb": max(s["peak_rss_mb"] for s in steps)}
            print(f"  {rows:,} processes, release {release}: floor {out[f'floor-{release}']['seconds']:.2f} s, "
                  f"audit {out[f'audit-{release}']['seconds']:.2f} s", flush=True)
        return out


def help_time() -> dict:
    runs = [run_measured([*AUDIT, "--help"])["seconds"] for _ in range(3)]
    bare = [run_measured([sys.executable, "-c", "pass"])["seconds"] for _ in range(3)]
    return {"seconds": min(runs), "python_alone_seconds": min(bare)}


# -- the report --------------------------------------------------------------------------------------------

# Issue 31's targets, which the table prints beside each figure: the ratio to the floor by size, and a command's peak
# within DuckDB's memory limit (the workspace's default, 2 GB) plus 500 MB.
PEAK_TARGET_MIB = round((2e9 + 500e6) / 2**20)


def ratio_target(rows: int) -> str:
    return "<= 3x floor" if rows < 10_000_000 else "<= 2.5x floor"


def machine() -> str:
    import duckdb

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores, {memory:.0f} GiB, {platform.machine()}, Python {platform.python_version()}, "
            f"DuckDB {duckdb.__version__}")


def table(results: dict) -> list[str]:
    lines = [f"{'rows':>11}  {'measurement':<30} {'seconds':>8} {'peak RSS MiB':>12} {'ratio':>18}  target"]

    def row(rows, name, m, ratio="", target=""):
        lines.append(f"{rows:>11,}  {name:<30} {m['seconds']:>8.2f} {m['peak_rss_mb'] or 0:>12,.0f} {ratio:>18}  {target}")

    for r in results["in_process"]:
        n = r["rows"]
        for release in ("1", "2"):
            f, a = r[f"floor-{release}"], r[f"audit-{release}"]
            row(n, f"floor {release} (in process)", f)
            row(n, f"audit {release}: ingest + publish", a, f"{a['seconds'] / f['seconds']:.2f}x floor",
                f"{ratio_target(n)}, < 1 GB")
        c, g = r["check"], r["gx-pandas"]
        row(n, "audit check (validate only)", c)
        row(n, "GX on pandas, same suite", g, f"{g['seconds'] / c['seconds']:.2f}x slower", ">= 5x slower than check")
        if "frictionless" in r:
            fr = r["frictionless"]
            row(n, "frictionless validate", fr, f"{n / fr['seconds']:,.0f} rows/s")
    for r in results["processes"]:
        n = r["rows"]
        target = f"{ratio_target(n)}, peak <= {PEAK_TARGET_MIB:,} MiB"
        for release in ("1", "2"):
            if f"audit-{release}" not in r:
                continue
            f, a = r[f"floor-{release}"], r[f"audit-{release}"]
            row(n, f"floor {release} (process)", f)
            row(n, f"audit {release}: ingest + publish (CLI)", a, f"{a['seconds'] / f['seconds']:.2f}x floor", target)
        if "check" in r:
            f, c = r["floor-1"], r["check"]
            row(n, "audit check of release 1 (CLI)", c, f"{c['seconds'] / f['seconds']:.2f}x floor", target)
    h = results["help"]
    lines.append(f"{'':>11}  {'audit --help':<30} {h['seconds']:>8.2f} {'':>12} "
                 f"{'python alone ' + format(h['python_alone_seconds'], '.2f'):>18}  < 0.5 s")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000], help="sizes timed in one process")
    parser.add_argument("--process-rows", type=int, nargs="*", default=[5_000_000, 10_000_000],
                        help="sizes timed as whole command-line processes")
    parser.add_argument("--first-release-rows", type=int, nargs="*", default=[],
                        help="sizes timed as processes with release 1 alone")
    parser.add_argument("--no-frictionless", action="store_true", help="skip `frictionless validate` (slow)")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument("--child", nargs=2, metavar=("WHAT", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _in_child(args.child[0], Path(args.child[1]))
    results = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "in_process": [], "processes": []}
    for rows in args.rows:
        print(f"{rows:,} rows, in process", flush=True)
        results["in_process"].append(in_process(rows, not args.no_frictionless))
    for rows in args.process_rows:
        print(f"{rows:,} rows, as processes", flush=True)
        results["processes"].append(as_processes(rows))
    for rows in args.first_release_rows:
        print(f"{rows:,} rows, as processes, release 1 alone", flush=True)
        results["processes"].append(as_processes(rows, ("1",)))
    results["help"] = help_time()
    print(f"\n{results['machine']}")
    print("\n".join(table(results)))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
