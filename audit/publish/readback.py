"""A published data file read back as the rows it holds, and held to the release's recorded digest.

The one authority for what a package's data must be is the digest the log recorded with the release (its rows as
stored, audit.log.digest), never the stored copy as it lies on disk now: a copy swapped between two reads, or a
publisher patched to write another figure, gives a file whose rows do not match it. `audit publish` checks the file
it wrote before anything is recorded; `audit verify` checks every package's file, for the office (the release from
its log) and for an outsider (the release entry in the package's own extract).

The file is read with the release's own field types, and the one change publishing makes to a text cell is undone:
a cell that would start like a formula carries a leading ' (audit.formulas); the ' is removed again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from audit.formulas import undefused_sql
from audit.sql import ident, literal

VIEW = "__published_rows"
READ_AHEAD = "100MiB"  # how much of the read-back DuckDB may have ready before the digest takes it


def published_rows_digest(con: duckdb.DuckDBPyConnection, path: Path, fields: list[dict[str, Any]],
                          duckdb_types: dict[str, str]) -> str:
    """The digest (audit.log.digest) of the rows in the CSV at `path`, read with the fields' types, published text
    changes undone."""
    from audit.log.digest import table_digest

    types = "{" + ", ".join(f"{literal(f['name'])}: {literal(duckdb_types[f['name']])}" for f in fields) + "}"
    columns = ", ".join(f"{undefused_sql(ident(f['name']))} AS {ident(f['name'])}"
                        if duckdb_types[f["name"]] == "VARCHAR" else ident(f["name"]) for f in fields)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {VIEW} AS SELECT {columns} FROM read_csv({literal(str(path))}, "
                f"header = true, delim = ',', quote = '\"', escape = '\"', columns = {types}, auto_detect = false, "
                f"allow_quoted_nulls = false)")
    # The digest takes the rows as they come, in one thread. With DuckDB's 10 MiB of rows ready for it, DuckDB's
    # threads parsing the text stopped each time it was full; with 100 MiB, a 10M-row file's read-back took 3.5 s
    # in four runs, against 3.7-4.6 s.
    con.execute(f"SET streaming_buffer_size = '{READ_AHEAD}'")
    try:
        return table_digest(con, VIEW)
    finally:
        con.execute("RESET streaming_buffer_size")
        con.execute(f"DROP VIEW IF EXISTS {VIEW}")


def data_problem(con: duckdb.DuckDBPyConnection, path: Path, definition: dict[str, Any], recorded: str) -> str | None:
    """Why the data file at `path` is not the release recorded with `definition` and digest `recorded` (None when
    it is)."""
    from audit.dataset import Dataset

    dataset = Dataset("published", Path("(recorded)"), Path(""), definition)
    fields = [{"name": f.name} for f in dataset.fields]
    try:
        found = published_rows_digest(con, path, fields, {f.name: f.duckdb_type for f in dataset.fields})
    except duckdb.Error as exc:
        return f"its data file cannot be read as the release's fields ({' '.join(str(exc).split())[:200]})"
    if found != recorded:
        return ("its data file's rows are not the release's recorded rows (their digest differs from the one the log "
                "recorded with the release): a figure was changed, added or removed after it was recorded")
    return None
