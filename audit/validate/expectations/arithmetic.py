"""Arithmetic a crime table states about itself: totals of parts, and rates.

A hierarchy (violent = homicide + rape + robbery + aggravated assault; property =
burglary + larceny-theft + motor vehicle theft; Part I = violent + property) is
one sum expectation per level: a level's parts may be totals of the level below.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional, Tuple

from audit.findings import WARNING
from audit.sql import ident
from audit.findings import number
from audit.validate.expectations.base import Label, RowCheckExpectation, decimals_sql

INCOMPLETE = "category-sum-incomplete"


class ExpectColumnValuesToEqualSumOfColumns(RowCheckExpectation):
    """`column` equals the sum of `parts` in every row.

    A row where the total or a part is missing (NA) cannot be checked: its sum is
    unknown, not wrong, and is reported as a `category-sum-incomplete` warning.
    A row where every one of them is missing has nothing to compare and is skipped.
    """

    column: str
    parts: list[str]
    success_keys: ClassVar[Tuple[str, ...]] = ("column", "parts")
    check: ClassVar[str] = "category-sum"
    row_checks: ClassVar[dict[str, str]] = {INCOMPLETE: WARNING}

    def read_columns(self) -> list[str]:
        return list(dict.fromkeys([self.column, *self.parts]))

    def failing_rows_query(self) -> str:
        cells = [ident(c) for c in (self.column, *self.parts)]
        known_sum = " + ".join(f"coalesce({p}, 0)" for p in cells[1:])
        some_missing = " OR ".join(f"{c} IS NULL" for c in cells)
        all_missing = " AND ".join(f"{c} IS NULL" for c in cells)
        return (
            f"SELECT *, ({known_sum}) AS __expected, {cells[0]} AS __observed, "
            f"CASE WHEN {some_missing} THEN '{INCOMPLETE}' ELSE '{self.check}' END AS __check, "
            f"[{', '.join(f'{p} IS NULL' for p in cells[1:])}] AS __missing "
            f"FROM {{batch}} WHERE NOT ({all_missing}) AND (({some_missing}) OR {cells[0]} <> ({known_sum}))"
        )

    def explain(self, row: dict[str, Any], label: Label) -> str:
        parts = " + ".join(label(p) for p in self.parts)
        expected, observed = row["__expected"], row["__observed"]
        if row.get("__check") == INCOMPLETE:
            missing = [label(p) for p, gone in zip(self.parts, row["__missing"]) if gone]
            if observed is None:
                missing.insert(0, label(self.column))
            return (
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing, so whether "
                f"{label(self.column)} = {parts} holds is unknown (the known parts sum to {number(expected)})"
            )
        gap = observed - expected
        side = "unaccounted for" if gap > 0 else "more in the parts than in the total"
        return f"{label(self.column)} is {number(observed)} but {parts} sum to {number(expected)} ({number(abs(gap))} {side})"


class ExpectColumnValuesToEqualRate(RowCheckExpectation):
    """`column` equals `count` / `population` x `per` at the precision it is published at.

    By default each rate's precision is read from the value itself: a rate given to
    1 decimal may differ from the exact rate by half a unit of that decimal (0.05);
    a rate given in full must agree to a relative 1e-9. `decimals` pins the
    published precision for every row; `tolerance` sets an absolute tolerance instead.
    """

    column: str
    count: str
    population: str
    per: float = 100_000
    decimals: Optional[int] = None
    tolerance: Optional[float] = None
    success_keys: ClassVar[Tuple[str, ...]] = ("column", "count", "population", "per", "decimals", "tolerance")
    check: ClassVar[str] = "rate-math"

    def read_columns(self) -> list[str]:
        return [self.column, self.count, self.population]

    def exact_sql(self) -> str:
        """SQL for the exact rate, count / population x per."""
        return f"({ident(self.count)}::DOUBLE / NULLIF({ident(self.population)}, 0) * {float(self.per)!r})"

    def allowed_sql(self) -> str:
        """SQL for how far the published rate may be from the exact one (the precision rule)."""
        if self.tolerance is not None:
            published = repr(float(self.tolerance))
        elif self.decimals is not None:
            published = repr(0.5 * 10 ** (-self.decimals))
        else:
            published = f"coalesce(0.5 * 10 ** (-{decimals_sql(ident(self.column))}), 0.0)"
        # The relative 1e-9 absorbs floating-point noise on top of the published rounding.
        return f"({published} + 1e-9 * abs({self.exact_sql()}))"

    def failing_rows_query(self) -> str:
        exact, allowed = self.exact_sql(), self.allowed_sql()
        return (
            f"SELECT *, {exact} AS __expected, {ident(self.column)} AS __observed, {allowed} AS __allowed "
            f"FROM {{batch}} WHERE abs({ident(self.column)} - {exact}) > {allowed}"
        )

    def explain(self, row: dict[str, Any], label: Label) -> str:
        expected, observed = row["__expected"], row["__observed"]
        shown = f"{expected:,.{self.decimals}f}" if self.decimals is not None else f"{expected:,.6f}".rstrip("0")
        return (
            f"{label(self.column)} is {number(observed)} but {label(self.count)} / {label(self.population)} "
            f"x {self.per:,g} is {shown} (allowed difference {row['__allowed']:.3g})"
        )
