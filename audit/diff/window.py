"""Rolling windows: a release that holds the incidents of the last 28 days, republished every week.

Rows leave such a window every week and others enter it; neither is a revision. When the descriptor
declares `window: {field, ...}`, the diff is given two notes of its own, recorded with the release
like the office's: rows removed whose date lies before the new release's window ("left the window"),
and rows added whose date lies after the end of the baseline's window ("entered the window"). A row
added or removed inside the overlap, and every change to a row, still needs the office's note.

Where a window ends (`end`):
- `latest` (the default): the latest date in the release;
- `file name`: the date written in the release's file name (`crime-2025-06-02.csv`, `20250602.csv`), the
  export's as-of date: a file with no rows on its last day (a sparse offence file) does not end early, which
  would leave the rows that did leave the window unexplained.
- `title`: the date in the title row above the file's header ("Data as of 6/2/2025", month first, or ISO);
- whichever `end`, an as-of date the office gives on the command line (`--as-of 2025-06-02`) ends that release's
  window.

Where it starts: `length` before its end (the window (end - length, end]); or `start: year`, on 1 January of
its end's year (a year-to-date export, which sheds the whole past year at the turn of the year); or
`start: <date>`, on a fixed date; with none of them, at the earliest date the release holds.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import duckdb

from audit.dataset import Dataset
from audit.diff.notes import RevisionNote
from audit.errors import ConfigError
from audit.sql import ident, literal, one_row

BY = "the dataset's descriptor (window)"
# A date in a file name: 2025-06-02, 2025_06_02 or 20250602, not inside a longer run of digits.
FILE_DATE = re.compile(r"(?<![0-9])(\d{4})[-_]?(\d{2})[-_]?(\d{2})(?![0-9])")


def _text(value: Any) -> str:
    return value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value.isoformat()


def file_date(source: str) -> datetime.date | None:
    """The as-of date written in a release's file name, if it has one that is a real date."""
    for match in FILE_DATE.finditer(source):
        try:
            return datetime.date(*map(int, match.groups()))
        except ValueError:
            continue
    return None


# A date in a title row: 6/2/2025 or 06/02/2025 (month first, as US exports write it), or an ISO date.
TITLE_DATE = re.compile(r"(?<![0-9/])(\d{1,2})/(\d{1,2})/(\d{4})(?![0-9/])")


def title_as_of(dataset: Dataset, title: str | None) -> datetime.date | None:
    """The as-of date in a release's title row (the text above its header: "Crime data as of 6/2/2025"), when the
    window ends there (`end: title`); None for any other end. A title without a date is a ConfigError."""
    if (dataset.window or {}).get("end") != "title":
        return None
    text = title or ""
    day = file_date(text)
    if day is None:
        for month, date, year in TITLE_DATE.findall(text):
            try:
                day = datetime.date(int(year), int(month), int(date))
                break
            except ValueError:
                continue
    if day is None:
        shown = f"its title row reads {text!r}" if text else "it has no title row above its header"
        raise ConfigError(f"the window of {dataset.name} ends at the date in the release's title row (window: end: "
                          f"title), but {shown}; give the as-of date with --as-of")
    return day


def _end(dataset: Dataset, latest: Any, source: str | None, as_of: datetime.date | None = None) -> Any:
    """Where the window of a release ends: at `as_of` when the office declares it (--as-of), else at `latest`, its
    latest date, or at the date in its file's name."""
    window = dataset.window or {}
    field = window["field"]
    day = as_of
    if day is None:
        if window.get("end", "latest") in ("latest", "title") or source is None:  # a title's date comes as as_of
            return latest
        day = file_date(source)
    if day is None:
        raise ConfigError(f"the window of {dataset.name} ends at the date in the release's file name (window: end: "
                          f"file name), but {source!r} has none; name the file with its as-of date (2025-06-02), "
                          "or give it with --as-of")
    if dataset.field(field).type == "datetime":  # through the whole of that day
        return datetime.datetime.combine(day, datetime.time.max)
    return day


def window_notes(con: duckdb.DuckDBPyConnection, dataset: Dataset, old_table: str, new_table: str,
                 old_source: str | None = None, new_source: str | None = None,
                 as_of: datetime.date | None = None) -> list[RevisionNote]:
    """The window's own notes for a diff of `new_table` (read from file `new_source`, its window ending at `as_of`
    if the office declares it) against `old_table`. The old release's end is found as it always is: where it ended
    is recorded only in its own window notes, and a later end would explain rows added that it never held."""
    window = dataset.window
    if not window:
        return []
    field, length, start = window["field"], window.get("length"), window.get("start")
    f = ident(field)
    latest, earliest = one_row(con, f"SELECT max({f}), min({f}) FROM {new_table}")
    end = _end(dataset, latest, new_source, as_of)
    old_end = _end(dataset, one_row(con, f"SELECT max({f}) FROM {old_table}")[0], old_source)
    # An end the office gives (its as-of date, in a file name, a title or --as-of) must fit the file: a release is
    # its window's rows. A later date would move the window past rows the export still holds, and explain as
    # "left the window" a row removed from inside it.
    declared = as_of is not None or window.get("end", "latest") == "file name"
    sql_type = dataset.field(field).duckdb_type

    def refuse_outside(op: str, bound: Any, what: str) -> None:
        if not declared:  # the window is where the file's own dates put it
            return
        (outside,) = one_row(con, f"SELECT min({f}) FROM {new_table} WHERE {f} {op} CAST(? AS {sql_type})", [bound])
        if outside is not None:
            raise ConfigError(f"the release holds a row whose {field} is {_text(outside)}, {what}: the as-of date "
                              f"{_text(end)} does not fit the file, so no row is taken to have left the window by it")

    notes = []
    if end is not None:
        refuse_outside(">", end, "after the as-of date that ends its window")
        if length:
            (begin,) = one_row(con, f"SELECT CAST(? AS {sql_type}) - CAST({literal(length)} AS INTERVAL)", [end])
            refuse_outside("<=", begin, f"before the window of {length} that ends then")
            bound, span = {"to": _text(begin)}, f"the {length} up to {_text(end)}"
        elif start is not None:
            first = datetime.date(end.year, 1, 1) if start == "year" else datetime.date.fromisoformat(str(start))
            refuse_outside("<", first, f"before the window that starts on {first.isoformat()}")
            bound, span = {"before": first.isoformat()}, f"{first.isoformat()} to {_text(end)}"
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
