"""A notes file for the office to complete: the changes no note explains, grouped by kind and column.

A week of an incident export can hold hundreds of corrections; writing a note per change is not feasible,
and one wide note explains whatever falls within it. The template (`audit diff --format notes`) has one note
per kind of change and column, scoped to the key values of its changes, with `expect` set to how many it
covers, so a note that catches more than it was written for is a `note-scope` warning. Its reasons and
approvers are TODO, and a notes file with a TODO left in either is refused: a template explains nothing until
a person has written why and who approved it.
"""

from __future__ import annotations

import datetime
from typing import Any

TODO = "TODO"
# A key column with more values than this among a group's changes is given as a range (numbers and dates) or
# left out (text): the note is then wider than its changes, which its `expect` bounds.
LISTED_VALUES = 20


def notes_template(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The notes file, as YAML data, for the records (audit.diff.changes) no note covers."""
    groups: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for record in records:
        if record["note_id"] is None:
            groups.setdefault((record["change"], record["column"]), []).append(record)
    notes = []
    for (change, column), changes in groups.items():
        note: dict[str, Any] = {"id": f"{change}-{column}" if column else change}
        where = _where(changes)
        if where:
            note["where"] = where
        if column and change not in ("column-added", "column-removed"):
            note["columns"] = [column]
        note["changes"] = [change]
        note["expect"] = len(changes)
        what = f"{column} " if column else ""
        note["reason"] = f"{TODO}: why {len(changes):,} {what}{_kind_words(change)}"
        note["approved_by"] = TODO
        notes.append(note)
    return {"version": 1, "notes": notes}


def _kind_words(change: str) -> str:
    return {"changed": "value(s) changed", "added": "row(s) were added", "removed": "row(s) were removed",
            "relabelled": "value(s) were relabelled"}.get(change, "column change(s)")


def _where(changes: list[dict[str, Any]]) -> dict[str, Any]:
    """Each key column's values among the changes: listed, or a range, or (many text values) left out."""
    where: dict[str, Any] = {}
    for name in changes[0]["key"]:
        values = {c["key"].get(name) for c in changes}
        present = sorted(v for v in values if v is not None)
        if len(values) <= LISTED_VALUES:
            where[name] = present + ([None] if None in values else [])
        elif all(_orderable(v) for v in present) and None not in values:
            where[name] = {"from": present[0], "to": present[-1]}
    return where


def _orderable(value: Any) -> bool:
    """A number or an ISO date or time, whose range means what it says."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    try:
        datetime.datetime.fromisoformat(str(value))
        return True
    except ValueError:
        return False
