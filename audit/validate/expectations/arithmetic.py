"""Arithmetic a crime table states about itself: totals of parts, and rates.

A hierarchy (violent = homicide + rape + robbery + aggravated assault; property =
burglary + larceny-theft + motor vehicle theft; Part I = violent + property) is
one sum expectation per level: a level's parts may be totals of the level below.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional, Tuple

from audit.findings import ERROR, WARNING, Code, number
from audit.sql import ident
from audit.validate.expectations.base import Label, RowCheckExpectation, decimals_sql

INCOMPLETE = Code.CATEGORY_SUM_INCOMPLETE
RATE_MISSING = Code.RATE_MISSING


def precision_sql(value_sql: str, decimals: int | None, tolerance: float | None) -> str:
    """SQL for how far a published figure may be from the exact one by its rounding alone: `tolerance`, or half a
    unit of `decimals`, or half a unit of the larger of the value's own decimals and `__usual_decimals` (the
    column's commonest precision, which the query computes over the batch)."""
    if tolerance is not None:
        return repr(float(tolerance))
    if decimals is not None:
        return repr(0.5 * 10 ** (-decimals))
    return f"coalesce(0.5 * 10 ** (-greatest({decimals_sql(value_sql)}, __usual_decimals)), 0.0)"


class ExpectColumnValuesToEqualSumOfColumns(RowCheckExpectation):
    """`column` equals the sum of `parts` in every row.

    A row where a part is missing (NA) cannot be checked: its sum is unknown, not wrong,
    and is reported as a `category-sum-incomplete` warning. A blank total whose parts are
    all present is a `category-sum` error: the total could have been published and was not.
    A row where every one of them is missing has nothing to compare and is skipped.
    """

    column: str
    parts: list[str]
    success_keys: ClassVar[Tuple[str, ...]] = ("column", "parts")
    check: ClassVar[str] = Code.CATEGORY_SUM
    row_checks: ClassVar[dict[str, str]] = {INCOMPLETE: WARNING}

    def read_columns(self) -> list[str]:
        return list(dict.fromkeys([self.column, *self.parts]))

    def _cells(self) -> tuple[list[str], str]:
        cells = [ident(c) for c in (self.column, *self.parts)]
        return cells, " + ".join(f"coalesce({p}, 0)" for p in cells[1:])

    def failing_rows_query(self) -> str:
        cells, known_sum = self._cells()
        part_missing = " OR ".join(f"{c} IS NULL" for c in cells[1:])
        return self.rows_failing(
            f"({known_sum}) AS __expected, {cells[0]} AS __observed, "
            f"CASE WHEN {part_missing} THEN '{INCOMPLETE}' ELSE '{self.check}' END AS __check, "
            f"[{', '.join(f'{p} IS NULL' for p in cells[1:])}] AS __missing")

    def explain(self, row: dict[str, Any], label: Label) -> str:
        said = {"total": label(self.column), "parts": " + ".join(label(p) for p in self.parts),
                "expected": row["__expected"], "observed": row["__observed"]}
        if row.get("__check") == INCOMPLETE:
            missing = [label(p) for p, gone in zip(self.parts, row["__missing"]) if gone]
            if said["observed"] is None:
                missing.insert(0, label(self.column))
            return INCOMPLETE.say("" if len(missing) == 1 else "several", missing=" and ".join(missing), **said)
        if said["observed"] is None:
            return Code.CATEGORY_SUM.say("total missing", **said)
        gap = said["observed"] - said["expected"]
        return Code.CATEGORY_SUM.say("" if gap > 0 else "parts over", gap=abs(gap), **said)


class ExpectColumnValuesToEqualRate(RowCheckExpectation):
    """`column` equals `count` / `population` x `per` at the precision it is published at.

    A rate given to 1 decimal may differ from the exact rate by half a unit of that decimal
    (0.05). By default a value's precision is the larger of its own decimals and the decimals
    the column is usually published at, so 704.0 (read back as 704) in a column of one-decimal
    rates is allowed 0.05, not 0.5; a rate given in full must agree to a relative 1e-9.
    `decimals` pins the published precision for every row; `tolerance` sets an absolute
    tolerance instead. A blank rate whose count and population are both present is a finding
    (`rate-missing`): the rate could have been computed and was not published.
    """

    column: str
    count: str
    population: str
    per: float = 100_000
    decimals: Optional[int] = None
    tolerance: Optional[float] = None
    success_keys: ClassVar[Tuple[str, ...]] = ("column", "count", "population", "per", "decimals", "tolerance")
    check: ClassVar[str] = Code.RATE_MATH
    row_checks: ClassVar[dict[str, str]] = {RATE_MISSING: ERROR}

    def read_columns(self) -> list[str]:
        return [self.column, self.count, self.population]

    def exact_sql(self) -> str:
        """SQL for the exact rate, count / population x per."""
        return f"({ident(self.count)}::DOUBLE / NULLIF({ident(self.population)}, 0) * {float(self.per)!r})"

    def allowed_sql(self) -> str:
        """SQL for how far the published rate may be from the exact one (the precision rule)."""
        published = precision_sql(ident(self.column), self.decimals, self.tolerance)
        # The relative 1e-9 absorbs floating-point noise on top of the published rounding.
        return f"({published} + 1e-9 * abs({self.exact_sql()}))"

    def failing_rows_query(self) -> str:
        exact, allowed, rate = self.exact_sql(), self.allowed_sql(), ident(self.column)
        return (
            f"WITH b AS (SELECT *, mode({decimals_sql(rate)}) OVER () AS __usual_decimals FROM {{batch}}) "
            f"SELECT * EXCLUDE (__usual_decimals), {exact} AS __expected, {rate} AS __observed, {allowed} AS __allowed, "
            f"CASE WHEN {rate} IS NULL THEN '{RATE_MISSING}' ELSE '{self.check}' END AS __check "
            f"FROM b WHERE abs({rate} - {exact}) > {allowed} OR ({rate} IS NULL AND {exact} IS NOT NULL) "
            # Over no one a rate is undefined: a figure printed for a count over a population of 0 was made up.
            f"OR ({ident(self.population)} = 0 AND {ident(self.count)} <> 0 AND {rate} IS NOT NULL)"
        )

    def explain(self, row: dict[str, Any], label: Label) -> str:
        expected = row["__expected"]
        said = {"rate": label(self.column), "count": label(self.count), "population": label(self.population),
                "observed": row["__observed"], "per": self.per}
        if expected is None:
            return Code.RATE_MATH.say("no population", count_value=row.get(self.count), **said)
        shown = f"{expected:,.{self.decimals}f}" if self.decimals is not None else f"{expected:,.6f}".rstrip("0")
        if row.get("__check") == RATE_MISSING:
            return RATE_MISSING.say(expected=shown, **said)
        return Code.RATE_MATH.say(expected=shown, allowed=row["__allowed"], **said)


class ExpectColumnValuesToEqualPercentChange(RowCheckExpectation):
    """`column` equals the percent change of `of` from its previous value: (x - x_before) / x_before x 100, at the
    precision it is published at (as for rates: `decimals`, `tolerance`, or read from the values).

    The previous value is either `of` in the previous period of the same place (`period`, and the place's
    `group_by` columns: rows are ordered by period, never by their place in the file), or another column of the
    same row (`base`: a zip-code table's 2022 count beside its 2023 count). A row with no previous value is not
    checked. From 0 the change is undefined: a figure printed for a change from 0 to anything else is a finding
    (from 0 to 0, a 0 or a blank is let be). A blank change where both values are present is a finding.
    With `per` (a population), the change is of `of` / `per`: the change of a rate worked out from its count and
    population, as a state computes it, rather than from the rate as published (rounded).
    """

    column: str
    of: str
    period: Optional[str] = None
    group_by: list[str] = []
    base: Optional[str] = None
    per: Optional[str] = None
    decimals: Optional[int] = None
    tolerance: Optional[float] = None
    success_keys: ClassVar[Tuple[str, ...]] = ("column", "of", "period", "group_by", "base", "per", "decimals",
                                               "tolerance")
    check: ClassVar[str] = Code.PERCENT_CHANGE
    # A rate worked out from a count and its population is shown per this many people in messages.
    SHOWN_PER: ClassVar[int] = 100_000

    def read_columns(self) -> list[str]:
        if (self.period is None) == (self.base is None):
            raise ValueError("a percent change names either `period` (the previous period) or `base` (a column)")
        return list(dict.fromkeys([self.column, self.of, *([self.per] if self.per else []),
                                   *([self.period] if self.period else [self.base]), *self.group_by]))

    def finding_key(self, row: dict[str, Any], primary_key: list[str]) -> dict[str, Any]:
        key = {k: row[k] for k in primary_key if k in row}
        return key or {k: row.get(k) for k in [*self.group_by, *([self.period] if self.period else [])]}

    def failing_rows_query(self) -> str:
        of, pct = "__measure", ident(self.column)
        measure = ident(self.of) if self.per is None else f"({ident(self.of)}::DOUBLE / NULLIF({ident(self.per)}, 0))"
        exact = f"(({of} - __previous)::DOUBLE / NULLIF(__previous, 0) * 100)"
        # A change of a published rounded figure (a rate to 1 decimal) may have been worked out from the
        # unrounded one: each input's half unit moves the change by up to 100 x (h / |prev| + |x| h_prev / prev^2).
        # From 0 there is neither a percentage nor a tolerance: NULL on every engine (Spark's ANSI mode stops a query
        # that divides by 0, where DuckDB gave infinity).
        inputs = (f"100 * (__half / NULLIF(abs(__previous), 0) + abs({of}) * __previous_half "
                  f"/ NULLIF(__previous * __previous, 0))")
        allowed = f"({precision_sql(pct, self.decimals, self.tolerance)} + {inputs} + 1e-9 * abs({exact}))"
        # lower(): DuckDB names types in capitals, Spark in small letters.
        rounded = ("CASE WHEN lower(typeof({c})) IN ('double', 'float') OR lower(typeof({c})) LIKE 'decimal%' THEN "
                   "0.5 * 10 ** (-greatest({d}, mode({d}) OVER ())) ELSE 0 END")
        # A ratio of two counts is exact: only a published figure carries a rounding half unit.
        half = "0.0" if self.per else f"coalesce({rounded.format(c=of, d=decimals_sql(of))}, 0.0)"
        usual = f"mode({decimals_sql(pct)}) OVER () AS __usual_decimals"
        if self.base is not None:
            base = ident(self.base)
            previous = (f"SELECT *, {base} AS __previous, NULL AS __previous_period, "
                        f"coalesce({rounded.format(c=base, d=decimals_sql(base))}, 0.0) AS __previous_half, {usual} "
                        f"FROM a")
            scope = ""
        else:  # a change along a series: the descriptor gives either a base column or a period
            period = ident(self.period or "")
            partition = f"PARTITION BY {', '.join(map(ident, self.group_by))} " if self.group_by else ""
            window = f"({partition}ORDER BY {period})"
            previous = (f"SELECT *, lag({of}) OVER {window} AS __previous, lag({period}) OVER {window} AS "
                        f"__previous_period, lag(__half) OVER {window} AS __previous_half, {usual} FROM a")
            scope = f" WHERE {period} IS NOT NULL"
        # By period, then place (and the figures): by period alone, the places of one period came in another order
        # on each run (13 percent-change checks of Maryland's county table: 79 of 139 findings moved between runs).
        order = (f" ORDER BY {', '.join(map(ident, [self.period, *self.group_by, self.of, self.column]))}"
                 if self.period else "")
        return (
            f"WITH m AS (SELECT *, {measure} AS __measure FROM {{batch}}), "
            f"a AS (SELECT *, {half} AS __half FROM m{scope}), b AS ({previous}) "
            f"SELECT * EXCLUDE (__usual_decimals, __half, __previous_half), {exact} AS __expected, {pct} AS __observed, "
            f"{allowed} AS __allowed FROM b WHERE __previous IS NOT NULL AND {of} IS NOT NULL AND ("
            f"(__previous <> 0 AND ({pct} IS NULL OR abs({pct} - {exact}) > {allowed})) "
            # From zero the change is no percentage at all: a figure printed there was made up (from zero to zero, a
            # printed 0 says "no change" and is let stand).
            f"OR (__previous = 0 AND {pct} IS NOT NULL AND ({of} <> 0 OR {pct} <> 0))){order}"
        )

    def explain(self, row: dict[str, Any], label: Label) -> str:
        expected, observed = row["__expected"], row["__observed"]
        scale, what = ((1, label(self.of)) if self.per is None
                       else (self.SHOWN_PER, f"{label(self.of)} per {self.SHOWN_PER:,} {label(self.per)}"))
        previous = None if row["__previous"] is None else row["__previous"] * scale
        before = (f"{label(self.base)} {number(previous)}" if self.base is not None
                  else f"{number(previous)} ({row['__previous_period']})")
        now = None if row.get("__measure") is None else row["__measure"] * scale
        went = Code.PERCENT_CHANGE.say("went over period" if self.period else "went against base",
                                       of=what, before=before, now=now)
        if not row["__previous"]:
            return Code.PERCENT_CHANGE.say("from zero", column=label(self.column), observed=observed, went=went)
        shown = f"{expected:,.{self.decimals}f}" if self.decimals is not None else f"{expected:,.4f}".rstrip("0").rstrip(".")
        change = Code.PERCENT_CHANGE.say("change", went=went, expected=shown)
        if observed is None:
            return Code.PERCENT_CHANGE.say("missing", column=label(self.column), change=change)
        return Code.PERCENT_CHANGE.say(column=label(self.column), observed=observed, change=change,
                                       allowed=row["__allowed"])
