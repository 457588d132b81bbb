"""Baltimore-like incident releases for the benchmarks and the stress test.

A release has one row per incident (id, occurred date-time, offence code and description,
district, neighbourhood, latitude and longitude, premise, weapon, victim age/sex/race);
the second release of a pair revises about 2 percent of rows: changed weapons (1%),
reclassified offences (0.5%), incidents removed (0.25%) and added (0.25%).
Every value is a hash of the row number, so a size always gives the same files.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

DATASET = "bench-incidents"
CODES = {"1A": "homicide", "2A": "rape", "3A": "robbery", "4A": "aggravated_assault", "4E": "common_assault",
         "5A": "burglary", "6C": "larceny", "7A": "auto_theft"}
DISTRICTS = ["Central", "Eastern", "Northern", "Northeast", "Northwest", "Southern", "Southeast", "Southwest", "Western"]
COLUMNS = ["incident_id", "occurred", "offense_code", "description", "district", "neighborhood", "latitude",
           "longitude", "premise", "weapon", "victim_age", "victim_sex", "victim_race"]
TEXT_COLUMNS = [c for c in COLUMNS if c not in ("occurred", "latitude", "longitude", "victim_age")]
BOUNDS = {"latitude": (39.1, 39.5), "longitude": (-76.8, -76.4), "victim_age": (0, 120)}

# The suite file: what a data office would write for incident data. The audit adds what the descriptor
# implies (key present and unique, codes with a category, spreadsheet-safe text) and the revision checks.
SUITE = [
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "occurred"}},
    *({"type": "expect_column_values_to_be_between", "kwargs": {"column": c, "min_value": lo, "max_value": hi}}
      for c, (lo, hi) in BOUNDS.items()),
]


def descriptor() -> dict:
    types = {"occurred": "datetime", "latitude": "number", "longitude": "number", "victim_age": "integer"}
    fields = [{"name": c, "type": types.get(c, "string"), "description": c} for c in COLUMNS]
    fields[2]["categories"] = CODES
    return {"name": DATASET, "licenses": [{"name": "PDDL-1.0"}],
            "reclassification": {"by": ["district"], "period": "occurred", "grain": "month"},
            "resources": [{"name": "incidents", "schema": {"primaryKey": ["incident_id"], "fields": fields}}]}


def write_workspace(root: Path) -> None:
    """The dataset's descriptor and suite, and notes explaining part of the revisions (notes.yaml)."""
    (root / "datapackages" / DATASET).mkdir(parents=True)
    (root / "expectations").mkdir()
    (root / "datapackages" / DATASET / "datapackage.yaml").write_text(yaml.safe_dump(descriptor()))
    (root / "expectations" / f"{DATASET}.json").write_text(json.dumps({"name": DATASET, "expectations": SUITE}))
    notes = [{"where": {"district": ["Central", "Eastern"]}, "columns": ["weapon", "premise"],
              "reason": "Weapon and premise recoded", "approved_by": "bench"},
             {"where": {"district": "Northern"}, "reason": "District review", "approved_by": "bench"}]
    (root / "notes.yaml").write_text(yaml.safe_dump({"version": 1, "notes": notes}))


def generate(root: Path, rows: int, second: bool = True) -> None:
    """old.duckdb holds release_data.old (the published release); with `second`, new.duckdb holds new (2% revised)."""
    import duckdb

    codes = "[" + ", ".join(f"'{c}'" for c in CODES) + "]"
    districts = "[" + ", ".join(f"'{d}'" for d in DISTRICTS) + "]"
    base = f"""
        SELECT 'I' || lpad(CAST(i AS VARCHAR), 9, '0') AS incident_id,
               TIMESTAMP '2015-01-01' + to_seconds(CAST(h(i, 1, 315360000) AS BIGINT)) AS occurred,
               {codes}[1 + h(i, 2, {len(CODES)})] AS offense_code,
               'Description ' || (h(i, 2, {len(CODES)})) AS description,
               {districts}[1 + h(i, 3, 9)] AS district,
               'Neighborhood ' || (h(i, 4, 278)) AS neighborhood,
               round(39.2 + (h(i, 5, 180000)) / 1e6, 6) AS latitude,
               round(-76.7 + (h(i, 6, 180000)) / 1e6, 6) AS longitude,
               'Premise ' || (h(i, 7, 120)) AS premise,
               ['FIREARM', 'KNIFE', 'HANDS', 'OTHER', NULL][1 + h(i, 8, 5)] AS weapon,
               CAST(h(i, 9, 90) AS INTEGER) AS victim_age,
               ['M', 'F', 'U'][1 + h(i, 10, 3)] AS victim_sex,
               ['BLACK', 'WHITE', 'ASIAN', 'UNKNOWN'][1 + h(i, 11, 4)] AS victim_race
        FROM range({rows}) t(i)"""
    # h(value, salt, n): a reproducible pseudo-random integer in [0, n).
    macro = "CREATE MACRO h(v, salt, n) AS CAST(hash(v, salt) % n AS BIGINT)"
    quiet = "SET enable_progress_bar = false"
    with duckdb.connect(str(root / "old.duckdb")) as con:
        con.execute(quiet)
        con.execute(macro)
        con.execute("CREATE SCHEMA release_data")
        con.execute(f"CREATE TABLE release_data.old AS {base}")
    if not second:
        return
    with duckdb.connect(str(root / "new.duckdb")) as con:
        con.execute(quiet)
        con.execute(macro)
        con.execute(f"ATTACH '{root / 'old.duckdb'}' AS o (READ_ONLY)")
        # Per row r = hash % 10000: < 100 change weapon (1%), < 150 reclassify (0.5%), < 175 removed (0.25%).
        con.execute(f"""
            CREATE TABLE new AS
            SELECT * REPLACE (
                CASE WHEN h(incident_id, 'r', 10000) < 100 THEN coalesce(weapon, 'NONE') || '*' ELSE weapon END AS weapon,
                CASE WHEN h(incident_id, 'r', 10000) BETWEEN 100 AND 149
                     THEN {codes}[1 + (h(incident_id, 'c', {len(CODES)}))] ELSE offense_code END AS offense_code)
            FROM o.release_data.old WHERE h(incident_id, 'r', 10000) NOT BETWEEN 150 AND 174
            UNION ALL
            SELECT * REPLACE ('N' || substr(incident_id, 2) AS incident_id)
            FROM o.release_data.old WHERE h(incident_id, 'r', 10000) BETWEEN 175 AND 199""")


def csv_releases(root: Path, rows: int, second: bool = True) -> dict[str, Path]:
    """The workspace, the two releases as CSV files (v1.csv, v2.csv; without `second`, v1.csv alone) and notes
    explaining every change (all-explained.yaml), as a data office receives them."""
    import duckdb

    write_workspace(root)
    generate(root, rows, second)
    files = {"v1": root / "v1.csv", "v2": root / "v2.csv", "notes": root / "all-explained.yaml"}
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH '{root / 'old.duckdb'}' AS o (READ_ONLY)")
        con.execute(f"COPY o.release_data.old TO '{files['v1']}' (HEADER)")
        if second:
            con.execute(f"ATTACH '{root / 'new.duckdb'}' AS n (READ_ONLY)")
            con.execute(f"COPY n.new TO '{files['v2']}' (HEADER)")
    notes = [{"id": "review", "where": {"district": DISTRICTS}, "reason": "Annual review of every district",
              "approved_by": "bench"}]
    files["notes"].write_text(yaml.safe_dump({"version": 1, "notes": notes}))
    for name in ("old.duckdb", "new.duckdb", "notes.yaml"):
        (root / name).unlink(missing_ok=True)
    return files


def fresh_workspace(template: Path, into: Path) -> Path:
    """A workspace at `into` with the template's descriptor and suite, and nothing recorded."""
    shutil.copytree(template / "datapackages", into / "datapackages")
    shutil.copytree(template / "expectations", into / "expectations")
    return into
