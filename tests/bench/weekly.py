"""Benchmark: a year of weekly incident releases, each ingested against the one published before and published.

    .venv/bin/python -m tests.bench.weekly --weeks 52 --rows 2500 [--no-id] [--json out.json]

Each week's release is a rolling window of `rows` incidents (the benchmark's incident columns): a quarter of the
rows leave the window and as many enter, and 1 percent of the rows that stay have their weapon revised. The
descriptor declares the window, so rows leaving and entering it are explained by the window's own notes; one
revision note explains the weapons, so every week is published. With --no-id the files carry no incident id, as
many cities publish them: rows are matched on time, neighbourhood and offence (a matchKey that may repeat).
For each week it reports the time to ingest and publish
(in one process, imports done), the package's size, and the size of its change-log extract, which carries only
the entries since the previous package: it must stay flat, not grow with the history.

Not a test: these machines are shared, so read the trend, not single figures.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import yaml

from tests.bench.incidents import CODES, DATASET, DISTRICTS, write_workspace


def week_file(root: Path, week: int, rows: int, with_id: bool = True) -> Path:
    import duckdb

    shift = rows // 4
    codes = "[" + ", ".join(f"'{c}'" for c in CODES) + "]"
    districts = "[" + ", ".join(f"'{d}'" for d in DISTRICTS) + "]"
    path = root / f"week-{week:02d}.csv"
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        con.execute("CREATE MACRO h(v, salt, n) AS CAST(hash(v, salt) % n AS BIGINT)")
        # An incident's weapon is revised (once, for good) in the week h(i, 'rev', 100) == week % 100.
        con.execute(f"""COPY (
            SELECT 'I' || lpad(CAST(i AS VARCHAR), 9, '0') AS incident_id,
                   TIMESTAMP '2025-01-01' + to_seconds(CAST(i * 240 AS BIGINT)) AS occurred,
                   {codes}[1 + h(i, 2, {len(CODES)})] AS offense_code,
                   'Description ' || h(i, 2, {len(CODES)}) AS description,
                   {districts}[1 + h(i, 3, 9)] AS district,
                   'Neighborhood ' || h(i, 4, 278) AS neighborhood,
                   round(39.2 + h(i, 5, 180000) / 1e6, 6) AS latitude,
                   round(-76.7 + h(i, 6, 180000) / 1e6, 6) AS longitude,
                   'Premise ' || h(i, 7, 120) AS premise,
                   ['FIREARM', 'KNIFE', 'HANDS', 'OTHER'][1 + h(i, 8, 4)]
                       || CASE WHEN h(i, 'rev', 400) < {week} AND h(i, 'rev', 400) >= {week} - 4 THEN '*' ELSE '' END
                       AS weapon,
                   CAST(h(i, 9, 90) AS INTEGER) AS victim_age,
                   ['M', 'F', 'U'][1 + h(i, 10, 3)] AS victim_sex,
                   ['BLACK', 'WHITE', 'ASIAN', 'UNKNOWN'][1 + h(i, 11, 4)] AS victim_race
            FROM range({week * shift}, {week * shift + rows}) t(i)) TO '{path}' (HEADER)""")
        if not with_id:
            con.execute(f"COPY (SELECT * EXCLUDE (incident_id) FROM read_csv('{path}')) TO '{path}.tmp' (HEADER)")
            Path(f"{path}.tmp").replace(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--rows", type=int, default=2500)
    parser.add_argument("--no-id", action="store_true", help="files without an incident id (a matchKey)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from audit import pipeline
    from audit.log.manifest import EXTRACT_FILE
    from audit.workspace import Workspace

    results = []
    with tempfile.TemporaryDirectory(prefix="audit-bench-weekly-") as tmp:
        root = Path(tmp)
        write_workspace(root)
        descriptor_path = root / "datapackages" / DATASET / "datapackage.yaml"
        descriptor = yaml.safe_load(descriptor_path.read_text())
        descriptor["window"] = {"field": "occurred"}
        if args.no_id:
            schema = descriptor["resources"][0]["schema"]
            schema["fields"] = [f for f in schema["fields"] if f["name"] != "incident_id"]
            del schema["primaryKey"]
            schema["matchKey"] = ["occurred", "neighborhood", "offense_code"]
        descriptor_path.write_text(yaml.safe_dump(descriptor))
        notes = root / "weapons.yaml"
        notes.write_text(yaml.safe_dump({"version": 1, "notes": [
            {"id": "weapons", "columns": ["weapon"], "reason": "Late reports revised weapons", "approved_by": "bench"}]}))
        workspace = Workspace.at(root)
        print("| week | rows | changes | ingest + publish s | package | extract | extract lines |")
        print("|---|---|---|---|---|---|---|")
        for week in range(1, args.weeks + 1):
            path = week_file(root, week, args.rows, with_id=not args.no_id)
            start = time.perf_counter()
            ingested = pipeline.ingest(workspace, DATASET, path, version=f"w{week:02d}",
                                       notes=notes if week > 1 else None)
            published = pipeline.publish(workspace, DATASET)
            seconds = time.perf_counter() - start
            if published.refused or published.path is None:
                raise SystemExit(f"week {week} was refused: {ingested.report.findings[:3]}")
            package = sum(p.stat().st_size for p in published.path.rglob("*") if p.is_file())
            extract = published.path / EXTRACT_FILE
            lines = sum(1 for _ in extract.open())
            if not ingested.report.success:
                raise SystemExit(f"week {week} has findings: {[f.message for f in ingested.report.blocking[:3]]}")
            revisions = ingested.report.revisions
            changes = sum(v for k, v in (revisions.counts if revisions else {}).items()
                          if k in ("changed", "added", "removed"))
            results.append({"week": week, "seconds": seconds, "package_bytes": package,
                            "extract_bytes": extract.stat().st_size, "extract_lines": lines, "changes": changes})
            print(f"| {week} | {args.rows:,} | {changes:,} | {seconds:.2f} | {package / 1e6:.2f} MB | "
                  f"{extract.stat().st_size / 1e3:.0f} kB | {lines:,} |", flush=True)
        first, last = results[0], results[-1]
        log_mb = (root / "audit.duckdb").stat().st_size / 1e6
        print(f"\nweek 1 extract {first['extract_bytes'] / 1e3:.0f} kB, week {last['week']} extract "
              f"{last['extract_bytes'] / 1e3:.0f} kB; all {len(results)} packages "
              f"{sum(r['package_bytes'] for r in results) / 1e6:.1f} MB; the log file {log_mb:.1f} MB; "
              f"median week {sorted(r['seconds'] for r in results)[len(results) // 2]:.2f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
