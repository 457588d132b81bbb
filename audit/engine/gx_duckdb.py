"""Great Expectations inside DuckDB: our one adapter over a known upstream bug.

GX's SQL datasource over duckdb-engine fails every expectation with IndexError
in `resolve_metric_bundle` (GX issues 10738, 11579): `execute_query` hands the
connection back to the pool before the caller fetches, and DuckDB drops the
pending result with it. `DuckDBExecutionEngine` buffers the result
(SQLAlchemy's `Result.freeze()`) while the connection is still held.

`AuditDuckDBDatasource` is a GX SQL datasource that uses that engine and
reaches our own in-process DuckDB database through `cursor()` connections,
so the data GX checks is the data we loaded, with no copy and no pandas.

Tested with great-expectations 1.24.x (pinned in pyproject.toml);
tests/test_gx_duckdb.py fails if an upgrade breaks either part.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Literal, Type

# GX would otherwise try to send usage statistics over a network we may not have.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

from great_expectations.datasource.fluent import SQLDatasource  # noqa: E402
from great_expectations.execution_engine import SqlAlchemyExecutionEngine  # noqa: E402

if TYPE_CHECKING:
    import duckdb
    import sqlalchemy


class DuckDBExecutionEngine(SqlAlchemyExecutionEngine):
    """SqlAlchemyExecutionEngine whose query results survive the connection's return."""

    def execute_query(self, query: "sqlalchemy.Selectable | sqlalchemy.TextClause") -> "sqlalchemy.Result":
        with self.get_connection() as connection:
            frozen = self._execute_query_with_recovery(connection, query).freeze()
        return frozen()


class AuditDuckDBDatasource(SQLDatasource):
    """A GX SQL datasource over an in-process DuckDB connection (`add_audit_duckdb`)."""

    type: Literal["audit_duckdb"] = "audit_duckdb"  # type: ignore[assignment]  # GX's own subclasses do the same

    @property
    def execution_engine_type(self) -> Type[SqlAlchemyExecutionEngine]:
        return DuckDBExecutionEngine


def exit_skipping_teardown(code: int) -> None:
    """Exit with `code` once output is flushed, skipping interpreter teardown.

    After GX has reflected a DuckDB table, teardown makes nanobind (DuckDB's binding
    layer) print a long, benign "leaked instance" report for DuckDB type objects still
    referenced when its module is freed. Callers close every connection and file first.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None when the command was started with the stream closed
                stream.flush()
        except (BrokenPipeError, ValueError):  # its reader went away, or it was closed: nothing more to say
            pass
    os._exit(code)


def add_duckdb_datasource(context, name: str, con: "duckdb.DuckDBPyConnection") -> AuditDuckDBDatasource:
    """Register a datasource on `context` whose every connection is a cursor of `con`."""
    import weakref

    from duckdb_engine import ConnectionWrapper

    # GX keeps the context (and so this datasource) in a module-level project manager;
    # a weak reference lets `con` close and be freed when its owner is done with it.
    owner = weakref.ref(con)

    def connect() -> ConnectionWrapper:
        live = owner()
        if live is None:
            raise RuntimeError("the DuckDB connection behind this GX datasource was closed")
        return ConnectionWrapper(live.cursor())

    return context.data_sources.add_audit_duckdb(
        name, connection_string="duckdb:///:memory:", kwargs={"creator": connect}
    )
