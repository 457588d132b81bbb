"""Benchmark: `audit check` of a file whose counts carry thousands separators ("12,430"), against the same rows
written plainly (issue 31: within 2x).

    .venv/bin/python -m tests.bench.grouped_numbers [--rows 1000000] [--runs 3] [--json out.json]

It writes one summary-like table (an id, a year, a district and five counts, two of them in the millions) twice:
plain, and with every count grouped by a comma as spreadsheets export them. The workspace is what `audit init`
writes from the plain file, as an office would start. Each `audit check` is a process of its own; the runs of
the two files alternate, and the fastest of each is compared, so the ratio is measured in one state of the machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from tests.bench.city_scale import AUDIT, machine
from tests.bench.measured import run_measured

DATASET = "grouped-counts"
COUNTS = ("assaults", "burglaries", "thefts", "calls", "population")


def write_files(folder: Path, rows: int) -> tuple[Path, Path]:
    import duckdb

    plain, grouped = folder / "plain.csv", folder / "grouped.csv"
    counts = ", ".join(f"(hash(i * 7 + {n}) % {10 ** (4 + n)})::BIGINT AS {c}" for n, c in enumerate(COUNTS))
    with duckdb.connect() as con:
        con.execute(f"CREATE TABLE t AS SELECT 'R' || lpad((i * 7919 % {rows})::VARCHAR, 9, '0') AS id, "
                    f"2000 + i % 25 AS year, 'District ' || (i % 9) AS district, {counts} FROM range({rows}) r(i)")
        con.execute(f"COPY t TO '{plain}' (HEADER)")
        formatted = ", ".join(f"format('{{:,}}', {c}) AS {c}" for c in COUNTS)
        con.execute(f"COPY (SELECT id, year, district, {formatted} FROM t) TO '{grouped}' (HEADER)")
    return plain, grouped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-grouped-") as tmp:
        root = Path(tmp)
        plain, grouped = write_files(root, args.rows)
        run_measured([*AUDIT, "init", DATASET, str(plain), "--workspace", str(root)], ok=(0,), name="audit init")
        times: dict[str, list[dict]] = {"plain": [], "grouped": []}
        for _ in range(args.runs):
            for name, path in (("plain", plain), ("grouped", grouped)):
                run = run_measured([*AUDIT, "-q", "check", DATASET, str(path), "--workspace", str(root)], ok=(0, 1),
                                   name=f"audit check {name}")
                times[name].append({"seconds": run["seconds"], "peak_rss_mb": run["peak_rss_mb"],
                                    "verdict": run["stdout"].strip().splitlines()[0]})
    best = {name: min(runs, key=lambda r: r["seconds"]) for name, runs in times.items()}
    if best["plain"]["verdict"] != best["grouped"]["verdict"]:
        raise SystemExit(f"the two files got different verdicts: {best}")
    ratio = best["grouped"]["seconds"] / best["plain"]["seconds"]
    print(f"machine: {machine()}")
    print(f"{args.rows:,} rows, fastest of {args.runs} process runs each, verdict {best['plain']['verdict']!r}:")
    for name in ("plain", "grouped"):
        print(f"  audit check, {name:<8} {best[name]['seconds']:7.2f} s  {best[name]['peak_rss_mb']:7.0f} MiB")
    print(f"  grouped / plain: {ratio:.2f}x (target <= 2x)")
    if args.json:
        args.json.write_text(json.dumps({"rows": args.rows, "runs": times, "ratio": ratio}, indent=2))
    sys.exit(0)


if __name__ == "__main__":
    main()
