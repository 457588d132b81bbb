"""Rolling windows: a release that holds the incidents of the last 28 days, republished every week.

Rows leave such a window every week and others enter it; neither is a revision. When the descriptor
declares `window: {field, length}`, the diff is given two notes of its own, recorded with the release
like the office's: rows removed whose date lies before the new release's window ("left the window"),
and rows added whose date lies after the end of the baseline's window ("entered the window"). A row
added or removed inside the overlap, and every change to a row, still needs the office's note.

The window ends at the latest date in the release; it starts `length` before that (the window
(end - length, end]), or, without a length, at the earliest date the release holds.
"""

from __future__ import annotations

import datetime
from typing import Any

import duckdb

from audit.dataset import Dataset
from audit.diff.notes import RevisionNote
from audit.sql import ident, literal, one_row

BY = "the dataset's descriptor (window)"


def _text(value: Any) -> str:
    return value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value.isoformat()


def window_notes(con: duckdb.DuckDBPyConnection, dataset: Dataset, old_table: str, new_table: str) -> list[RevisionNote]:
    window = dataset.window
    if not window:
        return []
    field, length = window["field"], window.get("length")
    f = ident(field)
    end, earliest = one_row(con, f"SELECT max({f}), min({f}) FROM {new_table}")
    (old_end,) = one_row(con, f"SELECT max({f}) FROM {old_table}")
    notes = []
    if end is not None:
        if length:
            (start,) = one_row(con, f"SELECT CAST(? AS {dataset.field(field).duckdb_type}) - CAST({literal(length)} "
                                    "AS INTERVAL)", [end])
            bound, span = {"to": _text(start)}, f"the {length} up to {_text(end)}"
        else:
            bound, span = {"before": _text(earliest)}, f"{_text(earliest)} to {_text(end)}, the dates it covers"
        notes.append(RevisionNote(
            "window-left", f"The row's {field} lies before this release's window ({span}): it left the window.",
            BY, where={field: [bound]}, changes=["removed"]))
    if old_end is not None:
        notes.append(RevisionNote(
            "window-entered", f"The row's {field} lies after the end of the previous release's window "
            f"({_text(old_end)}): it entered the window.", BY, where={field: [{"after": _text(old_end)}]},
            changes=["added"]))
    return notes
