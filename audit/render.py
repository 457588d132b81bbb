"""Every output format, chosen from one table (`FORMATS`): text for people, JSON for machines, JUnit XML and GitHub
annotations for CI; for a diff, CSV too, and a revision-notes file to complete."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any, Iterator

from audit.findings import ERROR, MAX_FAILING_ROWS, Report, RevisionSummary, count_rows, key_text

if TYPE_CHECKING:
    from audit.diff import DiffResult
    from audit.verify import Verification


def report_json(report: Report) -> str:
    return report.to_json()


# Findings of one check listed in text; the JSON report (--format json) lists every one.
SHOWN_PER_CHECK = 20
SHOWN_COLUMNS = 8


def verdict(report: Report) -> str:
    blocking, waived = report.blocking, report.waived
    if report.success:
        return "PASSED" + (f" with {count_rows(waived):,} waived finding(s)" if waived else "")
    return f"FAILED: {count_rows(blocking):,} finding(s) block publication"


def report_text(report: Report, heading: str | None = None, detail: int = 0) -> str:
    """The report for a person: the verdict and a summary first (counts by check and by column, revisions by
    kind), then the findings grouped by check, at most SHOWN_PER_CHECK of each, with what was left out counted.
    Linear in the number of findings."""
    release = report.release
    lines = [heading] if heading else []
    where = f"{release.source}, {release.rows} rows, sha256 {str(release.sha256)[:12]}"
    label = f"release {release.version} " if release.version else ""
    lines += [f"{report.dataset}: {label}({where})", verdict(report)]
    engines = release.engines
    if engines:  # said whenever the suite did not run on one engine alone
        on_duckdb = engines.get("duckdb") or []
        lines.append(f"  engines: {engines.get('spark', 0)} check(s) ran on Spark"
                     + (f"; {len(on_duckdb)} on DuckDB, which Spark does not run yet ({', '.join(sorted(set(on_duckdb)))})"
                        if on_duckdb else "")
                     + ("; the diff's passes over both releases ran on Spark" if engines.get("diff") == "spark" else ""))
    blocking, waived, others = report.blocking, report.waived, report.warnings
    lines += _summary(report, blocking, others, waived)
    left_out, unlisted = 0, False
    for title, group in (("FINDINGS", blocking), ("WARNINGS", others), ("WAIVED", waived)):
        if not group:
            continue
        lines.append(f"\n{title} ({count_rows(group):,})")
        by_check: dict[str, list] = {}
        for f in group:
            by_check.setdefault(f.check, []).append(f)
        for check, found in by_check.items():
            listed = [f for f in found if not f.unlisted]
            for f in listed[:SHOWN_PER_CHECK]:
                lines.append(f"  {f.check:<14} {f.describe_key():<20} {f.message}")
                if f.waived:
                    lines.append(f"  {'':<14} {'':<20} waived: {f.waiver_reason}")
            if len(listed) > SHOWN_PER_CHECK:
                left_out += len(listed) - SHOWN_PER_CHECK
                lines.append(f"  {check:<14} ... and {len(listed) - SHOWN_PER_CHECK:,} more")
            for f in found:  # the rows past what any report lists: always said, with their count
                if f.unlisted:
                    unlisted = True
                    lines.append(f"  {f.check:<14} {'':<20} {f.message}")
    if report.normalisations:
        lines.append(f"\nNORMALISED to read the file ({len(report.normalisations)})")
        from audit.ingest.normalise import normalisation_text  # not at import: `audit --help` reads FORMATS

        lines += [f"  {n['kind']:<22} {normalisation_text(n)}" for n in report.normalisations]
    if report.claims:
        lines.append(f"\nCLAIMS ({len(report.claims)})")
        for c in report.claims:
            status = "supported" if c.supported else "NOT supported"
            computed = "no data" if c.computed is None else f"{c.computed:,.6g}"
            lines.append(f"  {status:<14} {c.id:<20} stated {c.stated:,g}, computed {computed}")
    if report.revisions is not None:
        lines += ["", *_revisions_text(report.revisions)]
    if report.waivers:
        lines.append(f"\nWAIVERS ({len(report.waivers)})")
        for w in report.waivers:
            note = "" if w.covered else "; it may be stale"
            lines.append(f"  {w.check:<14} {w.scope:<20} covered {w.covered} finding(s){note}")
    if left_out:
        lines.append(f"\n{left_out:,} finding(s) not listed here: --format json lists "
                     + (f"them, up to {MAX_FAILING_ROWS:,} of one check" if unlisted else "every one"))
    if detail > 0:  # -v: every check that ran, and what it found
        lines.append(f"\nCHECKS RUN ({len(report.expectations)})")
        for outcome in report.expectations:
            found = report.findings_of(outcome)
            states = [(sum(1 for f in found if f.severity == ERROR and not f.waived), "blocking"),
                      (sum(1 for f in found if f.severity != ERROR and not f.waived), "warning"),
                      (sum(1 for f in found if f.waived), "waived")]
            said = ", ".join(f"{n:,} {word}" for n, word in states if n) or "passed"
            lines.append(f"  {said:<22} {outcome.name}")
    lines.append(f"\n{verdict(report)}")
    return "\n".join(lines)


def _summary(report: Report, blocking: list, others: list, waived: list) -> list[str]:
    """Counts by check (and what they do to the verdict) and by column; revisions by kind."""
    if not report.findings and report.revisions is None:
        return []
    lines = []
    if report.findings:
        counts: dict[str, list[int]] = {}
        for state, group in ((0, blocking), (1, others), (2, waived)):
            for f in group:
                counts.setdefault(f.check, [0, 0, 0])[state] += f.rows
        parts = []
        for check, (blocks, warns, waives) in counts.items():
            what = [f"{n:,} {word}" for n, word in ((blocks, "blocking"), (warns, "warning"), (waives, "waived")) if n]
            parts.append(f"{check} {', '.join(what)}")
        lines.append("  by check: " + "; ".join(parts))
        columns: dict[str, int] = {}
        for f in report.findings:
            for column in f.columns[:1]:  # the column the finding is about (the checked one comes first)
                columns[column] = columns.get(column, 0) + f.rows
        if columns:
            top = sorted(columns.items(), key=lambda item: -item[1])
            more = f", {len(top) - SHOWN_COLUMNS} more" if len(top) > SHOWN_COLUMNS else ""
            lines.append("  by column: " + ", ".join(f"{c} {n:,}" for c, n in top[:SHOWN_COLUMNS]) + more)
    if report.revisions is not None:
        kinds = report.revisions.kinds
        lines.append("  revisions: " + (", ".join(f"{n:,} {k.replace('-', ' ')}" for k, n in sorted(kinds.items()))
                                        + f" ({report.revisions.unexplained:,} unexplained)" if kinds else "none"))
    return lines


REFUSAL_LINES = 10


def refusal_text(report: Report, everything: str) -> str:
    """Why a release may not be published: the blocking findings by check, the first few of them, and the
    command that shows them all (not the whole report)."""
    blocking = report.blocking
    by_check: dict[str, int] = {}
    for f in blocking:
        by_check[f.check] = by_check.get(f.check, 0) + f.rows
    lines = [f"refused: release {report.release.version} has {count_rows(blocking):,} finding(s) that are neither "
             f"fixed nor waived: " + ", ".join(f"{check} {n:,}" for check, n in by_check.items())]
    lines += [f"  {f.check:<14} {f.describe_key():<20} {f.message}" for f in blocking[:REFUSAL_LINES]]
    if len(blocking) > REFUSAL_LINES:
        lines.append(f"  ... and {len(blocking) - REFUSAL_LINES} more: `{everything}` shows them all")
    return "\n".join(lines)


def _revisions_text(summary: RevisionSummary) -> list[str]:
    kinds = summary.kinds
    baseline = summary.baseline.version
    kind = summary.baseline.kind or "published"
    vouched = [f"  baseline: {summary.baseline.vouched}"] if summary.baseline.vouched else []
    if not kinds:
        return [f"REVISIONS: none since the {kind} release {baseline}", *vouched]
    parts = ", ".join(f"{n:,} {k.replace('-', ' ')}" for k, n in sorted(kinds.items()))
    lines = [f"REVISIONS since the {kind} release {baseline}: {parts}; "
             f"{summary.counts.get('explained', 0):,} explained by a note, {summary.unexplained:,} unexplained"]
    lines += vouched
    lines += _matching_lines(summary.matching)
    lines += _reclassification_lines(summary.reclassifications)
    return lines


def _matching_lines(matching: dict[str, int]) -> list[str]:
    """How rows were matched, when anything but the key matched some: a reader must know a row that swapped
    places or moved between offence files was matched as such, not by its position."""
    if not any(matching.get(k) for k in ("identical", "reclassified", "relabelled")):
        return []
    ways = [("identical", "as identical rows (the key repeats)"), ("by_key", "by key"),
            ("reclassified", "as one incident reclassified (only category fields differ)"),
            ("relabelled", "as one row relabelled")]
    return ["  rows matched: " + ", ".join(f"{matching[k]:,} {text}" for k, text in ways if matching.get(k))]


# Reclassification groups shown in text (largest first); JSON carries them all.
SHOWN_MOVES = 10


def _reclassification_lines(moves: list[dict[str, Any]]) -> list[str]:
    if not moves:
        return []
    total = sum(m["incidents"] for m in moves)
    lines = [f"  {total:,} incident(s) reclassified, in {len(moves):,} group(s); the largest "
             "(from -> to, where, incidents, explained):"]
    for m in sorted(moves, key=lambda m: (not m["downgrade"], -m["incidents"]))[:SHOWN_MOVES]:
        fixed = ("from_category", "to_category", "incidents", "explained", "downgrade")
        where = ", ".join(f"{k}={v}" for k, v in m.items() if k not in fixed)
        flag = "  DOWNGRADE" if m["downgrade"] else ""
        lines.append(f"    {m['from_category']} -> {m['to_category']}  {where}  {m['incidents']:,}  "
                     f"{m['explained']:,}{flag}")
    if len(moves) > SHOWN_MOVES:
        lines.append(f"    and {len(moves) - SHOWN_MOVES:,} more group(s): --format json lists them all")
    return lines


def _value_text(value: Any) -> str:
    return "(none)" if value is None else str(value)


def diff_text(result: "DiffResult") -> str:
    notes = {n.id: n for n in result.revisions.notes}
    lines = [f"{result.dataset}: release {result.from_release['version']} -> {result.to_release['version']}"]
    for r in result.records:
        key = key_text(r["key"])
        what = r["column"] or ""
        values = (f"{_value_text(r['old'])} -> {_value_text(r['new'])}" if r["change"] in ("changed", "relabelled")
                  else r["change"])
        note = notes.get(r["note_id"] or "")
        why = f"note {note.id}: {note.reason}" if note else "UNEXPLAINED"
        lines.append(f"  {key:<24} {what:<20} {values:<24} {why}")
    counts = result.revisions.counts
    lines.append(f"\n{len(result.records):,} change(s): {counts['explained']:,} explained, "
                 f"{counts['unexplained']:,} unexplained")
    lines += _matching_lines(result.revisions.matching)
    lines += _reclassification_lines(result.revisions.reclassifications)
    return "\n".join(lines)


def diff_csv(result: "DiffResult") -> str:
    from audit.diff.changes import write_revisions_csv

    buffer = io.StringIO()
    notes = {n.id: n.to_dict() for n in result.revisions.notes}
    write_revisions_csv(buffer, result.records, result.key, notes)
    return buffer.getvalue()


def diff_notes(result: "DiffResult") -> str:
    """A notes file to complete for the changes no note explains (audit.diff.template)."""
    import yaml

    from audit.diff.template import notes_template

    header = (f"# Revision notes for {result.dataset} release {result.to_release['version']} (since "
              f"{result.from_release['version']}), written by `audit diff --format notes`: one note per kind of change\n"
              "# and column no note explained. Write each reason and who approved it (a TODO left is refused), narrow\n"
              "# or split a note where its changes have different reasons, and ship the file with --notes.\n")
    return header + yaml.safe_dump(notes_template(result.records), sort_keys=False, allow_unicode=True)


def _utc(seconds: int) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def verification_text(result: "Verification") -> str:
    lines = []
    for check in result.logs:
        walk = check.walk
        state = "intact" if check.ok else "BROKEN"
        lines.append(f"log {walk.dataset}: {state}, {walk.entries} entries checked, head seq {walk.head_seq} "
                     f"{walk.head_hash[:16]}…")
        lines += [f"  - {p}" for p in check.problems]
        lines += [f"  - not shown: {c}" for c in check.caveats]
    lines += [f"log: {p}" for p in result.problems]
    lines += [f"published: {p}" for p in result.publications]
    lines += [f"published: {p}" for p in result.pending]
    lines += [f"published: {p}" for p in result.failures]
    lines += [f"site: {p}" for p in result.site]
    lines += [f"site: not shown: {c}" for c in result.site_caveats]
    for package in result.packages:
        state = "holds" if package.ok else "FAILS"
        signed = f", signed by {package.signed_by}" if package.signed_by else ", not signed"
        lines.append(f"package {package.path} ({package.dataset} {package.version}): {state}, head seq "
                     f"{package.head_seq} {package.head_hash[:16]}…{signed}")
        if package.checkpoint is not None:
            lines.append(f"  checkpoint of {package.checkpoint.origin} at size {package.checkpoint.size}")
        lines += [f"  cosigned by {name} at {_utc(when)}" for name, when in sorted(package.cosigned.items())]
        lines += [f"  - {p}" for p in package.problems]
        lines += [f"  - not shown: {c}" for c in package.caveats]
    if not result.logs and not result.packages:
        lines.append("the log is empty: nothing to verify")
    if result.tool_failed:
        lines.append("NOT verified: the tool failed on a package (see above); nothing was found altered")
    elif not result.ok:
        lines.append("NOT verified: see above")
    elif any(p.caveats for p in result.packages) or result.site_caveats or any(c.caveats for c in result.logs):
        lines.append("verified, with what could not be shown listed above")
    else:
        lines.append("verified: every chain is intact" + (", and every publication is in place" if result.logs else ""))
    return "\n".join(lines)


# -- the one table of output formats ---------------------------------------------
#
# Every command that takes --format chooses from this table: what it prints (a validation report, a diff, a
# verification) by format. A command offers the formats that have a renderer for what it prints.


def _report_text(result: Report, heading: str | None = None, file: str | None = None, detail: int = 0) -> str:
    """-q (`detail` -1): the verdict alone; -v (1): every check run besides."""
    if detail < 0:
        return (f"{heading}\n" if heading else "") + verdict(result)
    return report_text(result, heading, detail)


def _report_json(result: Report, heading: str | None = None, file: str | None = None) -> Iterator[str]:
    return result.json_pieces()  # written as it is encoded: a report may list hundreds of thousands of findings


def _report_junit(result: Report, heading: str | None = None, file: str | None = None) -> str:
    from audit.ci import report_junit

    return report_junit(result)


def _report_github(result: Report, heading: str | None = None, file: str | None = None) -> str:
    from audit.ci import report_github

    return report_github(result, file)


def _diff_json(result: "DiffResult", **_: Any) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str)


def _diff_junit(result: "DiffResult", **_: Any) -> str:
    from audit.ci import diff_junit

    return diff_junit(result)


def _diff_github(result: "DiffResult", **_: Any) -> str:
    from audit.ci import diff_github

    return diff_github(result)


def _verify_json(result: "Verification", **_: Any) -> str:
    return json.dumps(result.to_dict(), indent=2)


def _verify_junit(result: "Verification", **_: Any) -> str:
    from audit.ci import verification_junit

    return verification_junit(result)


def _verify_github(result: "Verification", **_: Any) -> str:
    from audit.ci import verification_github

    return verification_github(result)


FORMATS: dict[str, dict[str, Any]] = {
    # format: {what is printed: renderer}
    "text": {"report": _report_text, "diff": lambda r, **_: diff_text(r), "verify": lambda r, **_: verification_text(r)},
    "json": {"report": _report_json, "diff": _diff_json, "verify": _verify_json},
    "junit": {"report": _report_junit, "diff": _diff_junit, "verify": _verify_junit},
    "github": {"report": _report_github, "diff": _diff_github, "verify": _verify_github},
    "csv": {"diff": lambda r, **_: diff_csv(r)},
    "notes": {"diff": lambda r, **_: diff_notes(r)},
}


def formats_for(kind: str) -> list[str]:
    """The formats a command printing `kind` (report, diff, verify) offers."""
    return [fmt for fmt, renderers in FORMATS.items() if kind in renderers]


def render(kind: str, fmt: str, result: Any, **context: Any) -> str | Iterator[str]:
    """`result` (a report, a diff, a verification) in `fmt`, from the one table: a text, or its pieces in order
    (audit.cli.echo_all writes either)."""
    return FORMATS[fmt][kind](result, **context)
