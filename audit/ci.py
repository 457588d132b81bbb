"""Reports for CI systems: JUnit XML (which every CI displays) and GitHub Actions annotations.

A validation report: one JUnit test case per expectation run, failed when it has findings that block
publication (errors, not waived); warnings and waived findings are listed in the test case's output, not
failures. A diff: one test case per change, failed when no note explains it. A verification: one test case per
chain and per package, failed when it does not hold.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from audit.findings import ERROR, WARNING, Finding, Report, count_rows, key_text


def _line(f: Finding) -> str:
    state = f"waived: {f.waiver_reason}" if f.waived else f.severity
    return f"{f.describe_key()}: {f.message} (expected {f.expected!r}, observed {f.observed!r}; {state})"


def _blocking(f: Finding) -> bool:
    return f.severity == ERROR and not f.waived


def report_junit(report: Report) -> str:
    cases = []
    for outcome in report.expectations:
        cases.append((outcome.name, outcome.check, report.findings_of(outcome)))
    failures = sum(1 for _, _, found in cases if any(_blocking(f) for f in found))
    suites = ET.Element("testsuites", name="audit", tests=str(len(cases)), failures=str(failures), errors="0")
    suite = ET.SubElement(suites, "testsuite", name=f"audit {report.dataset}", tests=str(len(cases)),
                          failures=str(failures), errors="0", skipped="0")
    properties = ET.SubElement(suite, "properties")
    for name, value in report.release.to_dict().items():
        if value is not None and not isinstance(value, dict):
            ET.SubElement(properties, "property", name=f"release.{name}", value=str(value))
    if report.revisions is not None and report.revisions.baseline.vouched:
        ET.SubElement(properties, "property", name="baseline.vouched", value=report.revisions.baseline.vouched)
    for name, check, found in cases:
        case = ET.SubElement(suite, "testcase", classname=f"audit.{report.dataset}", name=name)
        blocking = [f for f in found if _blocking(f)]
        if blocking:
            failure = ET.SubElement(case, "failure", type=check,
                                    message=f"{count_rows(blocking):,} finding(s) block publication: {blocking[0].message}")
            failure.text = "\n".join(_line(f) for f in blocking)
        others = [f for f in found if not _blocking(f)]
        if others:
            ET.SubElement(case, "system-out").text = "\n".join(_line(f) for f in others)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


def junit_error(message: str, detail: dict[str, Any]) -> str:
    """The JUnit report of a run that could not judge the data (exit 2): one test case in error."""
    suites = ET.Element("testsuites", name="audit", tests="1", failures="0", errors="1")
    suite = ET.SubElement(suites, "testsuite", name="audit", tests="1", failures="0", errors="1", skipped="0")
    case = ET.SubElement(suite, "testcase", classname="audit", name="read the input")
    ET.SubElement(case, "error", type="input", message=message).text = "\n".join(
        f"{k}: {v}" for k, v in detail.items() if v is not None)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_error(message: str) -> str:
    """The GitHub annotation of a run that could not judge the data (exit 2)."""
    return f"::error title=audit::{_escape_data(message)}"


def report_github(report: Report, file: str | None = None) -> str:
    """GitHub Actions workflow commands: ::error for blocking findings, ::warning for warnings,
    ::notice for waived ones; attached to `file` (the release checked) when given, at the line of the finding's row
    where it is known (Finding.line)."""
    lines = []
    for f in report.findings:
        level = "notice" if f.waived else ("error" if f.severity == ERROR else "warning" if f.severity == WARNING
                                            else "notice")
        props = [f"title={_escape_property(f'audit {f.check} ({report.dataset})')}"]
        if file:
            props.insert(0, f"file={_escape_property(file)}" + (f",line={f.line}" if f.line is not None else ""))
        lines.append(f"::{level} {','.join(props)}::{_escape_data(_line(f))}")
    baseline = report.revisions.baseline if report.revisions is not None else None
    if baseline is not None and baseline.held is False:  # a CI reader must see the comparison proves little
        lines.append(f"::warning title={_escape_property('audit unsigned baseline')}::"
                     f"{_escape_data(str(baseline.vouched))}")
    summary = "passed" if report.success else f"failed: {count_rows(report.blocking):,} finding(s) block publication"
    lines.append(f"::notice title={_escape_property('audit ' + report.dataset)}::{_escape_data(summary)}")
    return "\n".join(lines)


def _suite(name: str, cases: list[tuple[str, str, list[str]]]) -> str:
    """A JUnit document of one suite: (class name, case name, failure messages; none when it passed)."""
    suite = ET.Element("testsuite", name=name, tests=str(len(cases)),
                       failures=str(sum(1 for *_, failed in cases if failed)))
    for classname, case_name, failures in cases:
        case = ET.SubElement(suite, "testcase", classname=classname, name=case_name)
        for message in failures:
            ET.SubElement(case, "failure", message=message[:500]).text = message
    return ET.tostring(ET.Element("testsuites"), encoding="unicode") if not cases else \
        '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode")


def diff_junit(result) -> str:
    """A test case per change between the two releases, failed when no revision note explains it."""
    cases = []
    for r in result.records:
        key = key_text(r["key"])
        name = f"{key} {r['column'] or r['change']}"
        failed = [] if r["note_id"] else [f"{name}: {r['old']!r} -> {r['new']!r} ({r['change']}), no revision note"]
        cases.append((f"audit diff {result.dataset}", name, failed))
    return _suite(f"audit diff {result.dataset} {result.from_release['version']} -> {result.to_release['version']}",
                  cases)


def diff_github(result) -> str:
    lines = []
    for r in result.records:
        if r["note_id"] is None:
            key = key_text(r["key"])
            message = f"{key} {r['column'] or ''}: {r['old']!r} -> {r['new']!r} ({r['change']}), no revision note"
            lines.append(f"::error title={_escape_property('audit diff ' + result.dataset)}::{_escape_data(message)}")
    unexplained = len(result.unexplained)
    summary = f"{len(result.records)} change(s), {unexplained} unexplained"
    lines.append(f"::notice title={_escape_property('audit diff ' + result.dataset)}::{_escape_data(summary)}")
    return "\n".join(lines)


def verification_junit(result) -> str:
    """A test case per dataset chain, per package, and one for the log file and the published folders."""
    cases = [("audit verify", f"log {c.walk.dataset}", c.problems) for c in result.logs]
    cases += [("audit verify", "log file and published folders",
               result.problems + result.publications + result.pending + result.failures)]
    cases += [("audit verify", f"package {p.dataset} {p.version} ({p.path})", p.problems) for p in result.packages]
    return _suite("audit verify", cases)


def verification_github(result) -> str:
    problems = [*(p for c in result.logs for p in c.problems), *result.problems, *result.publications, *result.pending,
                *result.failures,
                *(f"package {p.path}: {problem}" for p in result.packages for problem in p.problems)]
    lines = [f"::error title=audit verify::{_escape_data(p)}" for p in problems]
    caveats = [*(f"log {c.walk.dataset}: {caveat}" for c in result.logs for caveat in c.caveats),
               *(f"site: {caveat}" for caveat in result.site_caveats),
               *(f"package {p.path}: {caveat}" for p in result.packages for caveat in p.caveats)]
    lines += [f"::warning title=audit verify::not shown: {_escape_data(c)}" for c in caveats]
    lines.append(f"::notice title=audit verify::{'verified' if result.ok else 'NOT verified'}")
    return "\n".join(lines)
