"""Custom Great Expectations expectations for crime statistics, run as SQL in DuckDB.

GX has no expectation that compares a column with a sum of other columns, or a
rate with count / population. Both are "every row where this SQL condition
fails" checks, so they share one base: `RowCheckExpectation` asks GX's
`query.table` metric for *all* failing rows (not GX's 200-row sample), each
carrying `__expected` and `__observed`.

Importing this module registers the expectations with GX, so a suite file can
name them by type like any built-in one.
"""

from __future__ import annotations

import abc
from typing import Any, Callable, ClassVar, Optional, Tuple

from great_expectations.expectations.expectation import BatchExpectation
from great_expectations.validator.metric_configuration import MetricConfiguration

from audit.sql import ident

FAILING_ROWS = "audit.failing_rows"


class RowCheckExpectation(BatchExpectation, abc.ABC):
    """An expectation that fails on every row its `failing_rows_query` returns."""

    domain_keys: ClassVar[Tuple[str, ...]] = ("batch_id", "row_condition", "condition_parser")
    # Finding code reported for this expectation (see audit.findings.CHECKS).
    check: ClassVar[str]

    @abc.abstractmethod
    def failing_rows_query(self) -> str:
        """SQL over `{batch}` returning every failing row with `__expected` and `__observed`."""

    @abc.abstractmethod
    def explain(self, expected: Any, observed: Any, label: Callable[[str], str]) -> str:
        """One failing row in plain language; `label` turns a column name into its title."""

    def get_validation_dependencies(self, execution_engine=None, runtime_configuration=None):
        dependencies = super().get_validation_dependencies(execution_engine, runtime_configuration)
        dependencies.set_metric_configuration(
            FAILING_ROWS,
            MetricConfiguration(
                metric_name="query.table",
                metric_domain_kwargs={"batch_id": execution_engine.batch_manager.active_batch_id},
                metric_value_kwargs={"query": self.failing_rows_query(), "fetch_all": True},
            ),
        )
        return dependencies

    def _validate(self, metrics: dict, runtime_configuration: Optional[dict] = None, execution_engine=None):
        rows = metrics[FAILING_ROWS]
        return {
            "success": not rows,
            "result": {"observed_value": len(rows), "details": {"failing_rows": rows}},
        }


class ExpectColumnValuesToEqualSumOfColumns(RowCheckExpectation):
    """`column` equals the sum of `parts` in every row (e.g. violent = homicide + rape + robbery + aggravated assault).

    A row where the total or any part is missing is not checked here: its sum is unknown, not wrong.
    """

    column: str
    parts: list[str]
    success_keys: ClassVar[Tuple[str, ...]] = ("column", "parts")
    check: ClassVar[str] = "category-sum"

    def failing_rows_query(self) -> str:
        total = " + ".join(ident(p) for p in self.parts)
        return (
            f"SELECT *, ({total}) AS __expected, {ident(self.column)} AS __observed "
            f"FROM {{batch}} WHERE {ident(self.column)} <> ({total})"
        )

    def explain(self, expected: Any, observed: Any, label: Callable[[str], str]) -> str:
        parts = " + ".join(label(p) for p in self.parts)
        gap = observed - expected
        side = "unaccounted for" if gap > 0 else "more in the parts than in the total"
        return f"{label(self.column)} is {observed:,} but {parts} sum to {expected:,} ({abs(gap):,} {side})"


class ExpectColumnValuesToEqualRate(RowCheckExpectation):
    """`column` equals `count` / `population` x `per` within the precision it is published at.

    `decimals`: the rate is published rounded to this many decimals, so it may differ
    from the exact rate by half a unit of its last digit. `tolerance`: an explicit
    absolute tolerance instead. With neither, the rate must agree to a relative 1e-9.
    """

    column: str
    count: str
    population: str
    per: float = 100_000
    decimals: Optional[int] = None
    tolerance: Optional[float] = None
    success_keys: ClassVar[Tuple[str, ...]] = ("column", "count", "population", "per", "decimals", "tolerance")
    check: ClassVar[str] = "rate-math"

    @property
    def allowed_gap(self) -> float:
        if self.tolerance is not None:
            return float(self.tolerance)
        if self.decimals is not None:
            return 0.5 * 10 ** (-self.decimals)
        return 0.0

    def failing_rows_query(self) -> str:
        exact = f"({ident(self.count)}::DOUBLE / NULLIF({ident(self.population)}, 0) * {float(self.per)!r})"
        # A relative 1e-9 absorbs floating-point noise on top of the published rounding.
        allowed = f"({self.allowed_gap!r} + 1e-9 * abs({exact}))"
        return (
            f"SELECT *, {exact} AS __expected, {ident(self.column)} AS __observed "
            f"FROM {{batch}} WHERE abs({ident(self.column)} - {exact}) > {allowed}"
        )

    def explain(self, expected: Any, observed: Any, label: Callable[[str], str]) -> str:
        shown = f"{expected:,.{self.decimals}f}" if self.decimals is not None else f"{expected:,.6g}"
        return (
            f"{label(self.column)} is {observed:,} but {label(self.count)} / {label(self.population)} "
            f"x {self.per:,g} is {shown} (allowed difference {self.allowed_gap:g})"
        )
