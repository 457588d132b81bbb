"""Which line of a text release each finding's row was read from, for annotations a reviewer can click (GitHub's
`line=`). Only where it is sure: the file's rows are its lines (audit.ingest.read.RawTable.rows_are_lines), and the
finding's key is the dataset's primary key, which names one row; otherwise a finding has no line, rather than one
that may be wrong."""

from __future__ import annotations

import dataclasses

import duckdb

from audit.findings import Finding
from audit.sql import ident


def with_lines(con: duckdb.DuckDBPyConnection, table: str, lines: str, primary_key: list[str],
               findings: list[Finding]) -> list[Finding]:
    """`findings`, each about a row of `table` (by `primary_key`) given the line of that row in `lines` (a table of
    line numbers in `table`'s row order). `lines` is then dropped: this is its only use, and what follows (the
    recording of a large release) has its memory, a number per row."""
    try:
        return _with_lines(con, table, lines, primary_key, findings)
    finally:
        con.execute(f"DROP TABLE {ident(lines)}")


def _with_lines(con: duckdb.DuckDBPyConnection, table: str, lines: str, primary_key: list[str],
                findings: list[Finding]) -> list[Finding]:
    about_rows = [i for i, f in enumerate(findings) if primary_key and sorted(f.key) == sorted(primary_key)]
    if not about_rows:
        return findings
    # Imported here: every command imports this module on its way to reading a file, and pandas (0.37 s) is
    # imported with Great Expectations in the background thread meanwhile (audit.validate.import_in_background).
    import pandas as pd

    # Keys compared as DuckDB writes the values: a finding's key holds them as plain JSON values.
    keys = pd.DataFrame({"__i": about_rows, **{f"__k{n}": [_text(findings[i].key[c]) for i in about_rows]
                                              for n, c in enumerate(primary_key)}})
    same = " AND ".join(f"CAST(r.{ident(c)} AS VARCHAR) IS NOT DISTINCT FROM k.__k{n}"
                        for n, c in enumerate(primary_key))
    con.register("__audit_finding_keys", keys)
    try:
        found = dict(con.execute(
            f"SELECT k.__i, min(l.line) FROM __audit_finding_keys k "
            f"JOIN (SELECT rowid AS __r, * FROM {ident(table)}) r ON {same} "
            f"JOIN (SELECT rowid AS __r, line FROM {ident(lines)}) l ON l.__r = r.__r GROUP BY k.__i").fetchall())
    finally:
        con.unregister("__audit_finding_keys")
    return [dataclasses.replace(f, line=int(found[i])) if i in found else f for i, f in enumerate(findings)]


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
