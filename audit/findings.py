"""Findings and reports: the one vocabulary shared by checks, CLI, log and packages.

A finding is one thing wrong with one row (or the table): the check that found it,
the row's primary key, the columns involved, expected and observed values and a
plain-language message. Check codes are stable; `CHECKS` gives each a title.
"""

from __future__ import annotations

import functools
import string
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Iterator

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)

class Code(StrEnum):
    """The stable finding codes, each with its title (what a finding of it means, in a sentence: the site's
    glossary and the README's table give it) and its messages (`MESSAGES`, filled in by `say`). A code is its text
    ("category-sum") wherever it is compared, stored or written; code names it by member, never by a literal.
    Standard GX expectations that have no code here are reported under their own expectation type."""

    title_text: str

    def __new__(cls, value: str, title: str) -> "Code":
        member = str.__new__(cls, value)
        member._value_ = value
        member.title_text = title
        return member

    def say(self, form: str = "", **fields: Any) -> str:
        """This code's message (`MESSAGES`) in `form` ("" its usual one), its fields filled in."""
        return _FORMATTER.format(MESSAGES[self][form], **fields)

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
    NOTE_SCOPE = "note-scope", ("A revision note explains more changes than it expects, or a great many with no "
                                "expected count: it may explain more than was meant")
    SCHEMA_CHANGE = "schema-change", ("The release's columns are not the descriptor's: a column it does not describe, "
                                      "or a field it has no column for")
    RENAMED_COLUMN = "renamed-column", "A column has another name than the schema's; it was read as the field it resembles"
    FORMULA_INJECTION = "formula-injection", "A text cell starts with =, +, - or @, which a spreadsheet would run as a formula"
    FORMULA_NO_VALUE = "formula-no-value", "A spreadsheet formula has no saved value, so the cell was read as missing"
    NOT_RUN = "not-run", ("A check could not run on a release read where it lies (by Spark, from a URI), so it "
                          "checked nothing")


class _MessageFormatter(string.Formatter):
    """`str.format` plus `!n`: a figure as people read it (`number`), and `!m`: the same or "(missing)".

    Each template is parsed once: string.Formatter parses it again on every call, and a report of 200,000
    findings spent 5 s there. A template with a nested or dotted field is left to string.Formatter."""

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion == "n":
            return number(value)
        if conversion == "m":
            return shown(value)
        return super().convert_field(value, conversion)

    def format(self, template: str, /, *args: Any, **fields: Any) -> str:
        parts = _parsed(template)
        if args or parts is None:
            return super().format(template, *args, **fields)
        out = []
        for text, name, spec, conversion in parts:
            out.append(text)
            if name is not None:
                out.append(format(self.convert_field(fields[name], conversion), spec))
        return "".join(out)


@functools.lru_cache(maxsize=1024)
def _parsed(template: str) -> tuple[tuple[str, str | None, str, str | None], ...] | None:
    """(literal text, field name, format spec, conversion) of each part of `template`; None when a field is
    positional, dotted, indexed or nested in a spec, which only string.Formatter fills in."""
    parts = []
    for text, name, spec, conversion in string.Formatter().parse(template):
        if name is not None and (not name.isidentifier() or "{" in (spec or "")):
            return None
        parts.append((text, name, spec or "", conversion))
    return tuple(parts)


_FORMATTER = _MessageFormatter()

# What each finding says, by code and form: one place for the wording every report, page and package shows.
# Fields are the words and figures of one failing row; `!n` writes a figure as `number` does. Where two forms
# share a clause, the clause is a form of its own, filled in first.
_SINCE = "since the {kind} release {version}, and no revision note covers it"
MESSAGES: dict[Code, dict[str, str]] = {
    Code.CATEGORY_SUM: {
        "": "{total} is {observed!n} but {parts} sum to {expected!n} ({gap!n} unaccounted for)",
        "parts over": "{total} is {observed!n} but {parts} sum to {expected!n} ({gap!n} more in the parts than in "
                      "the total)",
        "total missing": "{total} is missing, but {parts} are all present and sum to {expected!n}",
    },
    Code.CATEGORY_SUM_INCOMPLETE: {
        "": "{missing} is missing, so whether {total} = {parts} holds is unknown (the known parts sum to "
            "{expected!n})",
        "several": "{missing} are missing, so whether {total} = {parts} holds is unknown (the known parts sum to "
                   "{expected!n})",
    },
    Code.RATE_MATH: {
        "": "{rate} is {observed!n} but {count} / {population} x {per:,g} is {expected} (allowed difference "
            "{allowed:.3g})",
        "no population": "{rate} is {observed!n} but {population} is 0: a rate of {count_value!n} over no one is "
                         "undefined, so the figure cannot be right",
    },
    Code.RATE_MISSING: {
        "": "{rate} is missing, but {count} and {population} are present: {count} / {population} x {per:,g} is "
            "{expected}",
    },
    Code.PERCENT_CHANGE: {
        "": "{column} is {observed!n} but {change} (allowed difference {allowed:.3g})",
        "missing": "{column} is missing, but {change}",
        "from zero": "{column} is {observed!n} but {went}: a change from zero is no percentage (it is undefined), "
                     "so the figure cannot be right; leave it blank or say 'new'",
        "change": "{went}, a change of {expected} percent",
        "went over period": "{of} went from {before} to {now!n}",
        "went against base": "{of} is {now!n} against {before}",
    },
    Code.NOT_NULL: {"": "{column} is missing, but every row must have it"},
    Code.UNIQUE: {"": "{key} occurs {observed} times, but a row's key must be unique"},
    Code.KEY_VARIANT: {
        "": "{count} keys differ only in case or spacing ({observed}): a reader sees one {columns}, the data has "
            "{count}",
    },
    Code.IN_RANGE: {"": "{column} is {observed!n}, but it must be {range}"},
    Code.IN_SET: {"": "{column} is {observed!r}, which is not one of the listed values ({listed})"},
    Code.PATTERN: {"": "{column} {observed!r} does not have the expected form ({regex})"},
    Code.SERIES_GAP: {
        "": "{place}no row for {expected} up to the period before {observed} (the series jumps from {previous} to "
            "{observed})",
    },
    Code.PARTIAL_YEAR: {
        "": "only {observed!n} of {full} {unit}: counts and rates in this row cover part of the period and are not "
            "comparable with full periods",
    },
    Code.YOY_OUTLIER: {
        "": "{place}{what} went from {before!n} in {previous_period} to {after!n} in {period}, {measure} changed "
            "{change}; a change this large is improbable if nothing changed (Poisson E-test p = {p_value:.2g}). "
            "Check the submission before publishing.",
    },
    Code.CLAIM: {
        "": "not supported: it states {stated} but the data give {computed}. \"{statement}\"",
        "rows missing": "not supported: the rows it names are not in the data. \"{statement}\"",
    },
    Code.FUTURE_DATE: {"": "{column} {observed} is in the future (checked at {now})"},
    Code.BEFORE_START: {"": "{column} {observed} is before {start}, the first date this dataset covers"},
    Code.OUT_OF_BOUNDS: {
        "": "({lat}, {lon}) is outside the dataset's area: latitude {south} to {north}, longitude {west} to {east}",
    },
    Code.UNMAPPED_CODE: {
        "": "{column} {observed!r} has no category in the descriptor, so this incident is counted in no category "
            "total",
    },
    Code.RECONCILIATION: {
        "": "{where}: the summary table ({summary}) gives {expected!n} for {figure}, but the incident data count "
            "{observed!n} ({categories})",
        "no figure": "{where}: the summary table ({summary}) has no figure for {figure}, but the incident data "
                     "count {observed!n} ({categories})",
        "unreadable period": "the summary table ({summary}) gives its period as {period!r}, which is no date or range "
                             "of dates written {format!r} (a range: 5/26-6/8, 5/26 thru 6/8): its figures were not "
                             "compared",
        "no overlap": "the incident data ({incident_periods}) and the summary table ({summary}, {summary_periods}) "
                      "share no {unit}, so nothing was compared: check the periods of both, and the "
                      "reconciliation's grain",
    },
    Code.TOTAL_MISMATCH: {
        "": "{where}{column} over {rows!n} rows sums to {observed!n}, but the total ({total}) is {expected!n} "
            "({gap!n} missing from the rows)",
        "rows over": "{where}{column} over {rows!n} rows sums to {observed!n}, but the total ({total}) is "
                     "{expected!n} ({gap!n} more in the rows)",
        "no total": "{where}{column} sums to {observed!n}, but there is no total to compare",
        "no rows": "{where}the total ({total}) is {expected!n}, but no rows add up to it",
    },
    Code.UNEXPLAINED_REVISION: {
        "": "{column} changed from {old!m} to {new!m} " + _SINCE,
        "row": "this row was {change} " + _SINCE,
        "relabelled": "this row's {column} was relabelled from {old!m} to {new!m}, every other value unchanged, "
                      + _SINCE,
        "column": "column {column!r} was {change} " + _SINCE,
    },
    Code.FORMAT_CHANGE: {
        "": "every value of {column} changed form ({old!r} became {new!r}, no value written as before): {touched}, "
            "one change of format rather than that many revisions, " + _SINCE,
    },
    Code.DOWNGRADE: {
        "": "{incidents!n} incident(s){where} were reclassified from {old} (violent) to {new} (not violent); none "
            "explained by a revision note",
        "all explained": "{incidents!n} incident(s){where} were reclassified from {old} (violent) to {new} (not "
                         "violent); all explained by a revision note",
        "some explained": "{incidents!n} incident(s){where} were reclassified from {old} (violent) to {new} (not "
                          "violent); {explained!n} explained by a revision note",
    },
    Code.NOTE_SCOPE: {
        "": "note {note!r} explains {observed!n} changes ({kinds}), {excess!n} more than the {expected!n} it expects: "
            "it may explain changes it was not written for; narrow its where, columns or changes",
        "no bound": "note {note!r} explains {observed!n} changes ({kinds}) and says how many it expects nowhere: "
                    "whether one note was meant to explain that many is not known; give it `expect`, or narrow its "
                    "where, columns or changes",
    },
    Code.SCHEMA_CHANGE: {
        "": "column {column!r} is not in the descriptor: it was read as {type} field {field!r} and kept with the "
                 "release; describe it (`audit init --update`) before publishing",
        "removed": "field {field!r} has no column in this release (looked for {names}){unchecked}; if it was "
                   "dropped, take it out of the descriptor (`audit init --update`)",
        "not run": ", so {count} check(s) that use it could not run: {checks}",
    },
    Code.RENAMED_COLUMN: {
        "": "no column is named {names}, but column {column!r} {how} and was read as field {field!r}; if it is the "
            "same column renamed, add `aliases: [{column}]` to the field in the descriptor (or waive this finding)",
    },
    Code.FORMULA_INJECTION: {
        "": "{column} {observed!r} starts like a spreadsheet formula; it is published with a leading ' so that a "
            "spreadsheet shows it as text",
    },
    Code.NOT_RUN: {
        "": "{check} could not run on this release, read where it lies by Spark: it {why}, and this machine holds none "
            "of the release's rows; it checked nothing. Check a copy the office holds to run it",
    },
    Code.FORMULA_NO_VALUE: {
        "": "row {row}, column {column!r}: a formula ({formula}) whose workbook holds no saved value was read as "
            "missing; open the workbook in a spreadsheet program and save it, so the value is stored",
    },
}
# Said of any check: its rows beyond the listed ones, and a standard GX expectation that failed.
# At most this many failing rows of one check are listed (each a finding); past it, one finding (NOT_LISTED)
# stands for the rest, its `observed` their count (`Finding.rows`).
MAX_FAILING_ROWS = 200_000
_NOT_LISTED_WORDS = " more row(s) fail this check and are not listed"
NOT_LISTED = ("{more!n}" + _NOT_LISTED_WORDS + ": at most {limit!n} failing rows of one check are listed, so that a "
              "check failing on millions of rows stays within memory")
STANDARD_FAILED = "{expectation} failed: expected {expected}, observed {observed!r}"
STANDARD_FAILED_ON = "{expectation} failed on {columns}: expected {expected}, observed {observed!r}"


def say(template: str, **fields: Any) -> str:
    """A message that belongs to no one code (`NOT_LISTED`, `STANDARD_FAILED`), its fields filled in."""
    return _FORMATTER.format(template, **fields)


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
SCHEMA_CHANGE = Code.SCHEMA_CHANGE
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


BLANK = "(blank)"


def key_text(key: dict[str, Any], table: str = "(table)") -> str:
    """A row's key as reports name it, `year=2013, state_abbr=AK`; a blank key part (national rows with no state
    code) is `(blank)`, never Python's None; a table-level key is `table`. A key of more than KEY_SHOWN parts (a
    table with no identifying column is matched by all its values) names its first ones and says how many more: the
    line stays readable, and the finding's key keeps every part."""
    parts = [f"{k}={BLANK if v is None else v}" for k, v in key.items()]
    more = f" and {len(parts) - KEY_SHOWN} more of the row's values" if len(parts) > KEY_SHOWN else ""
    return ", ".join(parts[:KEY_SHOWN]) + more or table


KEY_SHOWN = 6


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
    # The line of the text file its row was read from, when the check just read that file and is sure of it (not
    # kept in the log: a recorded finding is about the release, whichever file carried it).
    line: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "check", str(self.check))  # a Code is stored and written as its plain text

    def to_dict(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict: that deep-copies every value, and a report of 200,000 findings spent
        # 11 s in it. The values are plain (numbers, text, lists of them); the key and columns are copied.
        out = {"check": self.check, "severity": self.severity, "key": dict(self.key), "columns": list(self.columns),
               "expected": self.expected, "observed": self.observed, "message": self.message,
               "waived": self.waived, "waiver_reason": self.waiver_reason}
        if self.line is not None:
            out["line"] = self.line
        return out

    def describe_key(self) -> str:
        return key_text(self.key)

    @property
    def unlisted(self) -> bool:
        """Whether this finding stands for failing rows past MAX_FAILING_ROWS, counted but not listed."""
        return (not self.key and self.expected is None and type(self.observed) is int
                and _NOT_LISTED_WORDS in self.message)

    @property
    def rows(self) -> int:
        """How many failing rows this finding stands for: 1, or the count of those not listed."""
        return self.observed if self.unlisted else 1


def count_rows(findings: list[Finding]) -> int:
    """The failing rows `findings` stand for, those counted but not listed included: what a verdict counts."""
    return sum(f.rows for f in findings)


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
        return key_text(self.waiver.get("key") or {})

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
    subject: str | None = None      # what it checks when that is no column: a published claim's id

    def __post_init__(self) -> None:
        object.__setattr__(self, "check", str(self.check))

    @property
    def name(self) -> str:
        """How reports name it: the check, then its claim or its columns (`claim violent-down`, `in-range [age]`)."""
        columns = ", ".join(self.columns)
        return self.check + (f" {self.subject}" if self.subject else "") + (f" [{columns}]" if columns else "")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Outcome":
        return cls(str(data["expectation"]), str(data["check"]), list(data.get("columns") or []),
                   int(data["first_finding"]), int(data["finding_count"]), data.get("subject"))


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


@dataclass(frozen=True)
class Baseline:
    """The release a diff compared against: its label and log id, the digest and name of its file, and whether it
    was the last published release or only a recorded one (`--against recorded`). A baseline read from a published
    package (`check --baseline`) also says what vouches for that package: `vouched` is that sentence, and `held`
    whether it names the office's key (False: nothing ties the package to the office)."""

    version: str | None
    release_id: str | None
    sha256: str | None = None
    source: str | None = None
    kind: str | None = "published"
    vouched: str | None = None
    held: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Baseline":
        return cls(data.get("version"), data.get("release_id"), data.get("sha256"), data.get("source"),
                   data.get("kind"), data.get("vouched"), data.get("held"))


@dataclass(frozen=True)
class RevisionSummary:
    """What changed since the baseline, as a report gives it (audit.diff.Revisions.summary): how many changes of each
    kind (plus `explained` and `unexplained`), how the baseline's rows were matched, the columns whose every value
    changed form, the notes given and the offence reclassifications. The changes themselves are in the log."""

    baseline: Baseline
    counts: dict[str, int]
    matching: dict[str, int] = field(default_factory=dict)
    format_changes: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    reclassifications: list[dict[str, Any]] = field(default_factory=list)

    @property
    def kinds(self) -> dict[str, int]:
        """The counts of each kind of change found (changed, added, ...), without the explained/unexplained tally."""
        return {k: n for k, n in self.counts.items() if k not in ("explained", "unexplained") and n}

    @property
    def unexplained(self) -> int:
        return int(self.counts.get("unexplained", 0))

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline.to_dict(), "counts": self.counts, "matching": self.matching,
                "format_changes": self.format_changes, "notes": self.notes,
                "reclassifications": self.reclassifications}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RevisionSummary":
        return cls(Baseline.from_dict(data.get("baseline") or {}), dict(data.get("counts") or {}),
                   dict(data.get("matching") or {}), list(data.get("format_changes") or []),
                   list(data.get("notes") or []), list(data.get("reclassifications") or []))


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
    # What changed since the last published release; None without one.
    revisions: RevisionSummary | None = None
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
    def unrun(self) -> list[Finding]:
        """The blocking findings that say a check could not run (`not-run`): about the tool's reach, not the data."""
        return [f for f in self.blocking if f.check == Code.NOT_RUN]

    @property
    def only_unrun(self) -> bool:
        """Blocked by checks that could not run and by nothing in the data: the tool could not do its whole job, so
        the exit code is 2, not the 1 of findings in the data."""
        return bool(self.blocking) and len(self.unrun) == len(self.blocking)

    @property
    def unused_waivers(self) -> list[WaiverUse]:
        return [w for w in self.waivers if not w.covered]

    def to_json(self) -> str:
        """The report as JSON (`to_dict`), each finding on a line of its own (`json_pieces`)."""
        return "".join(self.json_pieces())

    def json_pieces(self) -> Iterator[str]:
        """`to_json` in pieces, in order: the report's other parts, then one finding at a time, so that a report of
        hundreds of thousands of findings is written as it is encoded, never held whole as one text (nor every
        finding as a dict). Each finding is a line of its own: json's C encoder writes a compact line where an
        indented document is encoded in Python, several times slower; a reader can also take them line by line."""
        import json

        text = json.dumps(self.to_dict(findings=False), indent=2, ensure_ascii=False)
        if not self.findings:
            yield text
            return
        # At this indentation only the top-level key can stand: a string's own newlines are escaped in JSON.
        head, tail = text.split('\n  "findings": [],', 1)
        yield head + '\n  "findings": [\n    '
        separator = ""
        for finding in self.findings:
            yield separator + json.dumps(finding.to_dict(), ensure_ascii=False)
            separator = ",\n    "
        yield "\n  ]," + tail

    def to_dict(self, findings: bool = True) -> dict[str, Any]:
        """The report as plain data; without `findings`, its findings' list left empty (json_pieces writes them)."""
        return {
            "success": self.success,
            "dataset": self.dataset,
            "release": self.release.to_dict(),
            "findings": [f.to_dict() for f in self.findings] if findings else [],
            "waivers": [w.to_dict() for w in self.waivers],
            "unused_waivers": [w.to_dict() for w in self.unused_waivers],
            "claims": [c.to_dict() for c in self.claims],
            "revisions": self.revisions.to_dict() if self.revisions is not None else None,
            "expectations": [o.to_dict() for o in self.expectations],
            "normalisations": self.normalisations,
        }
