"""Candidate arithmetic in an unknown table: totals of parts, rates and percent changes.

The search runs on samples in numpy and only suggests; `audit.init.evidence` then runs each
candidate over every row by the very expectation the suite will hold, and decides what to
propose. A candidate need not hold in every row: the rows that break a rule which holds
nearly everywhere are the table's likely defects, so the search looks on several small
random samples (one of them is likely to be free of the defects) and within ranges of
periods (a definition that changed in 2013 holds before or after it, not both).

Sums: for a count column, the smallest set of other count columns that adds up to it in
every row of a sample (a depth-first search; counts are non-negative, so a branch stops as
soon as it overshoots). The smallest set makes a hierarchy: Part I = violent + property, not
the seven offences.
Rates: a column R = C / P x 10^k, for one power k, in most sampled rows, at R's precision.
Percent changes: a column Q = (X_t - X_t-1) / X_t-1 x 100 along each place's series.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np

from audit.sql import ident

SAMPLE_ROWS = 400
SUBSAMPLE_ROWS = 10       # small enough that some random subsample misses rows with defects
RANDOM_SUBSAMPLES = 8
PERIOD_BINS = 4           # ranges of periods searched on their own (definitions change over time)
# Random subsamples drawn in each range, besides the range cut into disjoint pieces (see _subsamples).
BIN_SUBSAMPLES = 4
MAX_PARTS = 8
SEARCH_BUDGET = 20_000    # DFS nodes per total and sample; beyond it the search gives up on that sample
POWERS = range(0, 7)      # per 1 ... per 1,000,000
LIKELY = 0.5              # a candidate must fit at least this share of the sampled rows to be tried on all


@dataclass(frozen=True)
class Sum:
    total: str
    parts: tuple[str, ...]
    kind = "sum"

    @property
    def target(self) -> str:
        return self.total

    def columns(self) -> list[str]:
        return [self.total, *self.parts]

    def expectation(self) -> tuple[str, dict[str, Any]]:
        return "expect_column_values_to_equal_sum_of_columns", {"column": self.total, "parts": list(self.parts)}

    def __str__(self) -> str:
        return f"{self.total} = {' + '.join(self.parts)}"


@dataclass(frozen=True)
class Rate:
    column: str
    count: str
    population: str
    per: int
    decimals: int | None = None
    kind = "rate"

    @property
    def target(self) -> str:
        return self.column

    def columns(self) -> list[str]:
        return [self.column, self.count, self.population]

    def expectation(self) -> tuple[str, dict[str, Any]]:
        kwargs: dict[str, Any] = {"column": self.column, "count": self.count, "population": self.population,
                                  "per": self.per}
        if self.decimals is not None:
            kwargs["decimals"] = self.decimals
        return "expect_column_values_to_equal_rate", kwargs

    def __str__(self) -> str:
        return f"{self.column} = {self.count} / {self.population} x {self.per:,}" + _precision(self.decimals)


@dataclass(frozen=True)
class Change:
    column: str
    of: str
    period: str | None                  # the previous value is `of` in the place's previous period ...
    group_by: tuple[str, ...] = ()
    decimals: int | None = None
    base: str | None = None             # ... or another column of the same row
    per: str | None = None              # the change is of `of` / `per`: a rate from its count and population
    kind = "percent change"

    @property
    def target(self) -> str:
        return self.column

    def columns(self) -> list[str]:
        return [self.column, self.of, *([self.per] if self.per else []), *([self.base] if self.base else [])]

    def measure_sql(self) -> str:
        """The quantity whose change it is, in SQL over the table."""
        return ident(self.of) if self.per is None else f"({ident(self.of)}::DOUBLE / NULLIF({ident(self.per)}, 0))"

    def expectation(self) -> tuple[str, dict[str, Any]]:
        kwargs: dict[str, Any] = {"column": self.column, "of": self.of}
        if self.per is not None:
            kwargs["per"] = self.per
        if self.base is not None:
            kwargs["base"] = self.base
        else:
            kwargs.update(period=self.period, group_by=list(self.group_by))
        if self.decimals is not None:
            kwargs["decimals"] = self.decimals
        return "expect_column_values_to_equal_percent_change", kwargs

    def __str__(self) -> str:
        since = f"from {self.base}" if self.base is not None else f"from the previous {self.period}"
        of = f"{self.of} / {self.per}" if self.per else self.of
        return f"{self.column} = percent change of {of} {since}" + _precision(self.decimals)


def _precision(decimals: int | None) -> str:
    return "" if decimals is None else f" ({decimals} decimal{'' if decimals == 1 else 's'})"


Candidate = Sum | Rate | Change


@dataclass
class Sample:
    columns: list[str]
    data: np.ndarray              # rows x columns, NaN where missing
    periods: np.ndarray | None    # each row's period, when the table has one
    groups: np.ndarray | None     # each row's place (the key without the period), for series

    def column(self, name: str) -> np.ndarray:
        return self.data[:, self.columns.index(name)]


def take_sample(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], period: str | None,
                group_by: list[str]) -> Sample:
    """Up to SAMPLE_ROWS rows. With a period, whole series of sampled places, so changes can be followed."""
    values = ", ".join(f"{ident(c)}::DOUBLE" for c in columns) or "NULL"
    extra = f", {ident(period)}::DOUBLE" if period else ", NULL"
    group = f"concat_ws('|', {', '.join(f'{ident(g)}::VARCHAR' for g in group_by)})" if group_by else "''"
    if period and group_by:
        query = (f"WITH places AS (SELECT DISTINCT {group} AS g FROM {ident(table)}), "
                 f"picked AS (SELECT g FROM places USING SAMPLE reservoir(60 ROWS) REPEATABLE (7)) "
                 f"SELECT {values}{extra}, {group} AS g FROM {ident(table)} WHERE {group} IN (SELECT g FROM picked) "
                 f"ORDER BY g, {ident(period)} LIMIT {SAMPLE_ROWS * 4}")
    elif period:  # one series: the table itself, in period order
        query = f"SELECT {values}{extra}, '' FROM {ident(table)} ORDER BY {ident(period)} LIMIT {SAMPLE_ROWS * 4}"
    else:
        query = (f"SELECT {values}{extra}, {group} FROM {ident(table)} "
                 f"USING SAMPLE reservoir({SAMPLE_ROWS} ROWS) REPEATABLE (7)")
    rows = con.execute(query).fetchall()
    width = len(columns)
    data = np.array([[np.nan if v is None else v for v in r[:width]] for r in rows], dtype=float).reshape(len(rows), width)
    periods = np.array([np.nan if r[width] is None else r[width] for r in rows], dtype=float) if period else None
    groups = np.array([r[width + 1] for r in rows], dtype=object) if period else None
    return Sample(columns, data, periods, groups)


def _subsamples(sample: Sample) -> list[np.ndarray]:
    """Row index sets to search: the whole sample, small random ones, and small ones within ranges of periods."""
    n = len(sample.data)
    rng = np.random.default_rng(7)
    sets = [np.arange(n)]
    if n > SUBSAMPLE_ROWS:
        sets += [rng.choice(n, SUBSAMPLE_ROWS, replace=False) for _ in range(RANDOM_SUBSAMPLES)]
    if 2 < n <= 4 * SUBSAMPLE_ROWS:  # a small table: all rows but one, each in turn, so one broken row hides nothing
        sets += [np.delete(np.arange(n), i) for i in range(n)]
    if sample.periods is not None and n:
        order = np.argsort(sample.periods, kind="stable")
        for chunk in np.array_split(order, PERIOD_BINS):
            if len(chunk) > SUBSAMPLE_ROWS:
                sets += [rng.choice(chunk, SUBSAMPLE_ROWS, replace=False) for _ in range(BIN_SUBSAMPLES)]
                # Random draws can all hold the one broken row of a range (and a rule in use only there is then
                # never found); of disjoint pieces, a broken row spoils one, so the rest show the rule.
                pieces = -(-len(chunk) // SUBSAMPLE_ROWS)
                sets += [p for p in np.array_split(rng.permutation(chunk), pieces) if len(p) >= 2]
            elif len(chunk) >= 2:
                sets.append(chunk)
    return sets


def years_named(column: str) -> frozenset[str]:
    """The years a column's name gives (`2024_robbery`, `robbery_2024`, `violent crime 2023-24`): a wide table
    puts each year's figures side by side, and a total of one year is never a sum of another year's parts."""
    return frozenset(re.findall(r"(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])", column))


def find_sums(sample: Sample, counts: list[str]) -> list[Sum]:
    """Every distinct smallest sum found on some subsample, for each count column, its parts among the columns
    whose names give the same years as its own (all of them, in a table with no years in its column names)."""
    found: dict[tuple[str, tuple[str, ...]], Sum] = {}
    index = np.array([sample.columns.index(c) for c in counts], dtype=int)
    years = [years_named(c) for c in counts]
    for rows in _subsamples(sample):
        data = sample.data[np.ix_(rows, index)] if len(rows) else np.empty((0, len(index)))
        complete = ~np.isnan(data)
        for t in range(len(counts)):
            keep = complete[:, t]
            block = data[keep]
            if len(block) < 2:
                continue
            # Each column's tests over the block at once (a 64-column table tries every total on each subsample).
            with np.errstate(invalid="ignore"):
                usable = np.asarray(complete[keep].all(0) & (block >= 0).all(0), dtype=bool)
                target = block[:, t]
                if not usable[t] or not np.any(target != 0):
                    continue
                fits = (usable & (block != 0).any(0) & (block <= target[:, None]).all(0)
                        & ~(block == target[:, None]).all(0))
            same_years = [i for i in np.flatnonzero(fits) if i != t and years[i] == years[t]]
            totals = block.sum(0)
            candidates = sorted((int(i) for i in same_years), key=lambda i: -totals[i])
            parts = _smallest_subset(block, target, candidates)
            if parts:
                s = Sum(counts[t], tuple(counts[i] for i in sorted(parts)))
                found.setdefault((s.total, s.parts), s)
    return list(found.values())


def _smallest_subset(data: np.ndarray, target: np.ndarray, candidates: list[int]) -> list[int] | None:
    best: list[int] | None = None
    budget = [SEARCH_BUDGET]
    # What the candidates from k on add up to, row by row: a branch whose remainder exceeds it in some row cannot
    # reach the target, so it goes no deeper.
    reach = np.zeros((len(candidates) + 1, len(target)))
    for k in range(len(candidates) - 1, -1, -1):
        reach[k] = reach[k + 1] + data[:, candidates[k]]

    def search(start: int, remaining: np.ndarray, chosen: list[int]) -> None:
        nonlocal best
        if budget[0] <= 0:
            return
        budget[0] -= 1
        if not remaining.any():
            if len(chosen) >= 2 and (best is None or len(chosen) < len(best)):
                best = list(chosen)
            return
        if len(chosen) >= (len(best) - 1 if best else MAX_PARTS) or np.any(reach[start] < remaining):
            return
        for k in range(start, len(candidates)):
            i = candidates[k]
            left = remaining - data[:, i]
            if np.all(left >= 0):
                chosen.append(i)
                search(k + 1, left, chosen)
                chosen.pop()

    if np.all(reach[0] >= target):
        search(0, target.copy(), [])
    # A total of every column of its kind (a county table's 20 offences of 2025 and their total): more parts than
    # the search goes to, and found in one comparison.
    if best is None and len(candidates) > MAX_PARTS and np.array_equal(reach[0], target):
        best = list(candidates)
    return best


def _half_unit(decimals: int | None) -> float:
    return 0.5 * 10 ** (-(decimals if decimals is not None else 2))


def find_rates(sample: Sample, rates: list[str], counts: list[str], decimals: dict[str, int | None]) -> list[Rate]:
    """For each rate column, the count / population x 10^k that fits most sampled rows (at least LIKELY)."""
    found = []
    # Every population at once, as columns of one matrix (a table of 60 counts has 3,600 pairs per rate).
    populations = np.column_stack([sample.column(p) for p in counts]) if counts else np.empty((len(sample.data), 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        for rate in rates:
            r = sample.column(rate)[:, None]
            best: tuple[float, Rate] | None = None
            for count in counts:
                c = sample.column(count)[:, None]
                if count == rate or not np.nansum(np.abs(c)):
                    continue
                p = populations
                # A count is part of what it is counted over: a population (or a total, for a share) is never the
                # smaller of the two, which rules out rates of one small count by another.
                usable = ~np.isnan(r) & ~np.isnan(c) & ~np.isnan(p) & (p > 0) & (p >= np.abs(c))
                usable[:, [i for i, name in enumerate(counts) if name in (rate, count)]] = False
                informative = usable & (c != 0) & (r != 0)
                if not (informative.sum(0) >= 2).any():
                    continue
                ratios = np.where(informative, r * p / c, np.nan)
                scale = np.full(len(counts), np.nan)
                some = informative.sum(0) >= 2
                scale[some] = np.nanmedian(ratios[:, some], axis=0)
                # Rates and counts are not negative: a column that is is no rate of these.
                k = np.where(scale > 0, np.round(np.log10(np.where(scale > 0, scale, 1))), np.nan)
                fits = (np.abs(r - c / p * 10.0 ** np.nan_to_num(k)) <= _half_unit(decimals.get(rate)) + 1e-9) & usable
                # A sparse count fits any "rate" where it is 0, which is no evidence: the rows where both are not 0
                # decide (however few of the rows they are: a murder rate of a table of small towns, mostly 0).
                telling = (fits & informative).sum(0)
                enough = (telling >= 2) & (telling >= LIKELY * informative.sum(0))
                share = np.where(enough & np.isin(k, list(POWERS)), fits.sum(0) / np.maximum(usable.sum(0), 1), -1.0)
                at = int(np.argmax(share))  # the first population that fits best, as the loop over them found it
                if share[at] >= LIKELY and (best is None or share[at] > best[0]):
                    best = (float(share[at]), Rate(rate, count, counts[at], 10 ** int(k[at]), decimals.get(rate)))
            if best:
                found.append(best[1])
    return found


def find_changes(sample: Sample, changes: list[str], measures: list[str], period: str | None, group_by: list[str],
                 decimals: dict[str, int | None], ratios: Sequence[tuple[str, str]] = ()) -> list[Change]:
    """For each column that may be a percent change, the measure whose change it is: from the place's previous
    period (with a period), else from another column of the same row (a 2022 count beside a 2023 count). Besides
    the columns, each (count, population) of `ratios` is a measure: the rate they give, unrounded, whose change a
    state may publish rather than the change of the rate it prints rounded."""
    found = []
    groups = sample.groups
    same_place = (np.r_[False, groups[1:] == groups[:-1]]
                  if period and sample.periods is not None and groups is not None and len(sample.data) else None)
    # The series a change may be of, each with the columns it reads and what names it in a Change: each column, and
    # each rate worked from its count and population.
    series: list[tuple[tuple[str, ...], np.ndarray, dict[str, str]]] = []
    if same_place is not None:
        series += [((m,), sample.column(m), {"of": m}) for m in measures]
        with np.errstate(divide="ignore", invalid="ignore"):
            series += [((c, p), np.where(sample.column(p) > 0, sample.column(c) / sample.column(p), np.nan),
                        {"of": c, "per": p}) for c, p in ratios]
    for column in changes:
        q = sample.column(column)
        best: tuple[float, Change] | None = None

        def consider(x: np.ndarray, previous: np.ndarray, within: np.ndarray | bool, change: Change,
                     q: np.ndarray = q, column: str = column) -> None:
            nonlocal best
            usable = within & ~np.isnan(q) & ~np.isnan(x) & ~np.isnan(previous) & (previous != 0)
            if usable.sum() < 3:
                return
            exact = (x[usable] - previous[usable]) / previous[usable] * 100
            share = float((np.abs(q[usable] - exact) <= _half_unit(decimals.get(column)) + 1e-9).mean())
            if share >= LIKELY and (best is None or share > best[0]):
                best = (share, change)

        for reads, x, names in series:
            if column not in reads and same_place is not None:
                consider(x, np.r_[np.nan, x[:-1]], same_place, Change(
                    column, period=period, group_by=tuple(group_by), decimals=decimals.get(column), **names))
        if best is None:
            best = _best_base(sample, column, q, measures, decimals.get(column))
        if best:
            found.append(best[1])
    return found


def _best_base(sample: Sample, column: str, q: np.ndarray, measures: list[str],
               places: int | None) -> tuple[float, Change] | None:
    """The change `q` is of one measure against another of the same row (a 2025 count against the 2024 one): every
    (measure, base) pair at once, as arrays (a 64-column table has 3,600 pairs for each of its twenty changes). The
    pair that fits most rows wins, the first in the order of `measures` on a tie; at least three rows, LIKELY."""
    candidates = [m for m in measures if m != column]
    if len(candidates) < 2:
        return None
    x = np.column_stack([sample.column(m) for m in candidates])            # rows x measures
    m = len(candidates)
    share = np.full((m, m), -1.0)
    # A block of measures at a time, so a table of hundreds of columns stays within a few million cells per array.
    step = max(1, 4_000_000 // max(1, len(q) * m))
    for lo in range(0, m, step):
        block = x[:, lo:lo + step]
        with np.errstate(divide="ignore", invalid="ignore"):
            exact = (block[:, :, None] - x[:, None, :]) / x[:, None, :] * 100   # rows x measure x base
        usable = (~np.isnan(q))[:, None, None] & ~np.isnan(block)[:, :, None] & ~np.isnan(x)[:, None, :] \
            & (x[:, None, :] != 0)
        fits = usable & (np.abs(q[:, None, None] - exact) <= _half_unit(places) + 1e-9)
        counted = usable.sum(0)
        share[lo:lo + step] = np.where(counted >= 3, fits.sum(0) / np.maximum(counted, 1), -1.0)
    np.fill_diagonal(share, -1.0)
    at = int(np.argmax(share))  # row-major: the first measure, then the first base, as the loops over them found it
    measure, base = divmod(at, len(candidates))
    if share.flat[at] < LIKELY:
        return None
    return float(share.flat[at]), Change(column, candidates[measure], None, (), places, candidates[base])
