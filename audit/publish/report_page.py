"""The report a person reads: one static HTML page per audited release.

Summary (passed, findings, waivers), a chart of each total over time with flagged
points marked, the findings table with keys and figures, the revisions table and
the published claims. One file, inline CSS and SVG, no script, nothing fetched.
"""

from __future__ import annotations

import datetime
import json
from html import escape
from typing import Any

import duckdb

from audit.dataset import Dataset
from audit.findings import ERROR, Finding, Report
from audit.publish.charts import chart_series, render_svg
from audit.publish.revisions import PublishedRevisions, describe_change

# Beyond these, the page says how many more there are; every one is in the package's CSV files.
REVISIONS_SHOWN = 1000
FINDINGS_SHOWN = 1000
STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f; max-width: 1100px;
       margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.meta { color: #555; } .status { display: inline-block; padding: .15rem .6rem; border-radius: 4px; color: #fff;
  font-weight: 600; } .passed { background: #1e7b34; } .failed { background: #b3261e; }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1rem 0; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .6rem 1rem; min-width: 8rem; }
.card b { display: block; font-size: 1.5rem; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: .5rem 0 1rem; }
th, td { border-bottom: 1px solid #e3e3e3; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f4f5f7; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.error td:first-child { border-left: 4px solid #b3261e; } tr.warning td:first-child { border-left: 4px solid #d68910; }
tr.waived td:first-child { border-left: 4px solid #7f8c8d; } .unexplained { color: #b3261e; font-weight: 600; }
figure { margin: 1rem 0; } figcaption { font-size: 13px; color: #444; } svg { max-width: 100%; height: auto; }
"""


def _cell(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return escape(json.dumps(value, ensure_ascii=False))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):  # at most four decimals: 1,870.4612
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return escape("" if value is None else str(value))


def _office(dataset: Dataset) -> str:
    """Who publishes the data: the descriptor's contributor with the role publisher."""
    return next((str(c.get("title") or "") for c in dataset.descriptor.get("contributors") or []
                 if isinstance(c, dict) and c.get("role") == "publisher"), "")


def _state(f: Finding) -> str:
    return "waived" if f.waived else ("error" if f.severity == ERROR else "warning")


def render_report_page(
    con: duckdb.DuckDBPyConnection, table: str, dataset: Dataset, report: Report,
    revisions: PublishedRevisions | None = None, package_version: str | None = None,
) -> str:
    release = report.release
    title = f"{dataset.title}: audit of release {release.get('version') or release.get('source')}"
    status = "passed" if report.success else "failed"
    outcomes = report.expectations
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(dataset.title)}</h1>",
        f'<p class="meta">{escape(_office(dataset) + " · " if _office(dataset) else "")}report made '
        f"{datetime.date.today().isoformat()}</p>",
        f'<p class="meta">Release {_cell(release.get("version"))}'
        + (f", published as version {escape(package_version)}" if package_version else "")
        + f" &middot; file {_cell(release.get('source'))}, {_cell(release.get('rows'))} rows"
        f" &middot; sha256 <code>{_cell(release.get('sha256'))}</code></p>",
        f'<p><span class="status {status}" id="status">{status.upper()}</span> '
        + ("no finding blocks publication" if report.success
           else f"{len(report.blocking)} finding(s) block publication") + "</p>",
        '<h2 id="summary">Summary</h2><div class="cards">',
        *(f'<div class="card"><b>{_cell(n)}</b>{escape(label)}</div>' for n, label in (
            (len(outcomes), "checks run"),
            (sum(1 for o in outcomes if not o["finding_count"]), "checks passed"),
            (len(report.blocking), "findings blocking publication"),
            (len(report.warnings), "warnings"),
            (len(report.waived), "findings waived by the office"),
        )),
        "</div>",
    ]
    if report.revisions:
        counts = report.revisions.get("counts", {})
        baseline = report.revisions.get("baseline", {}).get("version")
        kind = report.revisions.get("baseline", {}).get("kind") or "published"
        parts.append(f"<p>Since the {escape(kind)} release {_cell(baseline)}: "
                     + ", ".join(f"{_cell(n)} {escape(k)}" for k, n in counts.items()) + ".</p>")
    parts += _charts(con, table, dataset, report)
    parts += _findings(report)
    if revisions is not None:
        parts += _revisions(dataset, revisions)
    if report.claims:
        parts += _claims(report)
    parts.append('<p class="meta">Made by <code>audit</code> from the office\'s change log. The data, every finding '
                 "and every revision are in the package beside this page.</p></body></html>")
    return "\n".join(parts) + "\n"


def _charts(con, table: str, dataset: Dataset, report: Report) -> list[str]:
    series = chart_series(con, table, dataset, report)
    if not series:
        return []
    out = ['<h2 id="charts">Totals over time</h2>',
           "<p>Each axis starts at zero. Points circled in red are flagged by an open finding; points in a grey square "
           "by a finding the office waived, with its reason (both are listed below each chart).</p>"]
    for s in series:
        marks = [(p, m, "") for p, m in s.flagged.items()] + [(p, m, " (waived)") for p, m in s.waived.items()]
        listed = "".join(f"<li><b>{escape(p)}</b>{escape(w)}: {escape(' / '.join(m))}</li>" for p, m, w in sorted(marks))
        caption = f"<figcaption>{escape(s.title)}" + (f"<ul>{listed}</ul>" if listed else ": no point flagged") \
            + "</figcaption>"
        out.append(f'<figure class="chart">{render_svg(s)}{caption}</figure>')
    return out


def _findings(report: Report) -> list[str]:
    out = ['<h2 id="findings">Findings</h2>']
    if not report.findings:
        return out + ["<p>Every check passed.</p>"]
    out.append("<table><thead><tr><th>State</th><th>Check</th><th>Row</th><th>Columns</th><th>Expected</th>"
               "<th>Observed</th><th>What it means</th></tr></thead><tbody>")
    for f in report.findings[:FINDINGS_SHOWN]:
        note = f"<br><i>Waived: {escape(f.waiver_reason or '')}</i>" if f.waived else ""
        out.append(f'<tr class="{_state(f)}"><td>{_state(f)}</td><td><code>{escape(f.check)}</code></td>'
                   f"<td>{escape(f.describe_key())}</td><td>{escape(', '.join(f.columns))}</td>"
                   f'<td class="num">{_cell(f.expected)}</td><td class="num">{_cell(f.observed)}</td>'
                   f"<td>{escape(f.message)}{note}</td></tr>")
    out.append("</tbody></table>")
    if len(report.findings) > FINDINGS_SHOWN:
        out.append(f"<p>and {len(report.findings) - FINDINGS_SHOWN:,} more, all in <code>findings.csv</code>.</p>")
    return out


def _revisions(dataset: Dataset, revisions: PublishedRevisions) -> list[str]:
    records = revisions.records
    out = [f'<h2 id="revisions">Revisions since the published release {escape(revisions.baseline_version)}</h2>']
    if not records:
        return out + ["<p>No published value changed, and no row was added or removed.</p>"]
    out.append("<table><thead><tr><th>Change</th><th>Reason</th></tr></thead><tbody>")
    for r in records[:REVISIONS_SHOWN]:
        note = revisions.notes.get(r["note_id"] or "")
        reason = escape(note["reason"]) if note else '<span class="unexplained">UNEXPLAINED: no revision note</span>'
        out.append(f"<tr><td>{escape(describe_change(r, dataset))}</td><td>{reason}</td></tr>")
    out.append("</tbody></table>")
    if len(records) > REVISIONS_SHOWN:
        out.append(f"<p>and {len(records) - REVISIONS_SHOWN:,} more, all in <code>revisions.csv</code>.</p>")
    return out


def _claims(report: Report) -> list[str]:
    out = ['<h2 id="claims">Published statements checked</h2><table><thead><tr><th>Statement</th><th>Stated</th>'
           "<th>Computed from the data</th><th>Verdict</th></tr></thead><tbody>"]
    for c in report.claims:
        verdict = "supported" if c["supported"] else '<span class="unexplained">not supported</span>'
        out.append(f"<tr><td>{escape(c['statement'])}</td><td class=\"num\">{_cell(c['stated'])}</td>"
                   f"<td class=\"num\">{_cell(c['computed'])}</td><td>{verdict}</td></tr>")
    return out + ["</tbody></table>"]
