"""Charts for the report page: each total over time, with the points a finding flags marked.

"Totals" are the totals of the suite's category sums (violent crime, property crime, ...),
summed over places by period; a table with no sums is charted as rows per period (for
incident data, incidents per month or year). Rendered to static SVG with matplotlib at
build time, so the page needs no network and no script to show them.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import duckdb

from audit.dataset import Dataset
from audit.engine import DUCKDB, Engine
from audit.findings import Code, Outcome, Report
from audit.sql import ident


@dataclass
class Series:
    title: str
    column: str | None                      # None: rows counted
    periods: list[str]
    values: list[float]
    flagged: dict[str, list[str]] = field(default_factory=dict)  # period -> messages of open findings there
    waived: dict[str, list[str]] = field(default_factory=dict)   # period -> messages of waived findings there
    parts: list[float] | None = None        # a checked sum's parts added up, period by period, beside its total


def _period_sql(dataset: Dataset, column: str, engine: Engine, con: duckdb.DuckDBPyConnection,
                table: str) -> tuple[str, int]:
    """SQL for a row's period as text, and how many characters of an ISO key value make a period."""
    field_ = dataset.field(column)
    if field_.type not in ("date", "datetime"):
        return f"CAST({ident(column)} AS VARCHAR)", 0
    # Only the first and last date (or time) are fetched, and their span is counted here as DuckDB's
    # date_diff('month') counts it (the month boundaries between them): the same on every engine.
    ((first, last),) = engine.fetch(con, table, f"SELECT min({ident(column)}), max({ident(column)}) FROM {table}")
    span = 0 if first is None else (last.year - first.year) * 12 + last.month - first.month
    return (f"strftime({ident(column)}, '%Y')", 4) if span > 36 else (f"strftime({ident(column)}, '%Y-%m')", 7)


def charted_columns(outcomes: list[Outcome]) -> tuple[list[str], str | None]:
    """(the totals to chart, the population to chart them per 100,000 by) from a validation's outcomes: the totals
    of its category sums, and a rate's population unless that is itself a total (a share of all crime divides by
    a total, not by residents)."""
    totals = list(dict.fromkeys(o.columns[0] for o in outcomes if o.check == Code.CATEGORY_SUM and o.columns))
    populations = [o.columns[2] for o in outcomes if o.check == Code.RATE_MATH
                   and len(o.columns) > 2 and o.columns[2] not in totals]
    return totals, populations[0] if populations else None


def chart_series(con: duckdb.DuckDBPyConnection, table: str, dataset: Dataset, report: Report,
                 engine: Engine = DUCKDB) -> list[Series]:
    """Each charted total by period, summed where `engine` reads `table` (a release kept where it lies: on the
    cluster, which brings back one number a period)."""
    temporal = dataset.temporal_field
    if temporal is None:
        return []
    period, width = _period_sql(dataset, temporal.name, engine, con, table)
    totals, population = charted_columns(report.expectations)
    wanted: list[tuple[str, str | None, str | None]] = (
        [(dataset.label(c), c, None) for c in totals] or [("Rows per period", None, None)])
    if population:  # lay readers compare places and years by rates, not counts
        wanted += [(f"{dataset.label(c)} per 100,000 residents", c, population) for c in totals]
    out = []
    for title, column, population in wanted:
        measure = f"sum({ident(column)})" if column else "count(*)"
        if population:
            # A period with no residents has no rate: NULL on every engine (DuckDB would divide to infinity, and
            # Spark's ANSI mode stops the query).
            measure = f"{measure} / NULLIF(sum({ident(population)}), 0) * 100000"
        rows = engine.fetch(con, table, f"SELECT {period} AS p, {measure} FROM {table} "
                                        f"WHERE {ident(temporal.name)} IS NOT NULL GROUP BY p ORDER BY p")
        # A period without a value (no residents, or every cell missing) is a gap in the line, never a 0.
        series = Series(title, column, [r[0] for r in rows], [math.nan if r[1] is None else float(r[1]) for r in rows])
        for f in report.findings:
            if temporal.name in f.key and (column is None or column in f.columns):
                value = str(f.key[temporal.name])
                marks = series.waived if f.waived else series.flagged
                marks.setdefault(value[:width] if width else value, []).append(f.message)
        out.append(series)
    return out


def render_svg(series: Series) -> str:
    import os
    import tempfile

    # matplotlib keeps a font cache; without this it writes it into the home folder, and a command writes nothing
    # outside the workspace, its output and the system's temporary folder.
    os.environ.setdefault("MPLCONFIGDIR", os.path.join(tempfile.gettempdir(), "audit-matplotlib"))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "audit"  # the same chart gives the same SVG
    plt.rcParams["text.parse_math"] = False  # an office's "$5 fines" is text, never TeX to typeset (or fail on)
    fig, ax = plt.subplots(figsize=(7.2, 2.8), dpi=100)
    x = list(range(len(series.periods)))
    ax.plot(x, series.values, color="#1f4e79", marker="o", markersize=3, linewidth=1.6, label=series.title)
    if series.parts is not None:  # where the total and its parts part ways is what a sum check finds
        ax.plot(x, series.parts, color="#7f7f7f", linestyle="--", linewidth=1.2, label="its parts added up")
    marked = [i for i, p in enumerate(series.periods) if p in series.flagged]
    if marked:
        ax.scatter([x[i] for i in marked], [series.values[i] for i in marked], s=70, facecolors="none",
                   edgecolors="#c0392b", linewidths=2, zorder=3, label="flagged by an open finding")
    # Waived findings are marked apart from open ones: the office accepted them, with a reason on the page.
    accepted = [i for i, p in enumerate(series.periods) if p in series.waived and p not in series.flagged]
    if accepted:
        ax.scatter([x[i] for i in accepted], [series.values[i] for i in accepted], s=60, marker="s",
                   facecolors="none", edgecolors="#5f6b6d", linewidths=1.5, zorder=3,
                   label="finding waived by the office")
    step = max(1, len(x) // 12)
    ax.set_xticks(x[::step], series.periods[::step], rotation=0 if step == 1 and len(x) < 13 else 45, fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    if min((v for v in series.values if not math.isnan(v)), default=0) >= 0:
        ax.set_ylim(bottom=0)  # from zero, so a change looks as large as it is
    ax.set_title(series.title, fontsize=10, loc="left")
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, frameon=False, loc="best")
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]  # inline: no XML declaration or doctype
