"""Benchmark: the stored-release digest (audit.log.digest) against the digest it replaced, in the same run.

    .venv/bin/python -m tests.bench.digest --rows 1000000 10000000 [--json out.json]

For each size it generates the benchmark's incident release (13 columns) in a DuckDB file, then times, each
in its own process and three times (the best is reported):

    previous  the 64-bit sum of per-row SHA-256 values that log format 2 used (kept here only as the baseline:
              it could be matched by compensating rows, and it read NULL and the text "\\0" alike)
    digest    audit.log.digest.table_digest: SHA-256 over column names, types, presence, lengths and values
              in row order

Not a test: these machines are shared, so read the ratio, not single figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.incidents import generate
from tests.bench.measured import run_measured

TABLE = "release_data.old"


def previous_digest(con, table: str) -> str:
    """Log format 2's digest: sha256 of each row's text (rowid and cells joined by chr(31), NULL as chr(0)),
    truncated to 64 bits and summed."""
    names = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    values = ", ".join(f'coalesce(CAST("{n}" AS VARCHAR), chr(0))' for n in names)
    row_text = f"concat_ws(chr(31), rowid, {values})"
    count, total = con.execute(
        f"SELECT count(*), sum(CAST(CAST('0x' || left(sha256({row_text}), 16) AS UBIGINT) AS HUGEINT)) FROM {table}"
    ).fetchall()[0]
    return f"sha256-sum64:{count}:{total or 0:x}"


def _measure(path: Path, what: str) -> dict:
    import duckdb

    from audit.log.digest import table_digest

    con = duckdb.connect(str(path), read_only=True)
    digest = previous_digest if what == "previous" else table_digest
    start = time.perf_counter()
    value = digest(con, TABLE)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "value": value}


def measure(path: Path, what: str) -> dict:
    result = run_measured([sys.executable, "-m", "tests.bench.digest", "--measure", str(path), what], ok=(0,),
                          name=f"the {what} digest")
    return {**json.loads(result["stdout"].strip().splitlines()[-1]), "rss_mb": result["peak_rss_mb"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(_measure(Path(args.measure[0]), args.measure[1])))
        return
    results = []
    print("| rows | digest | seconds (best of 3) | s per million rows | peak RSS | x previous |")
    print("|---|---|---|---|---|---|")
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="audit-bench-digest-") as tmp:
            generate(Path(tmp), rows)
            path = Path(tmp) / "old.duckdb"
            best = {}
            for what in ("previous", "digest"):
                runs = [measure(path, what) for _ in range(3)]
                best[what] = min(runs, key=lambda r: r["seconds"])
            for what in ("previous", "digest"):
                r = best[what]
                ratio = r["seconds"] / best["previous"]["seconds"]
                results.append({"rows": rows, "digest": what, **r, "ratio": ratio})
                print(f"| {rows:,} | {what} | {r['seconds']:.2f} | {r['seconds'] / rows * 1e6:.2f} | "
                      f"{r['rss_mb']:.0f} MiB | {ratio:.2f} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
