"""The site's charts: each total of the latest version over time, as counts and, where the table gives a
population, per 100,000 residents. Read from the package (its data file, and the totals its validation
checked), drawn by audit.publish.charts, each with its figures as a table for readers who cannot see it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from audit.findings import Outcome, number
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
    totals, population = charted_columns(_outcomes(report.get("expectations")))
    population = population if population in fields else None
    title = lambda name: fields.get(name, {}).get("title") or name  # noqa: E731
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, header = true, all_varchar = true)",
                    [str(folder / resource["path"])])
        when = ident(period)
        bucket = f"substr({when}, 1, 4)" if fields[period].get("type") in ("date", "datetime") else when
        charts = []
        wanted = [(title(t), f"sum(TRY_CAST({ident(t)} AS DOUBLE))") for t in totals] or [("Rows per period", "count(*)")]
        for name, measure in wanted:
            rows = con.execute(f"SELECT {bucket} AS p, {measure} FROM t WHERE {when} IS NOT NULL GROUP BY p ORDER BY p"
                               ).fetchall()
            charts.append(_chart(name, rows))
            if population and measure != "count(*)":
                rate = f"{measure} / sum(TRY_CAST({ident(population)} AS DOUBLE)) * 100000"
                rows = con.execute(f"SELECT {bucket} AS p, {rate} FROM t WHERE {when} IS NOT NULL GROUP BY p ORDER BY p"
                                   ).fetchall()
                charts.append(_chart(f"{name} per 100,000 residents ({title(population)})", rows, decimals=1))
        return charts
    finally:
        con.close()


def _chart(title: str, rows: list[tuple], decimals: int = 0) -> Chart:
    series = Series(title, None, [str(p) for p, _ in rows], [float(v or 0) for _, v in rows])
    printed = [(p, f"{v:,.{decimals}f}" if decimals else number(int(v))) for p, v in zip(series.periods, series.values)]
    return Chart(title, render_svg(series), printed)


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
