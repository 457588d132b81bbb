"""Checks on a place's series over time: gaps, partial years, improbable jumps.

A series is the rows of one place (the `group_by` columns, none for a single
place) ordered by `period`: an integer such as a year, with a numeric `step`, or
a date, with an interval `step` such as "1 month".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Literal, Optional, Tuple, Union

from audit.engine import Need
from audit.findings import WARNING, Code
from audit.sql import ident, literal
from audit.validate.expectations.base import Label, RowCheckExpectation


class SeriesExpectation(RowCheckExpectation):
    period: str
    group_by: list[str] = []
    step: Union[int, str] = 1

    def _step_sql(self) -> str:
        return f"CAST({literal(self.step)} AS INTERVAL)" if isinstance(self.step, str) else repr(self.step)

    def _groups(self) -> str:
        return ", ".join(ident(g) for g in self.group_by)

    def _partition(self) -> str:
        return f"(PARTITION BY {self._groups()})" if self.group_by else "()"

    def _window(self) -> str:
        partition = f"PARTITION BY {self._groups()} " if self.group_by else ""
        return f"({partition}ORDER BY {ident(self.period)})"

    def finding_key(self, row: dict[str, Any], primary_key: list[str]) -> dict[str, Any]:
        return {k: row.get(k) for k in [*self.group_by, self.period]}

    def _place(self, row: dict[str, Any]) -> str:
        return ", ".join(str(row.get(g)) for g in self.group_by)

    def read_columns(self) -> list[str]:
        return [*self.group_by, self.period]


class ExpectSeriesToHaveNoGaps(SeriesExpectation):
    """Every place's series runs without a missing period between its first and last."""

    success_keys: ClassVar[Tuple[str, ...]] = ("period", "group_by", "step")
    check: ClassVar[str] = Code.SERIES_GAP

    def failing_rows_query(self) -> str:
        keys = ", ".join([*map(ident, self.group_by), ident(self.period)])
        p = ident(self.period)
        return (
            f"SELECT {keys}, __previous + {self._step_sql()} AS __expected, {p} AS __observed, __previous FROM ("
            f"SELECT {keys}, lag({p}) OVER {self._window()} AS __previous "
            f"FROM (SELECT DISTINCT {keys} FROM {{batch}} WHERE {p} IS NOT NULL)) "
            f"WHERE {p} > __previous + {self._step_sql()} ORDER BY {keys}"
        )

    def explain(self, row: dict[str, Any], label: Label) -> str:
        place = f"{self._place(row)}: " if self.group_by else ""
        return Code.SERIES_GAP.say(place=place, expected=row["__expected"], observed=row["__observed"],
                                   previous=row["__previous"])


class ExpectMonthsReportedToBeComplete(RowCheckExpectation):
    """`column` (months reported, or a declared equivalent) reaches `full`.

    A row below it covers part of the period, so its counts and rates are not
    comparable with full periods: a `partial-year` warning, not an error.
    """

    column: str
    full: int = 12
    success_keys: ClassVar[Tuple[str, ...]] = ("column", "full")
    check: ClassVar[str] = Code.PARTIAL_YEAR
    default_severity: ClassVar[str] = WARNING

    def failing_rows_query(self) -> str:
        return self.rows_failing(f"{int(self.full)} AS __expected, {ident(self.column)} AS __observed")

    def explain(self, row: dict[str, Any], label: Label) -> str:
        return Code.PARTIAL_YEAR.say(observed=row["__observed"], full=self.full, unit=label(self.column).lower())


class ExpectCountsToChangePlausibly(SeriesExpectation):
    """Flags a change from one period to the next that is both large and improbable.

    As the FBI reviews an agency's submission against its own history: a change is
    flagged when it is at least `min_change` (0.25 = 25 percent) and the Poisson
    E-test (Krishnamoorthy and Thomson, 2004) gives p below `p_value` for "same
    underlying rate". With `exposure` (population) the rates are compared, not the
    counts. Counts below `min_count` in both periods are never flagged, so small
    numbers do not drown the report.

    `scope`: "latest" (the default) checks each place's newest period against the
    one before, as a new submission is reviewed; "all" checks every pair in the
    history (a long table has hundreds of ordinary-looking but improbable jumps:
    crime counts vary more than a Poisson model allows).
    """
    needs: ClassVar[frozenset[Need]] = frozenset({Need.PYTHON_OVER_ROWS})  # the Poisson test

    columns: list[str] = []
    column: Optional[str] = None
    exposure: Optional[str] = None
    min_change: float = 0.25
    p_value: float = 0.001
    min_count: int = 10
    scope: Literal["latest", "all"] = "latest"
    success_keys: ClassVar[Tuple[str, ...]] = (
        "column", "columns", "period", "group_by", "step", "exposure", "min_change", "p_value", "min_count", "scope",
    )
    check: ClassVar[str] = Code.YOY_OUTLIER
    default_severity: ClassVar[str] = WARNING
    each_column: ClassVar[Optional[str]] = "columns"

    def checked_columns(self) -> list[str]:
        return [c for c in dict.fromkeys([*([self.column] if self.column else []), *self.columns]) if c]

    def read_columns(self) -> list[str]:
        return [*self.checked_columns(), *([self.exposure] if self.exposure else [])]

    def failing_rows_query(self) -> str:
        keys = [*map(ident, self.group_by), ident(self.period)]
        exposure = ident(self.exposure) if self.exposure else "1"
        selects = []
        for column in self.checked_columns():
            c = ident(column)
            selects.append(
                f"SELECT {', '.join(keys)}, __previous AS __expected, {c} AS __observed, {literal(column)} AS __column, "
                f"__previous_period, __previous_exposure, __exposure FROM ("
                f"SELECT {', '.join(keys)}, {c}, {exposure}::DOUBLE AS __exposure, "
                f"lag({c}) OVER {self._window()} AS __previous, "
                f"lag({ident(self.period)}) OVER {self._window()} AS __previous_period, "
                f"lag({exposure}::DOUBLE) OVER {self._window()} AS __previous_exposure, "
                f"max({ident(self.period)}) OVER {self._partition()} AS __latest FROM {{batch}}) "
                f"WHERE __previous_period + {self._step_sql()} = {ident(self.period)} "
                f"AND __exposure > 0 AND __previous_exposure > 0 "
                f"{f'AND {ident(self.period)} = __latest ' if self.scope == 'latest' else ''}"
                f"AND greatest({c}, __previous) >= {int(self.min_count)} "
                f"AND abs({c} / __exposure - __previous / __previous_exposure) "
                f">= {float(self.min_change)!r} * __previous / __previous_exposure"
            )
        order = ", ".join([*keys, "__column"])
        return f"SELECT * FROM ({' UNION ALL '.join(selects)}) ORDER BY {order}"

    def keep(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = []
        for row in rows:
            p = poisson_e_test(row["__expected"], row["__observed"], row["__previous_exposure"], row["__exposure"])
            if p < self.p_value:
                kept.append({**row, "__p_value": p})
        return kept

    def explain(self, row: dict[str, Any], label: Label) -> str:
        before, after = row["__expected"], row["__observed"]
        what = label(row["__column"])
        if self.exposure:
            rate_before = before / row["__previous_exposure"]
            change = (after / row["__exposure"] - rate_before) / rate_before if rate_before else math.inf
            measure = f"its rate (per {label(self.exposure).lower()})"
        else:
            change = (after - before) / before if before else math.inf
            measure = "the count"
        place = f"{self._place(row)}: " if self.group_by else ""
        shown = "from zero" if math.isinf(change) else f"{change:+.0%}"
        return Code.YOY_OUTLIER.say(place=place, what=what, before=before, previous_period=row["__previous_period"],
                                    after=after, period=row[self.period], measure=measure, change=shown,
                                    p_value=row["__p_value"])


@dataclass
class EGrid:
    """The Poisson E-test's grid for two counts: the standardised difference of two counts (`statistic`, over
    arrays), its size for the counts observed, and the counts around the pooled means (`means`) each period may
    take (`x1`, `x2`)."""

    statistic: Callable[[Any, Any], Any]
    observed: float
    x1: Any
    x2: Any
    means: tuple[float, float]

    def weights(self) -> tuple[Any, Any]:
        """The Poisson probabilities of `x1` and `x2` under the pooled means."""
        from scipy import stats

        return stats.poisson.pmf(self.x1, self.means[0]), stats.poisson.pmf(self.x2, self.means[1])


def e_test_grid(k1: int, k2: int, n1: float = 1.0, n2: float = 1.0) -> EGrid:
    """The grid of the E-test of counts k1/n1 against k2/n2: twelve standard deviations (and twelve counts) either
    side of each pooled mean."""
    import numpy as np

    scale = (n1 + n2) / 2  # the statistic does not depend on the exposures' scale
    n1, n2 = n1 / scale, n2 / scale

    def statistic(x1, x2):
        var = x1 / n1**2 + x2 / n2**2
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(var > 0, (x1 / n1 - x2 / n2) / np.sqrt(np.where(var > 0, var, 1)), 0.0)

    pooled = (k1 + k2) / (n1 + n2)
    mean1, mean2 = n1 * pooled, n2 * pooled

    def support(mean):
        spread = 12 * math.sqrt(mean) + 12
        return np.arange(max(0, int(mean - spread)), int(mean + spread) + 1)

    x1, x2 = support(mean1), support(mean2)
    return EGrid(statistic, abs(float(statistic(np.float64(k1), np.float64(k2)))), x1, x2, (mean1, mean2))


def poisson_e_test(k1: int, k2: int, n1: float = 1.0, n2: float = 1.0) -> float:
    """Two-sided p-value of the Poisson E-test for equal rates k1/n1 and k2/n2.

    Krishnamoorthy and Thomson (2004): under the pooled rate, the probability of a
    standardised difference at least as large as the one observed. Exact sums over
    the Poisson grid (`e_test_grid`) up to ~4 million cells; beyond that (counts in the
    hundreds of thousands) the statistic's normal limit, which is exact enough there.

    Written here, not taken from statsmodels (the tests' reference): its grid starts at
    zero, which for large counts needs terabytes, and it costs a full grid per row.
    """
    import numpy as np
    from scipy import stats

    grid = e_test_grid(int(k1), int(k2), n1, n2)
    statistic, observed, x1, x2 = grid.statistic, grid.observed, grid.x1, grid.x2
    if observed == 0:
        return 1.0
    if len(x1) * len(x2) > 4_000_000:
        return float(2 * stats.norm.sf(observed))
    p1, p2 = grid.weights()
    # For a fixed x1 the statistic falls as x2 grows (its numerator falls while its spread grows), so the grid's
    # extreme cells in each row are a run at the start (statistic >= observed) and a run at the end (<= -observed).
    # A bisection per row finds both runs' edges from the same statistic on the same cells, so the cells counted are
    # the full grid's, in len(x1) * log(len(x2)) evaluations instead of len(x1) * len(x2): for counts in the
    # thousands the grid took ~50 ms a row checked, and a long table's history has hundreds of such rows.
    threshold = observed * (1 - 1e-12)
    column = x1.astype(float)
    grid2 = x2.astype(float)

    def first_index(is_before):
        """Per row of the grid, the first x2 index where `is_before(statistic)` stops holding."""
        low, high = np.zeros(len(column), dtype=np.int64), np.full(len(column), len(grid2), dtype=np.int64)
        while (low < high).any():
            middle = (low + high) // 2
            holds = is_before(statistic(column, grid2[np.minimum(middle, len(grid2) - 1)])) & (low < high)
            low, high = np.where(holds, middle + 1, low), np.where(holds | (low >= high), high, middle)
        return low

    start_ends = first_index(lambda t: t >= threshold)  # x2[:start_ends] are extreme above
    end_starts = first_index(lambda t: t > -threshold)  # x2[end_starts:] are extreme below
    # Each tail summed from its own small end, so a tail of 1e-15 keeps its digits.
    head = np.concatenate(([0.0], np.cumsum(p2)))
    tail = np.concatenate((np.cumsum(p2[::-1])[::-1], [0.0]))
    return float(min(1.0, (p1 * (head[start_ends] + tail[end_starts])).sum()))
