"""Reconciliation settings: how an incident dataset rolls up into a summary dataset.

Declared in the incident dataset's descriptor, one entry per summary it feeds:

    reconcile:
      - summary: city-violent-crime      # the summary dataset's name
        period: occurred                  # incident date field
        grain: year                       # year, quarter, month, week or day
        summary_period: year              # the summary's period field, counted by `grain`; or its own dates:
                                          # {start: field, end: field}, or {field: period, format: "%m/%d"}
                                          # for text ranges such as "5/26-6/8" (placed in the incidents' year)
        category: offense_code            # incident field whose `categories` map codes to categories
        counts:                           # summary figure -> the categories it counts
          homicide: homicide
          violent_crime: [homicide, rape, robbery, aggravated_assault]
        by: {district: district}          # optional: incident field -> summary field
        # A long summary (one row per figure) names its figure and value fields instead:
        # summary_category: offense
        # summary_count: count

      - summary: city-offence-table       # or: this table's totals against another table's
        totals:
          parts: {columns: [violent]}     # this table's rows, summed (all of them, or `where`)
          total: {columns: [count], where: [{column: description, in: [Homicide, Rape, Robbery, Agg. Assault]}]}
        by: {period: period}              # compared group by group: this field -> the summary's

An incident entry becomes one `expect_incident_counts_to_match_summary` expectation, a totals entry one
`expect_totals_to_match` with the summary as its total's table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from audit.dataset import Dataset
from audit.errors import ConfigError
from audit.sql import GRAINS


def reconcile_expectation(incidents: Dataset, summary: Dataset, summary_table: str) -> dict[str, Any]:
    """The expectation that reconciles `incidents` with `summary` (loaded as `summary_table`)."""
    where = f"{incidents.descriptor_path}: reconcile with {summary.name}"
    entries = [e for e in incidents.descriptor.get("reconcile") or [] if isinstance(e, dict)]
    entry = next((e for e in entries if e.get("summary") == summary.name), None)
    if entry is None:
        known = ", ".join(str(e.get("summary")) for e in entries) or "none"
        raise ConfigError(f"{incidents.descriptor_path}: no `reconcile` entry for {summary.name!r} (entries: {known})")
    if "totals" in entry:
        return _totals_expectation(where, incidents, summary, summary_table, entry)
    missing = [k for k in ("period", "summary_period", "category", "counts") if not entry.get(k)]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}")
    grain = entry.get("grain", "year")
    if grain not in GRAINS:
        raise ConfigError(f"{where}: grain {grain!r} is not one of {', '.join(GRAINS)}")
    by = dict(entry.get("by") or {})
    incident_fields = {f.name: f for f in incidents.fields}
    summary_fields = {f.name for f in summary.fields}
    _require(where, "incident", [entry["period"], entry["category"], *by], incident_fields)
    long_form = entry.get("summary_category") is not None
    counts, conditions = _counts(where, incidents, entry["counts"])
    figures = [entry["summary_category"], entry.get("summary_count")] if long_form else list(counts)
    period = entry["summary_period"]
    if isinstance(period, dict) and not ({"start", "end"} <= set(period) or "field" in period):
        raise ConfigError(f"{where}: summary_period is a field, {{start: field, end: field}}, or {{field: name, "
                          f"format: '%m/%d'}} for a text range such as 5/26-6/8")
    period_fields = [period] if isinstance(period, str) else [period[k] for k in ("start", "end", "field") if k in period]
    _require(where, "summary", [*period_fields, *by.values(), *figures], summary_fields)
    mapping = incident_fields[entry["category"]].categories
    if not mapping:
        raise ConfigError(f"{where}: field {entry['category']!r} has no `categories` (code -> category) in the descriptor")
    unknown = sorted({c for cats in counts.values() for c in cats} - set(mapping.values()))
    if unknown:
        raise ConfigError(f"{where}: counts name categories no code maps to: {', '.join(unknown)}")
    return {
        "type": "expect_incident_counts_to_match_summary",
        "kwargs": {
            "summary_table": summary_table, "summary_dataset": summary.name, "period": entry["period"],
            "grain": grain, "summary_period": entry["summary_period"], "category": entry["category"],
            "mapping": mapping, "counts": counts, "by": by, **({"conditions": conditions} if conditions else {}),
            "summary_category": entry.get("summary_category"), "summary_count": entry.get("summary_count"),
        },
    }


def _counts(where: str, incidents: Dataset, counts: dict[str, Any]) -> tuple[dict[str, list[str]], dict[str, list]]:
    """Each summary figure's categories, and the `where` of those counting only some of their incidents. A figure
    may be a category, a list of them, or the name of one of the descriptor's `figures` (declared once for every
    table the export ships: `shootings: {categories: [...], where: [{column: weapon, in: [Firearm]}]}`)."""
    from audit.validate.where import where_columns, where_sql

    declared = incidents.descriptor.get("figures") or {}
    categories = set(next((f.categories.values() for f in incidents.fields if f.categories), []))
    clash = sorted(set(declared) & categories)
    if clash:
        raise ConfigError(f"{incidents.descriptor_path}: figures: {clash[0]!r} is also a category; name the figure "
                          "another way")
    out: dict[str, list[str]] = {}
    conditions: dict[str, list] = {}
    for name, value in counts.items():
        figure = declared.get(value) if isinstance(value, str) else None
        if figure is None:
            out[str(name)] = [value] if isinstance(value, str) else list(value)
            continue
        out[str(name)] = list(figure["categories"])
        if figure.get("where"):
            try:
                where_sql(figure["where"])
            except ValueError as exc:
                raise ConfigError(f"{incidents.descriptor_path}: figures: {value}: {exc}") from exc
            _require(where, "incident", where_columns(figure["where"]), {f.name: f for f in incidents.fields})
            conditions[str(name)] = figure["where"]
    return out, conditions


def _require(where: str, side: str, names: Sequence[str | None], fields) -> None:
    unknown = [n for n in names if n not in fields]
    if unknown:
        raise ConfigError(f"{where}: the {side} dataset has no field {', '.join(map(repr, unknown))}")


def _totals_expectation(where: str, table: Dataset, summary: Dataset, summary_table: str,
                        entry: dict[str, Any]) -> dict[str, Any]:
    from audit.validate.where import where_columns

    totals, by = entry["totals"], dict(entry.get("by") or {})
    parts, total = totals["parts"], totals["total"]
    if len(parts["columns"]) != len(total["columns"]):
        raise ConfigError(f"{where}: totals: parts and total name as many columns each (the i-th against the i-th)")
    _require(where, "first", [*parts["columns"], *by, *where_columns(parts.get("where"))], {f.name for f in table.fields})
    _require(where, "summary", [*total["columns"], *by.values(), *where_columns(total.get("where"))],
             {f.name for f in summary.fields})
    return {"type": "expect_totals_to_match",
            "kwargs": {"parts": parts, "total": {**total, "table": summary_table, "dataset": summary.name}, "by": by}}
