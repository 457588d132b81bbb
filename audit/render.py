"""Reports for people (text) and machines (JSON)."""

from __future__ import annotations

import json

from audit.findings import Report


def report_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False)


def report_text(report: Report, heading: str | None = None) -> str:
    release = report.release
    lines = []
    if heading:
        lines.append(heading)
    where = f"{release.get('source')}, {release.get('rows')} rows, sha256 {str(release.get('sha256'))[:12]}"
    label = f"release {release['version']} " if release.get("version") else ""
    lines.append(f"{report.dataset}: {label}({where})")
    blocking, waived = report.blocking, report.waived
    others = [f for f in report.findings if not f.waived and f not in blocking]
    for title, group in (("FINDINGS", blocking), ("WARNINGS", others), ("WAIVED", waived)):
        if not group:
            continue
        lines.append(f"\n{title} ({len(group)})")
        for f in group:
            lines.append(f"  {f.check:<14} {f.describe_key():<20} {f.message}")
            if f.waived:
                lines.append(f"  {'':<14} {'':<20} waived: {f.waiver_reason}")
    if report.claims:
        lines.append(f"\nCLAIMS ({len(report.claims)})")
        for c in report.claims:
            status = "supported" if c["supported"] else "NOT supported"
            computed = "no data" if c["computed"] is None else f"{c['computed']:,.6g}"
            lines.append(f"  {status:<14} {c['id']:<20} stated {c['stated']:,g}, computed {computed}")
    for w in report.unused_waivers:
        lines.append(f"\nnote: waiver for {w['check']} {w.get('key', {})} matched no finding; it may be stale")
    if report.success:
        summary = "PASSED" + (f" with {len(waived)} waived finding(s)" if waived else "")
    else:
        summary = f"FAILED: {len(blocking)} finding(s) block publication"
    lines.append(f"\n{summary}")
    return "\n".join(lines)
