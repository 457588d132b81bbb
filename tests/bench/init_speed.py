"""Benchmark: `audit init` on a table it has never seen, against a plain-DuckDB floor.

    .venv/bin/python -m tests.bench.init_speed [--incident-rows 1000000 10000000] [--json out.json]

Two tables, as issue 27 measured them: a wide county table (25 zip codes x 64 columns: 20 offences for two
years side by side, their percent changes, two totals) and an incident table (the incident benchmark's
columns, each size of `--incident-rows`). Each command runs in its own process, timed from its start:

    floor   python -c: import duckdb, read the CSV and SUMMARIZE it (every column's type, range, distinct count)
    import  python -c "import audit.init": the imports init pays before it reads a row (GX among them)
    init    audit init, to a fresh workspace

It prints wall time, the ratio to the floor and the import's share, and writes JSON. The targets (issues 27
and 31): the wide table under 10 s, a 1M-row incident table under 10 s, a 10M-row one under 60 s. Not a test:
these machines are shared, so read the ratios, not single figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.incidents import csv_releases

PYTHON = sys.executable
OFFENCES = ["murder", "rape", "robbery", "agg_assault", "burglary", "larceny", "mvt", "arson", "simple_assault",
            "fraud", "vandalism", "weapons", "drugs", "dui", "disorderly", "trespass", "stolen_property", "forgery",
            "embezzlement", "prostitution"]


def wide_table(path: Path, places: int = 25) -> Path:
    rng = random.Random(27)
    header = ["zip", "area_name", *(f"{y}_{o}" for y in (2024, 2025) for o in OFFENCES),
              *(f"{o}_change" for o in OFFENCES), "2024_total", "2025_total"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for z in range(21201, 21201 + places):
            before = {o: rng.randint(0, 400) for o in OFFENCES}
            after = {o: max(0, before[o] + rng.randint(-50, 50)) for o in OFFENCES}
            changes = ["" if not before[o] else round((after[o] - before[o]) / before[o] * 100, 1) for o in OFFENCES]
            writer.writerow([z, f"Area {z}", *before.values(), *after.values(), *changes,
                             sum(before.values()), sum(after.values())])
    return path


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def measure(name: str, table: Path, root: Path) -> dict:
    floor = _timed([PYTHON, "-c", "import duckdb, sys; duckdb.sql(f\"SUMMARIZE SELECT * FROM read_csv('{sys.argv[1]}')\""
                    ").fetchall()", str(table)])
    imports = _timed([PYTHON, "-c", "import audit.init"])
    workspace = root / f"{name}-workspace"
    workspace.mkdir()
    init = _timed([PYTHON, "-m", "audit", "init", name, str(table), "--workspace", str(workspace)])
    return {"table": name, "floor_s": round(floor, 2), "import_s": round(imports, 2), "init_s": round(init, 2),
            "ratio": round(init / floor, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incident-rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-init-") as folder:
        root = Path(folder)
        results.append(measure("wide-25x64", wide_table(root / "wide.csv"), root))
        for rows in args.incident_rows:
            incidents = csv_releases(root / f"incidents-{rows}", rows)["v1"]
            results.append(measure(f"incidents-{rows}", incidents, root))
    print(f"{'table':<20} {'floor':>8} {'imports':>8} {'init':>8} {'ratio':>6}")
    for r in results:
        print(f"{r['table']:<20} {r['floor_s']:>7.2f}s {r['import_s']:>7.2f}s {r['init_s']:>7.2f}s {r['ratio']:>5.1f}x")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
