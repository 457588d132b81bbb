"""Findings and reports: the one vocabulary shared by checks, CLI, log and packages.

A finding is one thing wrong with one row (or the table): the check that found it,
the row's primary key, the columns involved, expected and observed values and a
plain-language message. Check codes are stable; `CHECKS` gives each a title.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)

class Code(StrEnum):
    """The stable finding codes, each with its title: what a finding of it means, in a sentence (the site's glossary
    and the README's table give it). A code is its text ("category-sum") wherever it is compared, stored or
    written; code names it by member, never by a literal. Standard GX expectations that have no code here are
    reported under their own expectation type."""

    title_text: str

    def __new__(cls, value: str, title: str) -> "Code":
        member = str.__new__(cls, value)
        member._value_ = value
        member.title_text = title
        return member

    CATEGORY_SUM = "category-sum", "A total does not equal the sum of its parts"
    RATE_MATH = "rate-math", "A rate does not equal count / population x per"
    RATE_MISSING = "rate-missing", "A rate is blank though its count and population are present"
    PERCENT_CHANGE = "percent-change", "A percent change does not equal the change from the previous period"
    NOT_NULL = "not-null", "A required value is missing"
    UNIQUE = "unique", "A key value occurs more than once"
    KEY_VARIANT = "key-variant", "Key values differ only in case or spacing: one place or code written two ways"
    IN_RANGE = "in-range", "A value is outside its allowed range"
    IN_SET = "in-set", "A value is not in the allowed list"
    PATTERN = "pattern", "A value does not have the expected form (a regular expression)"
    CATEGORY_SUM_INCOMPLETE = "category-sum-incomplete", "A part or total is missing, so the sum cannot be checked"
    SERIES_GAP = "series-gap", "A period is missing from a place's series"
    PARTIAL_YEAR = "partial-year", "A row covers fewer months than a full period"
    YOY_OUTLIER = "yoy-outlier", "A change from the previous period is large and improbable"
    CLAIM = "claim", "A published statement is not supported by the data"
    FUTURE_DATE = "future-date", "An incident is dated in the future"
    BEFORE_START = "before-start", "An incident is dated before the dataset's declared start"
    OUT_OF_BOUNDS = "out-of-bounds", "An incident's coordinates lie outside the dataset's area"
    UNMAPPED_CODE = "unmapped-code", "An offence code has no category"
    RECONCILIATION = "reconciliation", "Incident counts differ from the summary table"
    TOTAL_MISMATCH = "total-mismatch", ("Rows do not add up to the total they should (neighbourhoods to the city, "
                                        "one table to another)")
    UNEXPLAINED_REVISION = "unexplained-revision", ("A published value changed, or a row was added or removed, and no "
                                                    "revision note explains it")
    FORMAT_CHANGE = "format-change", ("Every value of a column changed form since the baseline (a time, date or code "
                                      "written another way)")
    DOWNGRADE = "downgrade", "Incidents were reclassified from a violent offence category to a non-violent one"
    RENAMED_COLUMN = "renamed-column", "A column has another name than the schema's; it was read as the field it resembles"
    FORMULA_INJECTION = "formula-injection", "A text cell starts with =, +, - or @, which a spreadsheet would run as a formula"
    FORMULA_NO_VALUE = "formula-no-value", "A spreadsheet formula has no saved value, so the cell was read as missing"


# Each code's title, by its text (the glossary, the README's table and waivers look codes up here).
CHECKS: dict[str, str] = {code.value: code.title_text for code in Code}


# The finding code of each standard GX expectation a crime data office uses most (others are reported under
# their own type name). Codes of our own expectations are their classes' `check` (audit.validate.expectations);
# every code any of them uses is a Code, and the README's table lists exactly the Codes (tests/test_docs.py).
STANDARD_CHECKS = {
    "expect_column_values_to_not_be_null": Code.NOT_NULL,
    "expect_column_values_to_be_unique": Code.UNIQUE,
    "expect_compound_columns_to_be_unique": Code.UNIQUE,
    "expect_select_column_values_to_be_unique_within_record": Code.UNIQUE,
    "expect_column_values_to_be_between": Code.IN_RANGE,
    "expect_column_values_to_be_in_set": Code.IN_SET,
    "expect_column_values_to_match_regex": Code.PATTERN,
}
# Codes of what reading a file finds about its columns, before any expectation runs.
RENAMED_COLUMN = Code.RENAMED_COLUMN
FORMULA_NO_VALUE = Code.FORMULA_NO_VALUE


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "check", str(self.check))  # a Code is stored and written as its plain text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe_key(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.key.items()) or "(table)"


@dataclass
class ReleaseInfo:
    """The release a report is about: its label (None for a file only checked), the digest and name of the file
    it was read from, and its rows; which engine ran what, and the summary it was reconciled with, where so."""

    version: str | None
    sha256: str
    source: str
    rows: int
    reconciled_with: dict[str, Any] | None = None
    engines: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        found = {"version": self.version, "sha256": self.sha256, "source": self.source, "rows": self.rows}
        extra = {"reconciled_with": self.reconciled_with, "engines": self.engines}
        return {**found, **{k: v for k, v in extra.items() if v is not None}}


@dataclass(frozen=True)
class WaiverUse:
    """One waiver the office gave (as its file writes it) and how many findings it covered: none, and it may be
    stale."""

    waiver: dict[str, Any]
    covered: int

    @property
    def check(self) -> str:
        return str(self.waiver.get("check"))

    @property
    def scope(self) -> str:
        """Which findings it is for, in words: every finding of its check, or the key it names."""
        if self.waiver.get("all"):
            return "every finding"
        return ", ".join(f"{k}={v}" for k, v in (self.waiver.get("key") or {}).items()) or "(table)"

    def to_dict(self) -> dict[str, Any]:
        return {**self.waiver, "covered": self.covered}


@dataclass(frozen=True)
class Outcome:
    """One expectation run on a release, passed or not: what it checks, on which columns, and which of the report's
    findings are its (`finding_count` of them from `first_finding`), for reports that list every check (JUnit,
    HTML)."""

    expectation: str
    check: str
    columns: list[str]
    first_finding: int
    finding_count: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "check", str(self.check))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Outcome":
        return cls(str(data["expectation"]), str(data["check"]), list(data.get("columns") or []),
                   int(data["first_finding"]), int(data["finding_count"]))


@dataclass(frozen=True)
class ClaimResult:
    """One published claim recomputed from a release: what it states, what the data give (None: the rows it names
    are not there), and whether that is within its tolerance."""

    id: str
    statement: str
    source: str | None
    stated: float
    computed: float | None
    tolerance: float
    supported: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ClaimResult":
        return cls(str(data["id"]), str(data["statement"]), data.get("source"), data["stated"], data.get("computed"),
                   data["tolerance"], bool(data["supported"]))


@dataclass
class Report:
    """Everything one validation found. `success` ignores waived findings and warnings."""

    dataset: str
    release: ReleaseInfo
    findings: list[Finding] = field(default_factory=list)
    # Every waiver given, with the number of findings it covered (0: it may be stale).
    waivers: list[WaiverUse] = field(default_factory=list)
    # Every published claim checked, supported or not.
    claims: list[ClaimResult] = field(default_factory=list)
    # What changed since the last published release (see audit.diff.Revisions.summary); None without one.
    revisions: dict[str, Any] | None = None
    # Every expectation run, passed or not (see audit.validate.translate.findings_from_results).
    expectations: list[Outcome] = field(default_factory=list)
    # What was fixed in the file to read it (see audit.ingest.normalise), as dicts.
    normalisations: list[dict[str, Any]] = field(default_factory=list)

    def findings_of(self, outcome: Outcome) -> list[Finding]:
        """The findings one expectation produced."""
        return self.findings[outcome.first_finding:outcome.first_finding + outcome.finding_count]

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
    def unused_waivers(self) -> list[WaiverUse]:
        return [w for w in self.waivers if not w.covered]

    def to_dict(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "dataset": self.dataset,
            "release": self.release.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
            "waivers": [w.to_dict() for w in self.waivers],
            "unused_waivers": [w.to_dict() for w in self.unused_waivers],
            "claims": [c.to_dict() for c in self.claims],
            "revisions": self.revisions,
            "expectations": [o.to_dict() for o in self.expectations],
            "normalisations": self.normalisations,
        }
