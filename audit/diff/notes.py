"""Revision notes: the data office's written reasons for changes to published figures.

Shipped with a release (`--notes FILE`):

    version: 1
    notes:
      - id: homicide-review            # optional; default: the note's number in the file
        where: {year: [2019, 2020]}    # field -> value or list of values; omitted: every row
        columns: [homicide]            # optional; omitted: every column, and rows added or removed
        reason: Homicides reclassified after the medical examiner's review.
        reference: BPD memo 2024-117   # optional
        approved_by: Data office

A note covers a changed cell when `where` holds for its row and `columns` (if
given) names its column; it covers an added or removed row when `where` holds
and it names no columns. `where` is read against the row as it stands in the new
release (the old one for a removed row); `null` matches a missing value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import duckdb

from audit.dataset import Dataset
from audit.errors import ConfigError
from audit.sql import literal, value
from audit.officefile import read_office_file



@dataclass(frozen=True)
class RevisionNote:
    id: str
    reason: str
    approved_by: str
    where: dict[str, list[Any]] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    reference: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "where": self.where, "columns": self.columns, "reason": self.reason,
                "reference": self.reference, "approved_by": self.approved_by}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RevisionNote":
        return cls(str(data["id"]), data["reason"], data["approved_by"], dict(data.get("where") or {}),
                   list(data.get("columns") or []), data.get("reference"))


def load_notes(path: str | Path | None, dataset: Dataset) -> list[RevisionNote]:
    """The notes in `path` (none if no file), each checked against the dataset's fields."""
    if path is None:
        return []
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"revision notes file {path} does not exist")
    fields = [f.name for f in dataset.fields]
    notes, seen = [], set()
    # The file's shape (entries, their types) is checked against audit/schemas/revision-notes.schema.json.
    for number, raw in enumerate(read_office_file(path, "notes")["notes"], 1):
        where = f"{path}: note {number}"
        filters = raw.get("where") or {}
        columns = raw.get("columns") or []
        unknown = [c for c in [*filters, *columns] if c not in fields]
        if unknown:
            raise ConfigError(f"{where}: the dataset has no field {', '.join(map(repr, unknown))} "
                              f"(fields: {', '.join(fields)})")
        note_id = str(raw.get("id", number))
        if note_id in seen:
            raise ConfigError(f"{where}: id {note_id!r} is used twice")
        seen.add(note_id)
        notes.append(RevisionNote(
            id=note_id, reason=str(raw["reason"]).strip(), approved_by=str(raw["approved_by"]),
            where={k: v if isinstance(v, list) else [v] for k, v in filters.items()},
            columns=[str(c) for c in columns], reference=raw.get("reference"),
        ))
    return notes


def check_note_values(con: duckdb.DuckDBPyConnection, notes: list[RevisionNote], dataset: Dataset, source: str) -> None:
    """Every `where` value must be a value of its field's type: a note that can never match is an error."""
    types = {f.name: f.duckdb_type for f in dataset.fields}
    for note in notes:
        for column, values in note.where.items():
            for v in values:
                if v is None:
                    continue
                [(cast,)] = con.execute(f"SELECT TRY_CAST({value(v)} AS {types[column]})").fetchall()
                if cast is None:
                    raise ConfigError(f"{source}: note {note.id}: where {column} = {v!r} is not a valid "
                                      f"{dataset.field(column).type} for that field")


def _in(column_sql: str, values: list[Any], sql_type: str) -> str:
    known = [v for v in values if v is not None]
    tests = []
    if known:
        tests.append(f"{column_sql} IN ({', '.join(f'TRY_CAST({value(v)} AS {sql_type})' for v in known)})")
    if len(known) < len(values):
        tests.append(f"{column_sql} IS NULL")
    return "(" + " OR ".join(tests) + ")"


def covering_note_sql(
    notes: list[RevisionNote], dataset: Dataset, row_value: Callable[[str], str], column: str | None
) -> str:
    """SQL for the id of the first note covering a change, NULL when none does.

    `row_value(field)` is the SQL for that field's value in the changed row;
    `column` is the changed column, or None for a row added or removed.
    """
    types = {f.name: f.duckdb_type for f in dataset.fields}
    cases = []
    for note in notes:
        if note.columns and (column is None or column not in note.columns):
            continue
        tests = [_in(row_value(c), vs, types[c]) for c, vs in note.where.items()] or ["true"]
        cases.append(f"WHEN {' AND '.join(tests)} THEN {literal(note.id)}")
    return f"(CASE {' '.join(cases)} END)" if cases else "CAST(NULL AS VARCHAR)"
