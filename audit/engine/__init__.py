"""Where the work over whole releases runs: the suite's checks and the diff's passes, on DuckDB (the command's
working database itself) or on Apache Spark, behind one interface.

A command chooses its engine once (`choose`: --engine, else audit.yaml's `engine:`, else duckdb) and passes the
object down; nothing about the engine is kept in module state. Each engine says what it gives a check beyond SQL
over the release (`Need`); an expectation declares what it needs, and runs on DuckDB where the chosen engine
lacks it (the report says which ran where).

    Engine.batch(...)      the release as a GX batch on this engine, for a suite to validate
    Engine.holding(...)    while a block runs, the release kept at hand for the suite's passes
    Engine.readable(...)   while a block runs, the tables the engine reads (Spark: from Parquet files)
    Engine.scan(...)       the diff's passes over two whole releases (audit.engine.scan)
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager, nullcontext
from enum import Enum
from pathlib import Path
from typing import Any, ContextManager, Iterator

import duckdb

from audit.errors import ConfigError
from audit.sql import ident

NAMES = ("duckdb", "spark")


class Need(Enum):
    """What a check may need beyond SQL over the release; the value says why an engine without it cannot run it."""

    DUCKDB_TABLES = "reads a table the diff leaves in DuckDB"
    ONE_CLOCK = "reads the current date, which each engine takes at its own moment"
    PYTHON_OVER_ROWS = "its test runs in Python over the rows its query returns"

    @property
    def reads_release(self) -> bool:
        """Whether a check with this need reads the release's rows on DuckDB (a table the diff leaves there is
        the diff's, not the release's): such a check cannot run where the release lies beyond DuckDB's reach."""
        return self is not Need.DUCKDB_TABLES


class SharedPass(Enum):
    """Checks that can share one pass over the release (audit.validate.fused), where the engine finds it faster."""

    ROW_CHECKS = "the checks that judge each row on its own"
    KEY_CHECKS = "the checks of one key"


class Engine:
    """DuckDB: the command's working database runs everything, so it gives every need."""

    name = "duckdb"
    gives: frozenset[Need] = frozenset(Need)
    # Whether a release that arrived as Parquet stays a view over its files, read where it lies, rather than a
    # table of the working database, when it is recorded too (`ingest`): Spark reads the files itself, so the driver
    # never holds the rows; DuckDB reads them once, so what is recorded is what was checked. (`check` records
    # nothing and always reads a Parquet release where it lies.)
    parquet_in_place = False

    def cannot_run(self, needs: frozenset[Need]) -> str:
        """Why a check with `needs` does not run on this engine ("" when it does)."""
        return "; ".join(n.value for n in Need if n in needs and n not in self.gives)

    def start(self) -> None:
        """Make ready what this engine's first query would otherwise wait for. DuckDB: the working database is it."""

    def in_place(self, table: str) -> bool:
        """Whether this engine reads `table` where it lies, beyond the working database (which holds only an empty
        table of its columns): a check that needs DuckDB's rows of it cannot run (audit.ingest.in_place)."""
        return False

    def holding(self, con: duckdb.DuckDBPyConnection, table: str) -> ContextManager[None]:
        """While the block runs, `table`'s rows are kept at hand for the several passes a suite makes over them. DuckDB
        holds them already."""
        return nullcontext()

    def readable(self, con: duckdb.DuckDBPyConnection, tables: dict[str, Path | None]) -> ContextManager[None]:
        """While the block runs, this engine reads `tables` (SQL naming DuckDB tables, each with the Parquet file
        that already holds its rows, if one does). DuckDB reads them where they are."""
        return nullcontext()

    @contextmanager
    def batch(self, context, con: duckdb.DuckDBPyConnection, table: str, also: set[str]) -> Iterator[Any]:
        """`table` as a GX batch of `context` on this engine, with the tables in `also` (a reconciliation's
        summary) readable by the same name."""
        from audit.engine.gx_duckdb import add_duckdb_datasource

        datasource = add_duckdb_datasource(context, f"audit-{id(con)}-{table}", con)
        try:
            yield datasource.add_table_asset(table, table_name=table).add_batch_definition_whole_table("all").get_batch()
        finally:
            datasource.get_engine().dispose()

    def reads_files(self, con: duckdb.DuckDBPyConnection, table: str) -> bool:
        """Whether each query over `table` reads its rows from files again (a view over a Parquet release), rather
        than from a table the working database holds."""
        return bool(con.execute("SELECT 1 FROM duckdb_views() WHERE view_name = ?", [table]).fetchall())

    def shares_pass(self, kind: SharedPass, con: duckdb.DuckDBPyConnection, table: str) -> bool:
        """Whether the checks of `kind` (audit.validate.fused) run faster over `table` sharing one pass than one by
        one. On DuckDB the key's checks always do (one grouping by a number, not two by text); the row checks
        where DuckDB reads the rows from files on every query: over a table it holds, each check alone skips the
        row groups it cannot fail (10M clean rows: 0.9 s one by one, 1.8 s in one pass)."""
        return kind is not SharedPass.ROW_CHECKS or self.reads_files(con, table)

    @contextmanager
    def rows_kept(self, con: duckdb.DuckDBPyConnection, table: str, condition: str) -> Iterator[str]:
        """While the block runs, the rows of `table` where `condition` (DuckDB SQL over one row) holds, in the table's
        order, kept where this engine reads them; yields the SQL that names them (audit.validate.fused)."""
        name = ident(f"__audit_rows_{secrets.token_hex(6)}")
        # A table of the database, not a temporary one: GX reads through cursors, each a connection of its own.
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {ident(table)} WHERE {condition}")
        try:
            yield name
        finally:
            con.execute(f"DROP TABLE IF EXISTS {name}")

    def fetch(self, con: duckdb.DuckDBPyConnection, table: str, query: str) -> list[tuple[Any, ...]]:
        """The rows of `query` (DuckDB's SQL, reading `table` by that name), run where this engine reads `table`: a
        summary of its rows, which is all that is brought back."""
        return con.execute(query).fetchall()

    def scan(self, con: duckdb.DuckDBPyConnection, old: str, new: str):
        from audit.engine.scan import DuckDBScan

        return DuckDBScan(con, old, new)


DUCKDB = Engine()


def choose(requested: str | None, config: dict[str, Any], config_path: Path) -> Engine:
    """The engine a command runs on: `requested` (--engine), else the settings' `engine:`, else DuckDB; checked that
    it can run, with the settings' `spark:` section for Spark (master or remote, configuration, staging folder)."""
    name = requested or config.get("engine") or "duckdb"
    if name not in NAMES:
        raise ConfigError(f"the engine is duckdb or spark, not {name!r}")
    if name == "duckdb":
        return DUCKDB
    import importlib.util

    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("sqlglot") is None:
        raise ConfigError("--engine spark needs pyspark and sqlglot: pip install 'crime-data-audit[spark]' "
                          "(and Java 17 for Spark itself)")
    from audit.engine.spark import SparkEngine

    return SparkEngine.from_settings(dict(config.get("spark") or {}), config_path)
