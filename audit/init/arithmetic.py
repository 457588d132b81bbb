"""Find the arithmetic a table already obeys: totals of parts, and rates.

Search on a sample in numpy, then confirm on every row in DuckDB, so a proposal
holds in the whole table (apart from rows where a value is missing).

Sums: for each count column, the smallest set of other count columns that adds up
to it in every sampled row (a depth-first search; counts are non-negative, so a
branch stops as soon as it overshoots). The smallest set is what makes a
hierarchy: Part I = violent + property rather than the seven offences.

Rates: for each number column R and each pair of count columns C, P, whether
R = C / P x 10^k for one power k in every row, at R's published precision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import numpy as np

from audit.sql import ident
from audit.validate.expectations.arithmetic import ExpectColumnValuesToEqualRate

SAMPLE_ROWS = 200
MAX_PARTS = 8
SEARCH_BUDGET = 200_000  # DFS nodes per total; beyond it the search gives up on that column
POWERS = range(0, 7)  # per 1 ... per 1,000,000


@dataclass(frozen=True)
class Sum:
    total: str
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Rate:
    column: str
    count: str
    population: str
    per: int


def _sample(con, table: str, columns: list[str]) -> np.ndarray:
    """Up to SAMPLE_ROWS rows with every one of `columns` present, as floats (rows x columns)."""
    if not columns:
        return np.empty((0, 0))
    present = " AND ".join(f"{ident(c)} IS NOT NULL" for c in columns)
    rows = con.execute(
        f"SELECT {', '.join(ident(c) + '::DOUBLE' for c in columns)} FROM {ident(table)} WHERE {present} "
        f"USING SAMPLE reservoir({SAMPLE_ROWS} ROWS) REPEATABLE (7)"
    ).fetchall()
    return np.array(rows, dtype=float).reshape(len(rows), len(columns))


def find_sums(con: duckdb.DuckDBPyConnection, table: str, counts: list[str]) -> list[Sum]:
    data = _sample(con, table, counts)
    if data.shape[0] < 2:
        return []
    usable = [i for i in range(len(counts)) if np.any(data[:, i] != 0) and np.all(data[:, i] >= 0)]
    found = []
    for t in usable:
        candidates = [i for i in usable if i != t and np.all(data[:, i] <= data[:, t])
                      and not np.array_equal(data[:, i], data[:, t])]
        candidates.sort(key=lambda i: -data[:, i].sum())
        parts = _smallest_subset(data, data[:, t], candidates)
        if parts and _holds_everywhere(con, table, counts[t], [counts[i] for i in parts]):
            found.append(Sum(counts[t], tuple(counts[i] for i in sorted(parts))))
    return found


def _smallest_subset(data: np.ndarray, target: np.ndarray, candidates: list[int]) -> list[int] | None:
    best: list[int] | None = None
    budget = [SEARCH_BUDGET]

    def search(start: int, remaining: np.ndarray, chosen: list[int]) -> None:
        nonlocal best
        if budget[0] <= 0:
            return
        budget[0] -= 1
        if not remaining.any():
            if len(chosen) >= 2 and (best is None or len(chosen) < len(best)):
                best = list(chosen)
            return
        if len(chosen) >= (len(best) - 1 if best else MAX_PARTS):
            return
        for k in range(start, len(candidates)):
            i = candidates[k]
            left = remaining - data[:, i]
            if np.all(left >= 0):
                chosen.append(i)
                search(k + 1, left, chosen)
                chosen.pop()

    search(0, target.copy(), [])
    return best


def _holds_everywhere(con, table: str, total: str, parts: list[str]) -> bool:
    cells = [ident(total), *map(ident, parts)]
    (broken,) = con.execute(
        f"SELECT count(*) FROM {ident(table)} WHERE {' AND '.join(f'{c} IS NOT NULL' for c in cells)} "
        f"AND {cells[0]} <> {' + '.join(cells[1:])}"
    ).fetchone()
    return broken == 0


def find_rates(con: duckdb.DuckDBPyConnection, table: str, numbers: list[str], counts: list[str]) -> list[Rate]:
    data = _sample(con, table, [*numbers, *counts])
    if data.shape[0] < 2:
        return []
    found = []
    for r, rate in enumerate(numbers):
        values = data[:, r]
        if not np.any(values != 0):
            continue
        match = None
        for c, count in enumerate(counts, len(numbers)):
            for p, population in enumerate(counts, len(numbers)):
                if c == p or np.any(data[:, p] <= 0) or not np.any(data[:, c] != 0):
                    continue
                per = _power(values, data[:, c] / data[:, p])
                if per is not None and _rate_holds(con, table, rate, count, population, per):
                    match = Rate(rate, count, population, per)
                    break
            if match:
                break
        if match:
            found.append(match)
    return found


def _power(rates: np.ndarray, ratios: np.ndarray) -> int | None:
    """The power of ten `per` with rates ~ ratios x per in every sampled row, if there is one."""
    usable = ratios > 0
    if usable.sum() < 2:
        return None
    k = round(math.log10(float(np.median(rates[usable] / ratios[usable])))) if np.all(rates[usable] > 0) else None
    if k is None or k not in POWERS:
        return None
    per = 10**k
    # Rates are published rounded: allow up to half a unit of 2 decimals here; SQL checks exactly.
    return per if np.all(np.abs(rates - ratios * per) <= 0.005 + 0.5 + 1e-9 * np.abs(rates)) else None


def _rate_holds(con, table: str, rate: str, count: str, population: str, per: int) -> bool:
    """Whether the rate holds in every row by the very rule the proposed expectation will apply."""
    proposed = ExpectColumnValuesToEqualRate(column=rate, count=count, population=population, per=per)
    exact, allowed, r = proposed.exact_sql(), proposed.allowed_sql(), ident(rate)
    (broken, checked) = con.execute(
        f"SELECT count(*) FILTER (WHERE abs({r} - {exact}) > {allowed}), count({exact} + {r}) FROM {ident(table)}"
    ).fetchone()
    return broken == 0 and checked > 0
