"""The site's charts: each total of the latest version over time, as counts and, where the table gives a
population, per 100,000 residents. Read from the package (its data file, and the totals its validation
checked), drawn by audit.publish.charts, each with its figures as a table for readers who cannot see it."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from audit.findings import Code, Outcome, number
from audit.publish.charts import Series, charted_columns, render_svg
from audit.site.model import Chart
from audit.sql import ident


def dataset_charts(folder: Path) -> list[Chart]:
    """Charts of the package in `folder`; none when it has no period field or nothing to sum."""
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    report = json.loads((folder / "validation.json").read_text(encoding="utf-8")) \
        if (folder / "validation.json").is_file() else {}
    period = ((package.get("audit") or {}).get("temporal") or {}).get("field")
    resource = (package.get("resources") or [{}])[0]
    fields = {f["name"]: f for f in (resource.get("schema") or {}).get("fields", [])}
    if not period or period not in fields or not resource.get("path"):
        return []
    outcomes = _outcomes(report.get("expectations"))
    totals, population = charted_columns(outcomes)
    population = population if population in fields else None
    # Each total's parts (its category sum's other columns), and the findings that name a period of it.
    parts = {o.columns[0]: [c for c in o.columns[1:] if c in fields] for o in outcomes
             if o.check == Code.CATEGORY_SUM and o.columns}
    findings = _findings(folder / "findings.csv", period)
    title = lambda name: fields.get(name, {}).get("title") or name  # noqa: E731
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, header = true, all_varchar = true)",
                    [str(folder / resource["path"])])
        when = ident(period)
        bucket = f"substr({when}, 1, 4)" if fields[period].get("type") in ("date", "datetime") else when
        charts = []
        wanted = [(title(t), f"sum(TRY_CAST({ident(t)} AS DOUBLE))") for t in totals] or [("Rows per period", "count(*)")]
        columns: list[str | None] = [*totals] or [None]  # rows counted: no column of its own
        for (name, measure), column in zip(wanted, columns):
            rows = con.execute(f"SELECT {bucket} AS p, {measure} FROM t WHERE {when} IS NOT NULL GROUP BY p ORDER BY p"
                               ).fetchall()
            added = None
            if column and parts.get(column):
                summed = " + ".join(f"coalesce(TRY_CAST({ident(c)} AS DOUBLE), 0)" for c in parts[column])
                added = [float(v or 0) for _, v in con.execute(
                    f"SELECT {bucket} AS p, sum({summed}) FROM t WHERE {when} IS NOT NULL GROUP BY p ORDER BY p"
                ).fetchall()]
            marks = [f for f in findings if column is not None and column in f["columns"]]
            charts.append(_chart(name, rows, parts=added, marks=marks))
            if population and measure != "count(*)":
                # A period with no residents has no rate (not an infinite one), as on the report page.
                rate = f"{measure} / NULLIF(sum(TRY_CAST({ident(population)} AS DOUBLE)), 0) * 100000"
                rows = con.execute(f"SELECT {bucket} AS p, {rate} FROM t WHERE {when} IS NOT NULL GROUP BY p ORDER BY p"
                                   ).fetchall()
                charts.append(_chart(f"{name} per 100,000 residents ({title(population)})", rows, decimals=1))
        return charts
    finally:
        con.close()


def _chart(title: str, rows: list[tuple], decimals: int = 0, parts: list[float] | None = None,
           marks: Sequence[dict[str, Any]] = ()) -> Chart:
    """A chart of `rows` (period, value); with the sum of a total's `parts` beside it, and the periods its findings
    (`marks`) name circled (open) or boxed (waived by the office)."""
    # A period without a value (no residents for a rate, or no cell to sum) is a gap in the line, never a 0.
    series = Series(title, None, [str(p) for p, _ in rows], [math.nan if v is None else float(v) for _, v in rows],
                    parts=parts)
    for f in marks:
        (series.waived if f["waived"] else series.flagged).setdefault(f["period"], []).append(f["message"])
    printed = [(p, "no value" if math.isnan(v) else f"{v:,.{decimals}f}" if decimals else number(int(v)))
               for p, v in zip(series.periods, series.values)]
    notes = {p: f"{len(found)} open finding(s)" for p, found in series.flagged.items()}
    for p, found in series.waived.items():
        notes[p] = "; ".join(filter(None, [notes.get(p), f"{len(found)} finding(s) waived by the office"]))
    if parts is not None:
        for p, total, added in zip(series.periods, series.values, parts):
            if total != added:
                gap = f"its parts add up to {added:,.{decimals}f}" if decimals else f"its parts add up to {number(int(added))}"
                notes[p] = "; ".join(filter(None, [notes.get(p), gap]))
    return Chart(title, render_svg(series), printed, notes)


def _findings(path: Path, period: str) -> list[dict[str, Any]]:
    """The findings of a package's findings.csv that name a period: its period (as the chart buckets it), columns,
    message and whether the office waived it. What cannot be read is left out, never an error."""
    import csv

    out: list[dict[str, Any]] = []
    if not path.is_file():
        return out
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            try:
                key, columns = json.loads(row.get("key") or "{}"), json.loads(row.get("columns") or "[]")
            except ValueError:
                continue
            if isinstance(key, dict) and period in key and isinstance(columns, list):
                out.append({"period": str(key[period])[:4] if len(str(key[period])) >= 10 else str(key[period]),
                            "columns": columns, "message": row.get("message", ""),
                            "waived": row.get("waived") == "true"})
    return out


def _outcomes(listed: Any) -> list[Outcome]:
    """The outcomes a package's validation.json lists; what is not one (a package is the office's, or anyone's,
    file) is left out of the charts, never an error that stops the site."""
    found = []
    for entry in listed if isinstance(listed, list) else []:
        try:
            found.append(Outcome.from_dict(entry))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return found
