"""A table as one Parquet file: how it is written, read where it lies, and numbered in stored order.

One set of conventions for every such file: a release the log keeps beside it (audit.log.copies), and a
release staged for Spark to read (audit.engine.spark).
"""

from __future__ import annotations

from pathlib import Path

from audit.sql import literal

READ = "read_parquet("


def as_sql(path: Path) -> str:
    """SQL that reads a file's rows, in their stored order, where it lies."""
    return f"{READ}{literal(str(path))})"


def write(con, table: str, path: Path) -> None:
    """Write the rows of `table` (SQL that names it) to one Parquet file at `path`, streaming, in their order."""
    con.execute(f"COPY (SELECT * FROM {table}) TO {literal(str(path))} (FORMAT parquet, COMPRESSION zstd)")


def stored_order(table: str) -> str:
    """The column that numbers a stored table's rows in stored order: DuckDB's rowid, or for a file (SQL from
    `as_sql`) its row number in the file."""
    return "file_row_number" if table.startswith(READ) else "rowid"
