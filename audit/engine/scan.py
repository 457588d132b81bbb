"""The diff's passes over whole releases, on each engine: in the working DuckDB database, or on Spark.

Four passes read every row of both releases: whether a key repeats, setting identical rows aside, the outer
join that keeps only the rows that differ, and the format-change test. They run on the engine. What comes back
to DuckDB is only the rows that differ (`diff_rows`); pairing, relabelling, notes and the reclassification
summary run over that, in DuckDB, at the size of the changes rather than the releases.

The passes are written once, in DuckDB's SQL, portably where the engines differ (a sample is the one clause
they do not share), and translated for Spark in one place (audit.engine.dialect). Each release carries its
stored order as a column (POSITION), so rows that repeat a key are matched in the same order on both engines.
"""

from __future__ import annotations

from typing import Any

import duckdb

from audit.engine.parquet import stored_order
from audit.sql import ident, one_row

POSITION = "__audit_position"


class DuckDBScan:
    """The passes on the working DuckDB database itself."""

    def __init__(self, con: duckdb.DuckDBPyConnection, old: str, new: str) -> None:
        self.con = con
        self.duckdb_tables = (old, new)  # where the columns' types are read
        self._kept: set[str] = set()
        self._held: list[str] = []
        self.old, self.new = self._numbered(old), self._numbered(new)

    def _numbered(self, table: str) -> str:
        """`table`, or for a view over a release's files (which numbers no row) a table of its rows, whose rowid
        is then their stored order: rows that repeat a key are paired in that order."""
        from audit.engine import DUCKDB

        if not DUCKDB.reads_files(self.con, table):
            return table
        held = f"{table}__held"
        # The rows in the files' order: DuckDB reads a list of files in order and preserves insertion order.
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {ident(held)} AS SELECT * FROM {ident(table)}")
        self._held.append(held)
        return ident(held)

    def position(self, table: str) -> str:
        return POSITION if table in self._kept else stored_order(table)

    def value(self, sql: str) -> tuple[Any, ...]:
        return one_row(self.con, sql)

    def keep(self, name: str, sql: str) -> None:
        """An intermediate table for later passes (with its own POSITION column)."""
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {ident(name)} AS {sql}")
        self._kept.add(name)

    def to_duckdb(self, name: str, sql: str, order: str) -> None:
        """A result, as a table of the working database, its rows in `order`."""
        self.con.execute(f"CREATE OR REPLACE TABLE {ident(name)} AS SELECT * FROM ({sql}) ORDER BY {order}")

    @staticmethod
    def sample(rows: int) -> str:
        return f"USING SAMPLE reservoir({rows} ROWS) REPEATABLE (7)"

    def close(self) -> None:
        for name in [*self._kept, *self._held]:
            self.con.execute(f"DROP TABLE IF EXISTS {ident(name)}")


class SparkScan:
    """The passes on Spark: both releases read by Spark with their stored order (SparkEngine.frame),
    each pass's SQL translated, and `diff_rows` brought back through Arrow."""

    def __init__(self, engine, con: duckdb.DuckDBPyConnection, old: str, new: str) -> None:
        self.con, self.spark = con, engine.session()
        self.duckdb_tables = (old, new)  # where the columns' types are read
        self.old, self.new = "__audit_old", "__audit_new"
        self._frames: list[Any] = []
        for table, name in ((old, self.old), (new, self.new)):
            self._view(name, engine.frame(con, table, POSITION))

    def _view(self, name: str, frame) -> None:
        # Cached: each pass is its own Spark job, and the releases and the rows set aside are read by several.
        frame = frame.cache()
        frame.createOrReplaceTempView(name)
        self._frames.append(frame)

    def _sql(self, sql: str):
        from audit.engine.dialect import spark_sql

        return self.spark.sql(spark_sql(sql))

    def position(self, table: str) -> str:
        return POSITION

    def value(self, sql: str) -> tuple[Any, ...]:
        return tuple(self._sql(sql).collect()[0])

    def keep(self, name: str, sql: str) -> None:
        self._view(name, self._sql(sql))

    def to_duckdb(self, name: str, sql: str, order: str) -> None:
        arrow = self._sql(sql).toArrow()
        self.con.register("__audit_from_spark", arrow)
        try:
            self.con.execute(f"CREATE OR REPLACE TABLE {ident(name)} AS SELECT * FROM __audit_from_spark ORDER BY {order}")
        finally:
            self.con.unregister("__audit_from_spark")

    @staticmethod
    def sample(rows: int) -> str:
        # Spark samples rows only as the first n. Any sample serves: a form the samples share is shared.
        return f"LIMIT {rows}"

    def close(self) -> None:
        for frame in self._frames:
            frame.unpersist()
        for name in self.spark.catalog.listTables():
            if name.isTemporary and name.name.startswith("__audit"):
                self.spark.catalog.dropTempView(name.name)


Scan = DuckDBScan | SparkScan
