"""The passes the checks share (audit.validate.fused), run from the suite's entries as written, before Great
Expectations is imported.

A command imports GX in the background while it reads its release (audit.validate.import_in_background). The
passes are DuckDB's work, with the GIL let go, so they run while that import ends (10M rows: a key pass of 1.9 s and
a row pass of 1.2 s, an import of 3.1-3.5 s). Their conditions are built here from the entries, without GX's classes,
by the same functions the checks' own classes call (audit.validate.conditions, audit.validate.keys). A pass's rows
are then read only by checks whose condition, built from GX's classes, is the very same string (`fused`): a guess
that differs costs its pass, never a finding.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import Any, Iterator

import duckdb

from audit.engine import Engine, SharedPass
from audit.validate.conditions import any_failing, entry_condition
from audit.validate.keys import repeats_sql, shared_keys


def row_pass_condition(entries: list[dict[str, Any]], absent: frozenset[str] = frozenset()) -> str | None:
    """The condition of the pass the suite's row checks will share, as `fused` will build it; None when it cannot
    be told from the entries or no two checks share it."""
    if absent:  # the suite leaves out the checks that read an absent field, so its pass would be another
        return None
    try:
        found = [c for c in map(entry_condition, entries) if c is not None]
    except Exception:  # noqa: BLE001 -- an entry GX cannot build is reported, by its place, when the suite is built
        return None
    return any_failing(found) if len(found) >= 2 else None


def conditions_ahead(entries: list[dict[str, Any]], table: str, absent: frozenset[str] = frozenset()
                     ) -> list[tuple[SharedPass, str]]:
    """(kind, condition) of each pass the suite's checks may share over `table`, told from the entries alone."""
    row = row_pass_condition(entries, absent)
    keys = [(SharedPass.KEY_CHECKS, repeats_sql(columns, table)) for columns in shared_keys(entries)]
    return ([(SharedPass.ROW_CHECKS, row)] if row else []) + keys


@contextmanager
def passes_ahead(engine: Engine, con: duckdb.DuckDBPyConnection, table: str, entries: list[dict[str, Any]],
                 absent: frozenset[str] = frozenset()) -> Iterator[dict[str, str]]:
    """While the block runs, {condition: the rows it kept} of each pass `conditions_ahead` finds and `engine` shares,
    run now, before the checks are built; audit.validate.fused uses such rows for a pass whose condition is the
    same, and no other."""
    ready: dict[str, str] = {}
    with ExitStack() as stack:
        for kind, condition in conditions_ahead(entries, table, absent):
            if not engine.shares_pass(kind, con, table):
                continue
            try:
                ready[condition] = stack.enter_context(engine.rows_kept(con, table, condition))
            except Exception:  # noqa: BLE001 -- each engine raises its own errors; a column the release lacks, a
                continue      # bound of the wrong type: the checks name it
        yield ready
