"""The checks that judge each row on its own, run as one pass over the release.

Not-null, in-set, in-range, patterns, formulas, coordinates, codes, sums of a row's columns: each is a condition
over one row (`RowCheckExpectation.failing_condition`). Run one by one, each is a scan of every row; where the
release is read from its files on every query (a Parquet release `check` reads where it lies), each scan is a read
of the files. Here one pass keeps the rows that fail any of them (the conditions joined by OR), in the batch's
order (`Engine.rows_kept`); each check then runs its own query over those few rows (`FUSED_ROWS` in its meta). A
row a check fails is a row the pass kept, so every check returns the rows, counts and bound it returns over the
whole batch: the findings do not change, only the number of scans. Where one by one is faster (a table DuckDB holds
in memory; Spark), the engine says so and they run one by one (`Engine.fuses_row_checks`).
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import Any, Iterator

import duckdb

from audit.engine import Engine
from audit.validate.expectations import RowCheckExpectation
from audit.validate.expectations.base import FUSED_ROWS


def fusable(expectation: Any) -> str | None:
    """The condition under which `expectation` (a built GX expectation) fails a row, if it judges each row on its
    own; else None."""
    return expectation.fused_condition() if isinstance(expectation, RowCheckExpectation) else None


@contextmanager
def fused(engine: Engine, con: duckdb.DuckDBPyConnection, table: str, expectations: list[Any]
          ) -> Iterator[list[dict[str, Any]]]:
    """While the block runs, the configurations of `expectations` to validate on `engine`: those that judge each
    row on its own, when there are two or more, read the rows one pass over `table` kept for them all."""
    conditions = {i: c for i, c in ((i, fusable(e)) for i, e in enumerate(expectations)) if c is not None}
    configs = [e.configuration.to_json_dict() for e in expectations]
    # One check alone is one scan already; where one by one is faster, they run one by one (the engine says).
    if len(conditions) < 2 or not engine.fuses_row_checks(con, table):
        yield configs
        return
    # A condition is NULL where a column is: OR keeps a row some check is true on, as each check's WHERE does.
    any_fails = " OR ".join(f"({c})" for c in conditions.values())
    with ExitStack() as stack:
        try:
            rows = stack.enter_context(engine.rows_kept(con, table, any_fails))
        except Exception:  # noqa: BLE001 -- each engine raises its own errors
            # A check that cannot run on this release (a bound of the wrong type for its column) stops the pass
            # for all: each then runs alone, and the one that cannot run is named by its own error.
            yield configs
            return
        for i in conditions:
            configs[i]["meta"] = {**(configs[i].get("meta") or {}), FUSED_ROWS: rows}
        yield configs


def forget_fused(results: list[Any]) -> None:
    """The results' configurations without the name of the rows the pass kept (gone after the run; a report or
    a published Data Docs page would show a name that means nothing)."""
    for result in results:
        meta = result.expectation_config.meta
        if meta:
            meta.pop(FUSED_ROWS, None)
