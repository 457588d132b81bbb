"""Benchmark: the revision diff of two incident-level releases, against a plain-DuckDB floor.

    .venv/bin/python -m tests.bench.revision_diff --rows 1000000 10000000 [--json out.json]

For each size it generates a Baltimore-like incident release (id, date-time, offence
code and description, district, neighbourhood, coordinates, premise, weapon, victim
age/sex/race) and a second release in which about 2 percent of rows are revised:
changed cells, reclassified offences, incidents removed and added. The published
release sits in a change-log file (as after `audit ingest`), the new one in memory.
Each measurement runs in its own process, so peak RSS is its own:

    floor     plain DuckDB: the same full outer join on the key with the same
              "any column differs" test, counting the changed rows
    diff      audit.diff.diff_releases: every changed cell with its covering note,
              the counts and the reclassification summary
    records   the above plus bringing every change into Python, as ingest does to log it
    log       the above plus appending every change to a change log as hash-chained entries, in one
              transaction, as `audit ingest` records them

It prints a table of wall time and peak RSS, the ratio to the floor, and writes JSON.
Not a test: these machines are shared, so read the ratios, not single figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.incidents import COLUMNS, DATASET, generate, write_workspace
from tests.bench.measured import run_measured

STEPS = ("floor", "diff", "records", "log")


def _measure(root: Path, what: str) -> dict:
    """Run inside a fresh process: time one measurement, report peak RSS."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"ATTACH '{root / 'old.duckdb'}' AS published (READ_ONLY)")
    con.execute(f"ATTACH '{root / 'new.duckdb'}' AS incoming (READ_ONLY)")
    con.execute("CREATE TABLE release AS SELECT * FROM incoming.new")  # the loaded release, as after ingest's load
    old = "published.release_data.old"
    if what != "floor":
        from audit.diff import diff_releases, load_notes
        from audit.diff.changes import revision_records
        from audit.log import open_log
        from audit.log.store import as_json
        from audit.workspace import Workspace
    start = time.perf_counter()
    if what == "floor":
        differs = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in COLUMNS[1:])
        (changed,) = con.execute(
            f"SELECT count(*) FROM {old} o FULL OUTER JOIN release n ON o.incident_id = n.incident_id "
            f"WHERE o.incident_id IS NULL OR n.incident_id IS NULL OR {differs}").fetchall()[0]
        detail = {"changed_rows": changed}
    else:
        dataset = Workspace.at(root).dataset(DATASET)
        revisions = diff_releases(con, dataset, old, "release", {"version": "old"},
                                  load_notes(root / "notes.yaml", dataset))
        detail = {"counts": revisions.counts, "reclassification_groups": len(revisions.reclassifications)}
        if what in ("records", "log"):
            # revision_records yields its records as they are read (since 4b5bdc2): made into a list here, as
            # this measurement has always made them all.
            records = list(revision_records(con, dataset.primary_key))
            detail["records"] = len(records)
        if what == "log":
            log = open_log(con, root / f"log-{time.time_ns()}.duckdb")
            with log.transaction():
                log.append("changes", DATASET, [{
                    "release_id": "new", "baseline_release_id": "old", "change": r["change"], "key": as_json(r["key"]),
                    "column": r["column"], "old": as_json(r["old"]), "new": as_json(r["new"]), "note_id": r["note_id"],
                } for r in records])
    seconds = time.perf_counter() - start
    return {"seconds": seconds, **detail}


def run_size(rows: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="audit-bench-") as tmp:
        root = Path(tmp)
        write_workspace(root)
        start = time.perf_counter()
        generate(root, rows)
        generated = time.perf_counter() - start
        out = {"rows": rows, "generate_seconds": generated}
        for what in STEPS:
            result = run_measured([sys.executable, "-m", "tests.bench.revision_diff", "--measure", what, str(root)],
                                  ok=(0,), name=what)
            out[what] = {**json.loads(result["stdout"].strip().splitlines()[-1]), "peak_rss_mb": result["peak_rss_mb"]}
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument("--measure", nargs=2, metavar=("WHAT", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(_measure(Path(args.measure[1]), args.measure[0])))
        return
    results = [run_size(n) for n in args.rows]
    print(f"{'rows':>12} {'step':<8} {'seconds':>8} {'peak RSS MiB':>12} {'x floor':>8}  detail")
    for r in results:
        for what in STEPS:
            m = r[what]
            detail = {k: v for k, v in m.items() if k not in ("seconds", "peak_rss_mb")}
            print(f"{r['rows']:>12,} {what:<8} {m['seconds']:>8.2f} {m['peak_rss_mb']:>12,.0f} "
                  f"{m['seconds'] / r['floor']['seconds']:>8.2f}  {json.dumps(detail)}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    import os

    os._exit(0)  # skip DuckDB's teardown report (see audit.engine.gx_duckdb.exit_skipping_teardown)


if __name__ == "__main__":
    main()
