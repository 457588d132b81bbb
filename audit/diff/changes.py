"""Each change between two releases as one record: one shape for the log, `audit diff` and `revisions.csv`.

A record is {key, change, column, old, new, note_id}: `key` maps primary-key
columns to values ({} for a change to the table's columns), `old` and `new` are
typed values (None where a row or column did not exist). `change_id` names one
change the same way wherever a finding or waiver has to be matched to it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import IO, Any

import duckdb

from audit.diff.compare import REVISIONS
from audit.sql import ident

# Records fetched per batch by `revision_records`.
RECORD_BATCH = 10_000

# Columns of the revisions CSV after the key columns.
CSV_COLUMNS = ("change", "column", "old", "new", "note", "reason", "reference", "approved_by")


def revision_records(con: duckdb.DuckDBPyConnection, key: list[str],
                     table: str = REVISIONS) -> Iterator[dict[str, Any]]:
    """Every row of a diff's revisions table (`Revisions.tables.revisions`), in its order, fetched a batch at a
    time: a large revision (hundreds of thousands of changes) is recorded as it is read, never held whole as
    records, which take several times the memory of the rows."""
    keys = ", ".join(ident(k) for k in key)
    cursor = con.cursor()  # its own, so a caller may query `con` while the records are still being read
    try:
        cursor.execute(f'SELECT {keys}, change, "column", old, new, note FROM {ident(table)}')
        while rows := cursor.fetchmany(RECORD_BATCH):
            for row in rows:
                values, (change, column, old, new, note) = row[: len(key)], row[len(key):]
                is_table = change.startswith("column-")
                yield {
                    "key": {} if is_table else {k: plain_value(v) for k, v in zip(key, values)},
                    "change": change, "column": column,
                    "old": None if old is None else json.loads(old), "new": None if new is None else json.loads(new),
                    "note_id": note,
                }
    finally:  # also when the caller stops early (a recording that fails): as ChangeLog.entries closes its own
        cursor.close()


def plain_value(value: Any) -> Any:
    """A value DuckDB returned, ready for JSON: dates and times as ISO text."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def change_id(key: dict[str, Any], column: str | None) -> tuple[str, str | None]:
    """One change's identity: its row key and column (a finding about it carries the same two)."""
    return json.dumps(key, sort_keys=True), column


def cell_text(value: Any) -> str:
    """A value as a CSV cell: text as itself (made safe to open in a spreadsheet), numbers as JSON numbers,
    missing as empty."""
    from audit.formulas import spreadsheet_safe

    if value is None:
        return ""
    return spreadsheet_safe(value) if isinstance(value, str) else json.dumps(value)


def write_revisions_csv(
    handle: IO[str], records: list[dict[str, Any]], key: list[str], notes: dict[str, dict[str, Any]],
    waived: dict[tuple[str, str | None], str] | None = None,
) -> None:
    """Write `records` with each covering note's reason; an uncovered but waived change carries the waiver's reason."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow([*key, *CSV_COLUMNS])
    for r in records:
        note = notes.get(r["note_id"] or "", {})
        reason = note.get("reason")
        if not note and waived:
            reason = waived.get(change_id(r["key"], r["column"]))
            reason = f"no revision note; finding waived: {reason}" if reason else None
        writer.writerow([
            *(cell_text(r["key"].get(k)) for k in key), r["change"], cell_text(r["column"]), cell_text(r["old"]),
            cell_text(r["new"]), cell_text(r["note_id"]), cell_text(reason), cell_text(note.get("reference")),
            cell_text(note.get("approved_by")),
        ])
