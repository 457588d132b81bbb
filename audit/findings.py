"""Findings and reports: the one vocabulary shared by checks, CLI, log and packages.

A finding is one thing wrong with one row (or the table): the check that found it,
the row's primary key, the columns involved, expected and observed values and a
plain-language message. Check codes are stable; `CHECKS` gives each a title.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)

# Stable finding codes with a title each. Standard GX expectations that have no
# code here are reported under their own expectation type.
CHECKS: dict[str, str] = {
    "category-sum": "A total does not equal the sum of its parts",
    "rate-math": "A rate does not equal count / population x per",
    "rate-missing": "A rate is blank though its count and population are present",
    "percent-change": "A percent change does not equal the change from the previous period",
    "not-null": "A required value is missing",
    "unique": "A key value occurs more than once",
    "key-variant": "Key values differ only in case or spacing: one place or code written two ways",
    "in-range": "A value is outside its allowed range",
    "in-set": "A value is not in the allowed list",
    "pattern": "A value does not have the expected form (a regular expression)",
    "category-sum-incomplete": "A part or total is missing, so the sum cannot be checked",
    "series-gap": "A period is missing from a place's series",
    "partial-year": "A row covers fewer months than a full period",
    "yoy-outlier": "A change from the previous period is large and improbable",
    "claim": "A published statement is not supported by the data",
    "future-date": "An incident is dated in the future",
    "before-start": "An incident is dated before the dataset's declared start",
    "out-of-bounds": "An incident's coordinates lie outside the dataset's area",
    "unmapped-code": "An offence code has no category",
    "reconciliation": "Incident counts differ from the summary table",
    "total-mismatch": "Rows do not add up to the total they should (neighbourhoods to the city, one table to another)",
    "unexplained-revision": "A published value changed, or a row was added or removed, and no revision note explains it",
    "format-change": "Every value of a column changed form since the baseline (a time, date or code written another way)",
    "downgrade": "Incidents were reclassified from a violent offence category to a non-violent one",
    "renamed-column": "A column has another name than the schema's; it was read as the field it resembles",
    "formula-injection": "A text cell starts with =, +, - or @, which a spreadsheet would run as a formula",
    "formula-no-value": "A spreadsheet formula has no saved value, so the cell was read as missing",
}


# The finding code of each standard GX expectation a crime data office uses most (others are reported under
# their own type name). Codes of our own expectations are their classes' `check` (audit.validate.expectations);
# every code any of them uses is in CHECKS, and the README's table lists exactly CHECKS (tests/test_docs.py).
STANDARD_CHECKS = {
    "expect_column_values_to_not_be_null": "not-null",
    "expect_column_values_to_be_unique": "unique",
    "expect_compound_columns_to_be_unique": "unique",
    "expect_select_column_values_to_be_unique_within_record": "unique",
    "expect_column_values_to_be_between": "in-range",
    "expect_column_values_to_be_in_set": "in-set",
    "expect_column_values_to_match_regex": "pattern",
}
# Codes of what reading a file finds about its columns, before any expectation runs.
RENAMED_COLUMN = "renamed-column"
FORMULA_NO_VALUE = "formula-no-value"


def number(value: Any) -> str:
    """A figure as people read it in a report: 12,430 or 1,870.46."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.6g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)


def shown(value: Any) -> str:
    """A figure as `number` writes it, or "(missing)"."""
    return "(missing)" if value is None else number(value)


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str
    key: dict[str, Any]
    columns: list[str]
    expected: Any
    observed: Any
    message: str
    waived: bool = False
    waiver_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe_key(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.key.items()) or "(table)"


@dataclass
class Report:
    """Everything one validation found. `success` ignores waived findings and warnings."""

    dataset: str
    release: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)
    # Every waiver given, with the number of findings it `covered` (0: it may be stale).
    waivers: list[dict[str, Any]] = field(default_factory=list)
    # Every published claim checked: id, statement, source, stated, computed, tolerance, supported.
    claims: list[dict[str, Any]] = field(default_factory=list)
    # What changed since the last published release (see audit.diff.Revisions.summary); None without one.
    revisions: dict[str, Any] | None = None
    # Every expectation run, passed or not (see audit.validate.translate.findings_from_results).
    expectations: list[dict[str, Any]] = field(default_factory=list)
    # What was fixed in the file to read it (see audit.ingest.normalise), as dicts.
    normalisations: list[dict[str, Any]] = field(default_factory=list)

    def findings_of(self, outcome: dict[str, Any]) -> list[Finding]:
        """The findings one expectation produced."""
        return self.findings[outcome["first_finding"]:outcome["first_finding"] + outcome["finding_count"]]

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR and not f.waived]

    @property
    def waived(self) -> list[Finding]:
        return [f for f in self.findings if f.waived]

    @property
    def warnings(self) -> list[Finding]:
        """The findings that are neither waived nor blocking (warnings and notes)."""
        return [f for f in self.findings if not f.waived and f.severity != ERROR]

    @property
    def success(self) -> bool:
        return not self.blocking

    @property
    def unused_waivers(self) -> list[dict[str, Any]]:
        return [w for w in self.waivers if not w.get("covered")]

    def to_dict(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "dataset": self.dataset,
            "release": self.release,
            "findings": [f.to_dict() for f in self.findings],
            "waivers": self.waivers,
            "unused_waivers": self.unused_waivers,
            "claims": self.claims,
            "revisions": self.revisions,
            "expectations": self.expectations,
            "normalisations": self.normalisations,
        }
