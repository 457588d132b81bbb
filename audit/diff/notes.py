"""Revision notes: the data office's written reasons for changes to published figures.

Shipped with a release (`--notes FILE`):

    version: 1
    notes:
      - id: homicide-review            # optional; default: the note's number in the file
        where: {year: [2019, 2020]}    # field -> value, list of values, or range {from, to, after, before};
                                       # omitted: every row
        columns: [homicide]            # optional; omitted: every column, and rows added or removed
        changes: [changed]             # optional: the kinds of change it covers (changed, added, removed,
                                       # relabelled, column-added, column-removed); omitted: every kind
        expect: 12                     # optional: the most changes it explains; more is a `note-scope` warning
        reason: Homicides reclassified after the medical examiner's review.
        reference: BPD memo 2024-117   # optional
        approved_by: Data office

A note covers a changed cell when `where` holds for its row and `columns` (if
given) names its column; it covers an added or removed row when `where` holds
and it names no columns. `where` is read against the row as it stands in the new
release (the old one for a removed row); `null` matches a missing value. A range
`{from: 2026-05-01, before: 2026-05-15}` matches the values in it (`from`/`to` inclusive,
`after`/`before` exclusive), so a rolling window's rows leaving it need one note, not a
date each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import duckdb

from audit.dataset import Dataset
from audit.errors import ConfigError
from audit.officefile import read_office_file
from audit.sql import literal, value

CHANGE_KINDS = ("changed", "added", "removed", "relabelled", "column-added", "column-removed")
RANGE_BOUNDS = {"from": ">=", "to": "<=", "after": ">", "before": "<"}


@dataclass(frozen=True)
class RevisionNote:
    id: str
    reason: str
    approved_by: str
    # field -> values: each a value (None: missing) or a range {from, to, after, before}
    where: dict[str, list[Any]] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    reference: str | None = None
    changes: list[str] = field(default_factory=list)    # kinds of change covered; empty: every kind
    expect: int | None = None                            # the most changes it is meant to explain; None: not said

    def to_dict(self) -> dict[str, Any]:
        out = {"id": self.id, "where": self.where, "columns": self.columns, "reason": self.reason,
               "reference": self.reference, "approved_by": self.approved_by}
        # Keys a note does not use are left out, so a note recorded before they existed reads back the same.
        return {**out, **({"changes": self.changes} if self.changes else {}),
                **({"expect": self.expect} if self.expect is not None else {})}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RevisionNote":
        return cls(str(data["id"]), data["reason"], data["approved_by"], dict(data.get("where") or {}),
                   list(data.get("columns") or []), data.get("reference"), list(data.get("changes") or []),
                   data.get("expect"))

    def covers_kind(self, change: str | None) -> bool:
        return not self.changes or change is None or change in self.changes


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
        left = [k for k in ("reason", "approved_by") if str(raw[k]).strip().startswith("TODO")]
        if left:
            raise ConfigError(f"{where}: its {' and '.join(left)} {'are' if len(left) > 1 else 'is'} still the "
                              "template's TODO: a note explains nothing until a person writes why and who approved it")
        note_id = str(raw.get("id", number))
        if note_id in seen:
            raise ConfigError(f"{where}: id {note_id!r} is used twice")
        seen.add(note_id)
        notes.append(RevisionNote(
            id=note_id, reason=str(raw["reason"]).strip(), approved_by=str(raw["approved_by"]),
            where={k: v if isinstance(v, list) else [v] for k, v in filters.items()},
            columns=[str(c) for c in columns], reference=raw.get("reference"),
            changes=list(raw.get("changes") or []), expect=raw.get("expect"),
        ))
    return notes


def check_note_values(con: duckdb.DuckDBPyConnection, notes: list[RevisionNote], dataset: Dataset, source: str) -> None:
    """Every `where` value must be a value of its field's type: a note that can never match is an error."""
    types = {f.name: f.duckdb_type for f in dataset.fields}
    for note in notes:
        for column, values in note.where.items():
            for v in values:
                bounds = v.items() if isinstance(v, dict) else [("=", v)]
                for bound, one in bounds:
                    if one is None:
                        continue
                    [(cast,)] = con.execute(f"SELECT TRY_CAST({value(one)} AS {types[column]})").fetchall()
                    if cast is None:
                        shown = f"{column} {bound} {one!r}" if bound != "=" else f"{column} = {one!r}"
                        raise ConfigError(f"{source}: note {note.id}: where {shown} is not a valid "
                                          f"{dataset.field(column).type} for that field")


def _in(column_sql: str, values: list[Any], sql_type: str) -> str:
    known = [v for v in values if v is not None and not isinstance(v, dict)]
    tests = []
    if known:
        tests.append(f"{column_sql} IN ({', '.join(f'TRY_CAST({value(v)} AS {sql_type})' for v in known)})")
    for bounds in (v for v in values if isinstance(v, dict)):
        tests.append("(" + " AND ".join(f"{column_sql} {RANGE_BOUNDS[b]} TRY_CAST({value(v)} AS {sql_type})"
                                        for b, v in bounds.items()) + ")")
    if None in values:
        tests.append(f"{column_sql} IS NULL")
    return "(" + " OR ".join(tests) + ")"


def covering_note_sql(
    notes: list[RevisionNote], dataset: Dataset, row_value: Callable[[str], str], column: str | None,
    change: str | None = None,
) -> str:
    """SQL for the id of the first note covering a change, NULL when none does.

    `row_value(field)` is the SQL for that field's value in the changed row;
    `column` is the changed column, or None for a row added or removed; `change` the kind of change.
    """
    types = {f.name: f.duckdb_type for f in dataset.fields}
    cases = []
    for note in notes:
        if note.columns and (column is None or column not in note.columns):
            continue
        if not note.covers_kind(change):
            continue
        tests = [_in(row_value(c), vs, types[c]) for c, vs in note.where.items()] or ["true"]
        cases.append(f"WHEN {' AND '.join(tests)} THEN {literal(note.id)}")
    return f"(CASE {' '.join(cases)} END)" if cases else "CAST(NULL AS VARCHAR)"
