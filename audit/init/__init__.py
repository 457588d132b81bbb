"""`audit init`: a starter descriptor and suite for a table the office has not described yet.

    file -> DuckDB (text) -> profile (types, missing markers, keys) -> typed table
         -> arithmetic found in it (sums, rates) -> datapackage.yaml + expectations/<name>.json

Everything proposed is marked for the data office to confirm: a sum that holds in
this release is a hypothesis about the table, not its definition.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from audit.errors import ConfigError, InputError
from audit.ingest.read import read_raw
from audit.init.arithmetic import Rate, Sum, find_rates, find_sums
from audit.init.profile import Profile, create_typed, profile_table
from audit.labels import plain_label
from audit.workspace import Workspace

PROPOSED = {"proposed_by": "audit init", "confirm": "found to hold in every row of the first release; confirm it is a rule"}


@dataclass
class InitResult:
    descriptor_path: Path
    suite_path: Path
    profile: Profile
    sums: list[Sum]
    rates: list[Rate]


def init_dataset(workspace: Workspace, name: str, file: str | Path, force: bool = False) -> InitResult:
    source = Path(file)
    if not source.is_file():
        raise InputError("no such file", file=str(file))
    plain_label(name, "dataset name")
    descriptor_path = workspace.inside(Path("datapackages") / name / "datapackage.yaml")
    suite_path = workspace.inside(Path("expectations") / f"{name}.json")
    existing = [str(p) for p in (descriptor_path, suite_path) if p.exists()]
    if existing and not force:
        raise ConfigError(f"{', '.join(existing)} already exist(s); pass --force to replace them")
    with workspace.work_database() as con:
        read = read_raw(con, source, None, "raw_rows")
        con.execute("CREATE TABLE raw AS SELECT * EXCLUDE (__row) FROM raw_rows")
        read.drop(con)
        profile = profile_table(con, "raw")
        create_typed(con, "raw", profile, "typed")
        keys = profile.keys[0] if profile.keys else []
        counts = [c.name for c in profile.columns if c.type == "integer" and not c.year_like and c.name not in keys]
        numbers = [c.name for c in profile.columns if c.type == "number" and c.name not in keys]
        sums = find_sums(con, "typed", counts)
        rates = find_rates(con, "typed", numbers + [c for c in counts if c not in {s.total for s in sums}], counts)
    descriptor = starter_descriptor(name, source, profile, keys, rates)
    suite = starter_suite(name, profile, keys, sums, rates)
    descriptor_path.parent.mkdir(parents=True, exist_ok=True)
    suite_path.parent.mkdir(parents=True, exist_ok=True)
    header = _descriptor_comment(source, profile, sums, rates)
    descriptor_path.write_text(header + yaml.safe_dump(descriptor, sort_keys=False, allow_unicode=True), encoding="utf-8")
    suite_path.write_text(json.dumps(suite, indent=2) + "\n", encoding="utf-8")
    return InitResult(descriptor_path, suite_path, profile, sums, rates)


def starter_descriptor(name: str, source: Path, profile: Profile, keys: list[str], rates: list[Rate]) -> dict[str, Any]:
    units = {r.column: f"per {r.per:,}" for r in rates}
    fields = []
    for c in profile.columns:
        f: dict[str, Any] = {"name": c.name, "title": c.header, "type": c.type,
                             "description": f"TODO: what {c.header!r} holds and how it is counted."}
        if c.format:
            f["format"] = c.format
        if c.name in units:
            f["unit"] = units[c.name]
        fields.append(f)
    schema: dict[str, Any] = {"fields": fields, "primaryKey": keys}
    if profile.missing_values != [""]:
        schema["missingValues"] = profile.missing_values
    return {
        "name": name,
        "title": f"TODO: title of {name}",
        "description": "TODO: what the data is, who collects it and how.",
        "licenses": [{"name": "TODO", "title": "TODO: the licence the data is published under"}],
        "sources": [{"title": f"TODO: where {source.name} comes from"}],
        "resources": [{"name": name, "path": f"data/{name}.csv", "profile": "tabular-data-resource", "schema": schema}],
    }


def starter_suite(name: str, profile: Profile, keys: list[str], sums: list[Sum], rates: list[Rate]) -> dict[str, Any]:
    expectations: list[dict[str, Any]] = []
    for key in keys:
        expectations.append({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": key}})
    if len(keys) == 1:
        expectations.append({"type": "expect_column_values_to_be_unique", "kwargs": {"column": keys[0]}})
    elif keys:
        expectations.append({"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": keys}})
    populations = {r.population for r in rates if r.per >= 1000}  # shares (per 100) divide by totals
    for c in profile.columns:
        if c.type == "integer" and not c.year_like and c.name not in keys:
            expectations.append({"type": "expect_column_values_to_be_between",
                                 "kwargs": {"column": c.name, "min_value": 1 if c.name in populations else 0}})
    for s in sums:
        expectations.append({"type": "expect_column_values_to_equal_sum_of_columns",
                             "kwargs": {"column": s.total, "parts": list(s.parts)}, "meta": PROPOSED})
    for r in rates:
        expectations.append({"type": "expect_column_values_to_equal_rate",
                             "kwargs": {"column": r.column, "count": r.count, "population": r.population, "per": r.per},
                             "meta": PROPOSED})
    periods = [k for k in keys if profile.column(k).year_like]
    if periods:
        period, places = periods[0], [k for k in keys if k != periods[0]]
        expectations.append({"type": "expect_series_to_have_no_gaps",
                             "kwargs": {"period": period, "group_by": places}})
        leaf_counts = [c.name for c in profile.columns if c.type == "integer" and not c.year_like
                       and c.name not in keys and c.name not in populations]
        if leaf_counts:
            kwargs: dict[str, Any] = {"columns": leaf_counts, "period": period, "group_by": places}
            if populations:
                kwargs["exposure"] = sorted(populations)[0]
            expectations.append({"type": "expect_counts_to_change_plausibly", "kwargs": kwargs})
    return {"name": name, "meta": {"great_expectations_version": "1.24.1", "audit_suite_version": 1,
                                   "notes": "Written by `audit init`; review every expectation marked proposed_by."},
            "expectations": expectations}


def _descriptor_comment(source: Path, profile: Profile, sums: list[Sum], rates: list[Rate]) -> str:
    lines = [f"# Starter descriptor written by `audit init` from {source.name} ({profile.rows} rows).",
             "# Fill in every TODO, and confirm the key and the arithmetic in the suite.",
             f"# Candidate primary keys: {'; '.join(', '.join(k) for k in profile.keys) or 'none found'}"]
    lines += [f"# Sum found: {s.total} = {' + '.join(s.parts)}" for s in sums]
    lines += [f"# Rate found: {r.column} = {r.count} / {r.population} x {r.per:,}" for r in rates]
    return "\n".join(lines) + "\n"
