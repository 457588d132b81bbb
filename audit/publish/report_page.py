"""The report a person reads: one static HTML page per audited release.

Summary (passed, findings, waivers), a chart of each total over time with flagged
points marked, the findings table with keys and figures, the revisions table and
the published claims. One file, inline CSS and SVG, no script, nothing fetched. The markup is the
template audit/publish/templates/report.html.j2; this module computes what it shows.
"""

from __future__ import annotations

import datetime

import duckdb

from audit.dataset import Dataset
from audit.engine import DUCKDB, Engine
from audit.findings import ERROR, Finding, Report, count_rows
from audit.publish.branding import DEFAULT_ACCENT, Branding
from audit.publish.charts import chart_series, render_svg
from audit.publish.revisions import PublishedRevisions, describe_change

# Beyond these, the page says how many more there are; every one is in the package's CSV files.
REVISIONS_SHOWN = 1000
FINDINGS_SHOWN = 1000


def _office(dataset: Dataset) -> str:
    """Who publishes the data: the descriptor's contributor with the role publisher."""
    return next((str(c.get("title") or "") for c in dataset.descriptor.get("contributors") or []
                 if isinstance(c, dict) and c.get("role") == "publisher"), "")


def _state(f: Finding) -> str:
    return "waived" if f.waived else ("error" if f.severity == ERROR else "warning")


def render_report_page(
    con: duckdb.DuckDBPyConnection, table: str, dataset: Dataset, report: Report,
    revisions: PublishedRevisions | None = None, package_version: str | None = None, brand: Branding | None = None,
    engine: Engine = DUCKDB,
) -> str:
    """The page, from the template report.html.j2 (with the site's templates): what it shows is computed here, its
    charts' sums where `engine` reads `table`."""
    from audit.publish.templates import environment

    outcomes = report.expectations
    charts = [{"title": s.title, "svg": render_svg(s),
               "marks": sorted([(p, m, False) for p, m in s.flagged.items()] + [(p, m, True) for p, m in s.waived.items()])}
              for s in chart_series(con, table, dataset, report, engine)]
    records, notes = (revisions.records, revisions.notes) if revisions is not None else ([], {})
    changes = [(describe_change(r, dataset), (notes.get(r["note_id"] or "") or {}).get("reason"))
               for r in records[:REVISIONS_SHOWN]]
    page = environment().get_template("report.html.j2").render(
        dataset=dataset, report=report, release=report.release, package_version=package_version,
        status="passed" if report.success else "failed", office=(brand and brand.name) or _office(dataset),
        accent=brand.accent if brand else DEFAULT_ACCENT, logo=brand.logo_data_uri() if brand else None,
        today=datetime.date.today().isoformat(), charts=charts,
        cards=[(len(outcomes), "checks run"), (sum(1 for o in outcomes if not o.finding_count), "checks passed"),
               (count_rows(report.blocking), "findings blocking publication"),
               (count_rows(report.warnings), "warnings"), (count_rows(report.waived), "findings waived by the office")],
        findings=[(f, _state(f)) for f in report.findings[:FINDINGS_SHOWN]],
        more_findings=max(0, len(report.findings) - FINDINGS_SHOWN),
        revisions=revisions, changes=changes, more_changes=max(0, len(records) - REVISIONS_SHOWN))
    return page
