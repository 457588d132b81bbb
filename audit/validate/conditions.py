"""The condition under which each check that judges a row on its own fails that row, by the check's type, and the
one pass that keeps the rows failing any of them (audit.validate.fused).

Not-null, in-set, in-range, patterns, formulas, coordinates, codes, sums of a row's columns, months reported and
dates: each check's condition is a function of its suite entry's arguments alone, written here once. The check's
class reads it (`RowCheckExpectation.failing_condition`) and builds its query from it, so the query and the pass
cannot drift apart.

Free of Great Expectations, like audit.validate.keys, so that the pass can run from the suite's entries as written
while GX is still being imported (audit.validate.ahead): at ten million rows the pass is 1.2 s, the import 3 s.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Mapping

from audit.formulas import formula_start_sql
from audit.sql import ident, literal
from audit.sql import value as sql_value
from audit.validate.where import where_sql

# The moment a date is in the future from: the moment the query runs.
NOW = "current_localtimestamp()"

# Expectation type (as a suite names it) -> its condition, whose parameters are the entry's keyword arguments.
ROW_CONDITIONS: dict[str, Callable[..., str]] = {}


def _of(kind: str) -> Callable[[Callable[..., str]], Callable[..., str]]:
    def register(condition: Callable[..., str]) -> Callable[..., str]:
        ROW_CONDITIONS[kind] = condition
        return condition
    return register


@_of("expect_column_values_to_be_safe_in_spreadsheets")
def _spreadsheet_safe(column: str) -> str:
    return formula_start_sql(ident(column))


@_of("expect_column_values_to_be_present")
def _present(column: str) -> str:
    return f"{ident(column)} IS NULL"


@_of("expect_column_values_to_be_in_range")
def _in_range(column: str, min_value: Any = None, max_value: Any = None, strict_min: bool = False,
              strict_max: bool = False) -> str:
    c = ident(column)
    tests = []
    if min_value is not None:
        tests.append(f"{c} {'<=' if strict_min else '<'} {sql_value(min_value)}")
    if max_value is not None:
        tests.append(f"{c} {'>=' if strict_max else '>'} {sql_value(max_value)}")
    return f"{c} IS NOT NULL AND ({' OR '.join(tests) or 'false'})"


@_of("expect_column_values_to_be_in_value_set")
def _in_value_set(column: str, value_set: list) -> str:
    c = ident(column)
    return f"{c} IS NOT NULL AND {c} NOT IN ({', '.join(sql_value(v) for v in value_set) or 'NULL'})"


@_of("expect_column_values_to_match_pattern")
def _matches_pattern(column: str, regex: str) -> str:
    c = ident(column)
    return f"{c} IS NOT NULL AND NOT regexp_matches(CAST({c} AS VARCHAR), {literal(regex)})"


@_of("expect_column_values_to_equal_sum_of_columns")
def _equals_sum_of_columns(column: str, parts: list[str]) -> str:
    # A row with a part missing fails too: it is reported as a sum that cannot be checked (category-sum-incomplete).
    cells = [ident(c) for c in (column, *parts)]
    known_sum = " + ".join(f"coalesce({p}, 0)" for p in cells[1:])
    some_missing = " OR ".join(f"{c} IS NULL" for c in cells)
    all_missing = " AND ".join(f"{c} IS NULL" for c in cells)
    return f"NOT ({all_missing}) AND (({some_missing}) OR {cells[0]} <> ({known_sum}))"


@_of("expect_months_reported_to_be_complete")
def _months_complete(column: str, full: int = 12) -> str:
    return f"{ident(column)} < {int(full)}"


@_of("expect_dates_to_be_within_coverage")
def _within_coverage(column: str, start: str | None = None) -> str:
    # A pass runs at an earlier moment than the check's own query: a row in the future then is in the future at the
    # query too, so the pass keeps every row the query returns.
    when = f"CAST({ident(column)} AS TIMESTAMP)"
    first = f"CAST({literal(start)} AS TIMESTAMP)" if start else "NULL"
    return f"{when} > {NOW} OR {when} < {first}"


@_of("expect_coordinates_to_be_in_bounding_box")
def _in_bounding_box(latitude: str, longitude: str, bbox: list[float]) -> str:
    west, south, east, north = (float(v) for v in bbox)
    lat, lon = ident(latitude), ident(longitude)
    return (f"{lat} IS NOT NULL AND {lon} IS NOT NULL "
            f"AND NOT ({lat} BETWEEN {south!r} AND {north!r} AND {lon} BETWEEN {west!r} AND {east!r})")


@_of("expect_column_values_to_have_a_category")
def _has_a_category(column: str, mapping: dict[str, str]) -> str:
    c = ident(column)
    codes = ", ".join(literal(str(code)) for code in mapping) or "NULL"
    return f"{c} IS NOT NULL AND CAST({c} AS VARCHAR) NOT IN ({codes})"


def arguments(kind: str) -> list[str]:
    """The keyword arguments the condition of `kind` reads ([] for a check with none)."""
    condition = ROW_CONDITIONS.get(kind)
    return list(inspect.signature(condition).parameters) if condition else []


def failing_condition(kind: str, kwargs: Mapping[str, Any]) -> str | None:
    """The SQL condition over one row under which a check of type `kind` with the keyword arguments `kwargs` fails
    it (arguments it does not read are left aside); None for a check that reads several rows at once (a key, a
    series, a total). Raises TypeError or ValueError for arguments the check cannot be built from."""
    condition = ROW_CONDITIONS.get(kind)
    if condition is None:
        return None
    return condition(**{name: kwargs[name] for name in arguments(kind) if name in kwargs})


def within(where: list[dict[str, Any]] | None, condition: str) -> str:
    """`condition` within the rows a `where` list selects (audit.validate.where)."""
    return condition if not where else f"({where_sql(where)}) AND ({condition})"


def entry_condition(entry: Mapping[str, Any]) -> str | None:
    """The condition under which the check a suite entry (as written) describes fails a row of the batch, within its
    `where`; None for a check that reads several rows at once."""
    kwargs = entry.get("kwargs") or {}
    condition = failing_condition(str(entry.get("type")), kwargs)
    return None if condition is None else within(kwargs.get("where"), condition)


def any_failing(conditions: list[str]) -> str:
    """The one pass's condition: a row some check fails. A condition is NULL where a column is: OR keeps a row some
    check is true on, as each check's WHERE does."""
    return " OR ".join(f"({c})" for c in conditions)
