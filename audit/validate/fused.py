"""Checks that share one pass over the release: those that judge each row on its own, and those of one key.

Not-null, in-set, in-range, patterns, formulas, coordinates, codes, sums of a row's columns: each is a condition
over one row (audit.validate.conditions). Run one by one, each is a scan of every row; where the
release is read from its files on every query (a Parquet release `check` reads where it lies), each scan is a read
of the files. Here one pass keeps the rows that fail any of them (the conditions joined by OR), in the batch's
order (`Engine.rows_kept`); each check then runs its own query over those few rows (`FUSED_ROWS` in its meta).

The key's checks (a repeated key, a key written two ways) can fail only on rows whose key, folded to small letters
and single spaces, occurs more than once (`RowCheckExpectation.repeated_key`). Each grouped every row of the release
by its key, as text; one grouping by a number (the folded key's hash) now keeps the rows whose key may repeat, and
each runs over those. A hash shared by two keys only keeps more rows.

A check's rows are a subset of those kept, in the batch's order, so every check returns the rows, counts and bound it
returns over the whole batch: the findings do not change, only the number of scans. (Spark's pass keeps them in
another order; only the key's checks share one there, and each orders its findings by the key.) Where one by one is
faster (the row checks over a table DuckDB holds in memory, and on Spark; every check of a release Spark reads where
it lies), the engine says so (`Engine.shares_pass`).
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import Any, Iterator

import duckdb

from audit.engine import Engine, SharedPass
from audit.validate.conditions import any_failing
from audit.validate.expectations import RowCheckExpectation
from audit.validate.expectations.base import FUSED_ROWS
from audit.validate.keys import repeats_sql


def fusable(expectation: Any) -> str | None:
    """The condition under which `expectation` (a built GX expectation) fails a row, if it judges each row on its
    own; else None."""
    return expectation.fused_condition() if isinstance(expectation, RowCheckExpectation) else None


def passes(expectations: list[Any], table: str) -> list[tuple[SharedPass, str, list[int]]]:
    """(kind, condition, the expectations by index) of each pass two or more of `expectations` can share."""
    rows = {i: c for i, c in ((i, fusable(e)) for i, e in enumerate(expectations)) if c is not None}
    found = [(SharedPass.ROW_CHECKS, any_failing(list(rows.values())), list(rows))]
    keys: dict[str, list[int]] = {}
    for i, e in enumerate(expectations):
        columns = e.repeated_key() if isinstance(e, RowCheckExpectation) else None
        if columns:
            keys.setdefault(repeats_sql(columns, table), []).append(i)
    found += [(SharedPass.KEY_CHECKS, condition, members) for condition, members in keys.items()]
    return [p for p in found if len(p[2]) >= 2]  # one check alone is one scan already


@contextmanager
def fused(engine: Engine, con: duckdb.DuckDBPyConnection, table: str, expectations: list[Any],
          ready: dict[str, str] | None = None) -> Iterator[list[dict[str, Any]]]:
    """While the block runs, the configurations of `expectations` to validate on `engine`, those that share a pass
    reading the rows it kept; `ready` holds passes already run, by condition (audit.validate.ahead)."""
    configs = [e.configuration.to_json_dict() for e in expectations]
    with ExitStack() as stack:
        for kind, condition, members in passes(expectations, table):
            if not engine.shares_pass(kind, con, table):
                continue
            try:
                rows = (ready or {}).get(condition) or stack.enter_context(engine.rows_kept(con, table, condition))
            except Exception:  # noqa: BLE001 -- each engine raises its own errors
                # A check that cannot run on this release (a bound of the wrong type for its column) stops the
                # pass: its checks then run alone, and the one that cannot run is named by its own error.
                continue
            for i in members:
                configs[i]["meta"] = {**(configs[i].get("meta") or {}), FUSED_ROWS: rows}
        yield configs


def forget_fused(results: list[Any]) -> None:
    """The results' configurations without the name of the rows the pass kept (gone after the run; a report or
    a published Data Docs page would show a name that means nothing)."""
    for result in results:
        meta = result.expectation_config.meta
        if meta:
            meta.pop(FUSED_ROWS, None)
