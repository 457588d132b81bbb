"""Reports for CI systems: JUnit XML (which every CI displays) and GitHub Actions annotations.

Both are renderings of the same Report: one JUnit test case per expectation run,
failed when it has findings that block publication (errors, not waived); warnings
and waived findings are listed in the test case's output, not failures.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from audit.findings import ERROR, WARNING, Finding, Report


def _line(f: Finding) -> str:
    state = f"waived: {f.waiver_reason}" if f.waived else f.severity
    return f"{f.describe_key()}: {f.message} (expected {f.expected!r}, observed {f.observed!r}; {state})"


def _blocking(f: Finding) -> bool:
    return f.severity == ERROR and not f.waived


def report_junit(report: Report) -> str:
    cases = []
    for outcome in report.expectations:
        found = report.findings_of(outcome)
        columns = ", ".join(outcome["columns"])
        cases.append((f"{outcome['check']}" + (f" [{columns}]" if columns else ""), outcome["check"], found))
    failures = sum(1 for _, _, found in cases if any(_blocking(f) for f in found))
    suites = ET.Element("testsuites", name="audit", tests=str(len(cases)), failures=str(failures), errors="0")
    suite = ET.SubElement(suites, "testsuite", name=f"audit {report.dataset}", tests=str(len(cases)),
                          failures=str(failures), errors="0", skipped="0")
    properties = ET.SubElement(suite, "properties")
    for name, value in report.release.items():
        if value is not None and not isinstance(value, dict):
            ET.SubElement(properties, "property", name=f"release.{name}", value=str(value))
    for name, check, found in cases:
        case = ET.SubElement(suite, "testcase", classname=f"audit.{report.dataset}", name=name)
        blocking = [f for f in found if _blocking(f)]
        if blocking:
            failure = ET.SubElement(case, "failure", type=check,
                                    message=f"{len(blocking)} finding(s) block publication: {blocking[0].message}")
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
    ::notice for waived ones; attached to `file` (the release checked) when given."""
    lines = []
    for f in report.findings:
        level = "notice" if f.waived else ("error" if f.severity == ERROR else "warning" if f.severity == WARNING
                                            else "notice")
        props = [f"title={_escape_property(f'audit {f.check} ({report.dataset})')}"]
        if file:
            props.insert(0, f"file={_escape_property(file)}")
        lines.append(f"::{level} {','.join(props)}::{_escape_data(_line(f))}")
    summary = "passed" if report.success else f"failed: {len(report.blocking)} finding(s) block publication"
    lines.append(f"::notice title={_escape_property('audit ' + report.dataset)}::{_escape_data(summary)}")
    return "\n".join(lines)
