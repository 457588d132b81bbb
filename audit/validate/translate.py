"""Turn Great Expectations results into findings: one per failing row, with key and figures.

GX's COMPLETE result format still caps the rows it lists for SQL data; when it
does, the result carries `unexpected_index_query`, which we run ourselves so
that every failing row is reported.
"""

from __future__ import annotations

import decimal
import re
from typing import Any, Callable

import duckdb

from audit.findings import (
    ERROR,
    INFO,
    NOT_LISTED,
    STANDARD_CHECKS,
    STANDARD_FAILED,
    STANDARD_FAILED_ON,
    WARNING,
    ClaimResult,
    Finding,
    Outcome,
    say,
)
from audit.validate.expectations import RowCheckExpectation
from audit.validate.expectations.base import domain_columns

SEVERITY = {"critical": ERROR, "warning": WARNING, "info": INFO}

DOMAIN_KWARGS = {"column", "column_list", "batch_id", "row_condition", "condition_parser", "result_format"}


def plain(value: Any) -> Any:
    """A JSON-friendly scalar: whole floats as ints, numpy/decimal types as Python ones."""
    if value is None or type(value) in (int, str, bool):  # most cells, and called on every cell of failing rows
        return value
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


def findings_from_results(
    con: duckdb.DuckDBPyConnection, results: list, key_columns: list[str], label: Callable[[str], str] = str
) -> tuple[list[Finding], list[ClaimResult], list[Outcome]]:
    """(findings, claims, outcomes): one finding per failing row; every claim checked, supported or not;
    and one outcome per expectation run, passed or not, naming its findings by position
    (`first_finding`, `finding_count`), for reports that list every check (JUnit, HTML)."""
    findings: list[Finding] = []
    claims: list[ClaimResult] = []
    outcomes: list[Outcome] = []
    for result in results:
        _require_ran(result)
        details = (result.result or {}).get("details") or {}
        if "claim" in details:
            claims.append(ClaimResult.from_dict({k: plain(v) for k, v in details["claim"].items()}))
        expectation = result.expectation_config.to_domain_obj()
        first = len(findings)
        if not result.success:
            severity = SEVERITY.get(str(getattr(expectation, "severity", "critical")).split(".")[-1].lower(), ERROR)
            if isinstance(expectation, RowCheckExpectation):
                findings += _row_check_findings(expectation, result, key_columns, severity, label)
            else:
                findings += _standard_findings(con, expectation, result, key_columns, severity)
        outcomes.append(_outcome(expectation, first, len(findings) - first))
    return findings, claims, outcomes


def _require_ran(result) -> None:
    """A ConfigError naming the entry whose expectation raised instead of running (a regex the engine cannot
    compile, a bound of the wrong type for its column): GX records the failure as an unsuccessful result, which
    read as a finding would be a crash reported as a verdict about the data."""
    from audit.errors import ConfigError
    from audit.validate.suite import origin_of

    info = result.exception_info or {}
    raised = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    failed = next((i for i in raised if i.get("raised_exception")), None)
    if failed is not None:
        config = result.expectation_config
        message = str(failed.get("exception_message") or "no result")
        # The engine's own words, without SQLAlchemy's wrapping, the SQL and the caret lines under it.
        reason = message.split("[SQL:")[0].split("\nLINE ")[0]
        reason = " ".join(re.sub(r"^\(\S+\) ", "", reason.strip()).split())[:500]
        raise ConfigError(f"{origin_of(config)} ({config.type}) could not run on this release: {reason}")


def _outcome(expectation, first: int, count: int) -> Outcome:
    etype = expectation.expectation_type
    if isinstance(expectation, RowCheckExpectation):
        check, columns = expectation.check, expectation.read_columns()
    else:
        check, columns = STANDARD_CHECKS.get(etype, etype), domain_columns(expectation.configuration.kwargs)
    # A published claim is named by its id: "claim" alone does not say which of the office's statements failed.
    return Outcome(etype, check, columns, first, count, getattr(expectation, "claim_id", None))


def _row_check_findings(expectation, result, key_columns: list[str], severity: str, label) -> list[Finding]:
    if "details" not in (result.result or {}):
        # Our expectation gave no result and no exception (_require_ran): the tool failing, never a finding.
        raise RuntimeError(f"{expectation.expectation_type} gave no result")
    out = []
    # Asked once: GX builds an expectation's configuration afresh on every access (about 80 µs).
    read = expectation.read_columns()
    for raw in result.result["details"]["failing_rows"]:
        row = {k: plain(v) if not isinstance(v, (list, tuple)) else [plain(x) for x in v] for k, v in raw.items()}
        for name in ("__expected", "__observed"):
            figure = row[name]
            if isinstance(figure, float):
                row[name] = round(figure, 6)
        check = str(row.get("__check") or expectation.check)
        out.append(
            Finding(
                check=check,
                severity=expectation.row_checks.get(check, severity),
                key=expectation.finding_key(row, key_columns),
                columns=[str(row["__column"])] if row.get("__column") else list(read),
                expected=row["__expected"],
                observed=row["__observed"],
                message=expectation.explain(row, label),
            )
        )
    # Said, never dropped: the verdict and the counts include them, each code at its own severity.
    from audit.validate.expectations.base import MAX_FAILING_ROWS  # the limit the query ran with

    for code, more in (result.result["details"].get("not_listed") or {}).items():
        out.append(Finding(
            check=code, severity=expectation.row_checks.get(code, severity), key={}, columns=list(read),
            expected=None, observed=more,
            message=say(NOT_LISTED, more=more, limit=MAX_FAILING_ROWS)))
    return out


def _standard_findings(con, expectation, result, key_columns: list[str], severity: str) -> list[Finding]:
    etype = expectation.expectation_type
    check = STANDARD_CHECKS.get(etype, etype)
    kwargs = expectation.configuration.kwargs
    expected = {k: plain(v) for k, v in kwargs.items() if k not in DOMAIN_KWARGS} or etype
    columns = domain_columns(kwargs)
    details = result.result or {}
    if "unexpected_index_list" not in details:
        # An aggregate expectation (row count, column mean, ...): one finding for the table.
        observed = plain(details.get("observed_value"))
        return [
            Finding(check, severity, {}, columns, expected, observed,
                    say(STANDARD_FAILED, expectation=etype, expected=expected, observed=observed))
        ]
    rows = details.get("unexpected_index_list") or []
    if details.get("unexpected_count", 0) > len(rows) and details.get("unexpected_index_query"):
        cursor = con.execute(details["unexpected_index_query"])
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r)) for r in cursor.fetchall()]
    out = []
    for row in rows:
        observed = {c: plain(row.get(c)) for c in columns if c in row and c not in key_columns}
        if len(observed) == 1:
            observed = next(iter(observed.values()))
        out.append(
            Finding(
                check=check,
                severity=severity,
                key={k: plain(row.get(k)) for k in key_columns},
                columns=columns,
                expected=expected,
                observed=observed,
                message=say(STANDARD_FAILED_ON, expectation=etype, columns=", ".join(columns), expected=expected,
                            observed=observed),
            )
        )
    return out
