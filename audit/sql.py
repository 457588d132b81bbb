"""Quoting for the SQL we build (every identifier and literal from a descriptor or path goes through here),
and running a DuckDB query alongside Python work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import duckdb

T = TypeVar("T")


def one_row(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> tuple[Any, ...]:
    """The row a query that always returns one (an aggregate, a count) returns."""
    row = con.execute(sql, params).fetchone() if params is not None else con.execute(sql).fetchone()
    if row is None:
        raise ValueError(f"no row from a query that always returns one: {sql[:200]}")
    return row


@contextmanager
def alongside(con: duckdb.DuckDBPyConnection, work: Callable[[duckdb.DuckDBPyConnection], T]) -> Iterator[Future[T]]:
    """Run `work` on a cursor of `con` in a thread while the body runs; yield its future.

    DuckDB lets go of the GIL while it executes, so a long query (a digest, a COPY) and the
    body's Python (JSON, CSV, hashing) share the machine's cores instead of taking turns.
    Leaving the block waits for `work`, even when the body raises.
    """
    with ThreadPoolExecutor(1) as pool:
        cursor = con.cursor()
        try:
            yield pool.submit(work, cursor)
        finally:
            pool.shutdown(wait=True)
            cursor.close()


def ident(name: str) -> str:
    """A quoted SQL identifier; an embedded double quote is doubled."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A quoted SQL string literal; an embedded single quote is doubled."""
    return "'" + text.replace("'", "''") + "'"


def value(v: object) -> str:
    """A SQL literal for a scalar from a YAML file: numbers as numbers, text quoted."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        return repr(v)
    return literal(str(v))


# Periods an incident date is counted by (reconciliation, reclassification summaries).
GRAINS = ("year", "quarter", "month", "week", "day")


def period_sql(column: str, grain: str) -> str:
    """An incident date's period: the year as an integer, or the first day of the quarter/month/week/day."""
    if grain == "year":
        return f"year({column})"
    return f"CAST(date_trunc({literal(grain)}, {column}) AS DATE)"
