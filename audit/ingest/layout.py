"""Where the table is in a file as people publish it: the header row (below any title rows,
perhaps written over two rows, as FBI tables ship), and the last data row (above any note
rows and a total row). Works on `cells`, the file read as text with no header (c1, c2, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from audit.dataset import Dataset, header_key
from audit.errors import InputError
from audit.ingest.normalise import Normalisation, clip
from audit.sql import ident

HEAD_ROWS = 15    # a header is looked for this far down
TAIL_ROWS = 15    # notes and a total row are looked for this far up
TOTAL = re.compile(r"^\s*(grand\s+)?totals?\b|^\s*all\s+(areas|districts|counties|places)\b", re.IGNORECASE)
NUMBER = r"^\s*[+-]?[0-9][0-9,]*(\.[0-9]+)?\s*$"


@dataclass
class Layout:
    names: list[str]                  # one header name per cell column
    first: int                        # rowid of the first data row
    last: int                         # rowid of the last data row
    notes: list[Normalisation] = field(default_factory=list)


def _rows(con: duckdb.DuckDBPyConnection, cells: str, where: str, order: str) -> list[tuple]:
    return con.execute(f"SELECT rowid, * FROM {ident(cells)} WHERE {where} ORDER BY rowid {order}").fetchall()


def _blank(values) -> bool:
    return all(v is None or not str(v).strip() for v in values)


def _merge(top: list, bottom: list, span: bool) -> list[str]:
    """A header over two rows as one; with `span`, a top cell also covers the empty top cells to its right
    (as merged cells do), else each column joins only its own two cells."""
    names, carry = [], ""
    for upper, lower in zip(top, bottom):
        upper, lower = (str(upper or "").strip(), str(lower or "").strip())
        carry = upper or (carry if lower and span else "")
        names.append(" ".join(p for p in (carry, lower) if p))
    return names


def _score(names: list[str], dataset: Dataset) -> int:
    keys = {header_key(n) for n in names if n}
    return sum(1 for f in dataset.fields if any(header_key(n) in keys for n in f.header_names))


def locate(con: duckdb.DuckDBPyConnection, cells: str, dataset: Dataset | None, source: Path) -> Layout:
    (count,) = con.execute(f"SELECT count(*) FROM {ident(cells)}").fetchall()[0]
    head = [r for r in _rows(con, cells, f"rowid < {HEAD_ROWS}", "") if not _blank(r[1:])]
    if not head:
        raise InputError("the file has no rows", file=str(source))
    names, used = choose_header(head, dataset)
    layout = Layout(unique_names(names), used[-1] + 1, count - 1)
    skipped = [r for r in head if r[0] < used[0]]
    if skipped:
        title = " ".join(str(v).strip() for v in skipped[0][1:] if v is not None and str(v).strip())
        layout.notes.append(Normalisation("title-rows", f"{len(skipped)} row(s) above the header were skipped",
                                          count=len(skipped), example=title))
    if len(used) == 2:
        layout.notes.append(Normalisation("two-row-header", "the header is written over two rows (file rows "
                                          f"{used[0] + 1}-{used[1] + 1}) and was read as one",
                                          example=" | ".join(n for n in names if n)))
    _trim_tail(con, cells, layout, source)
    if layout.last < layout.first:
        raise InputError("the file has a header but no data rows", file=str(source))
    return layout


def choose_header(head: list[tuple], dataset: Dataset | None) -> tuple[list[str], list[int]]:
    """The header's names and the rowids of the row or two rows it is written over, among `head` (the first rows
    that are not blank, each its rowid and then its cells): the row, or pair, whose names match most fields."""
    candidates = []  # (score, -rows used, position, names, header rowids)
    for i, row in enumerate(head):
        single = [str(v or "").strip() for v in row[1:]]
        candidates.append((_score(single, dataset) if dataset else 0, -1, -i, single, [row[0]]))
        if dataset and i + 1 < len(head):
            for span in (False, True):
                merged = _merge(list(row[1:]), list(head[i + 1][1:]), span)
                candidates.append((_score(merged, dataset), -2, -i, merged, [row[0], head[i + 1][0]]))
    best = max(candidates, key=lambda c: (c[0], c[2], c[1])) if dataset else candidates[0]
    if dataset and best[0] == 0:
        best = candidates[0]  # nothing matches: take the first row, and let the columns be reported
    _, _, _, names, used = best
    return names, used


def unique_names(names: list[str]) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        name = name or f"column{i + 1}"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _trim_tail(con: duckdb.DuckDBPyConnection, cells: str, layout: Layout, source: Path) -> None:
    """Drop blank rows, note rows (text in the first cell only) and a total row from the end."""
    notes, blanks = [], 0
    width = len(layout.names)
    for row in _rows(con, cells, f"rowid >= {max(layout.first, layout.last - TAIL_ROWS)}", "DESC"):
        rowid, values = row[0], row[1:]
        if rowid != layout.last:
            break
        kind = tail_kind(values, width)
        if kind == "blank":
            blanks += 1
        elif kind == "note":
            notes.append(str(values[0]).strip())
        elif kind == "total":
            _check_total(con, cells, layout, rowid, values, source)
        else:
            break
        layout.last -= 1
    if notes:
        layout.notes.append(Normalisation("note-rows", f"{len(notes)} note row(s) below the table were dropped",
                                          count=len(notes), example=notes[-1]))
    if blanks:
        layout.notes.append(Normalisation("blank-rows", f"{blanks} blank row(s) at the end were dropped",
                                          count=blanks))


def tail_kind(values, width: int) -> str | None:
    """What a row at the end of the table is, when it is not a data row: "blank", "note" (text in its first cell
    only) or "total" (labelled as one); None for a data row."""
    filled = [i for i, v in enumerate(values) if v is not None and str(v).strip()]
    if not filled:
        return "blank"
    if width > 1 and filled == [0] and not re.match(NUMBER, str(values[0])):
        return "note"
    if TOTAL.match(str(values[filled[0]])):
        return "total"
    return None


def _check_total(con, cells: str, layout: Layout, rowid: int, values, source: Path) -> None:
    """A row labelled Total is dropped only when each of its figures is the sum of the rows above."""
    checked: list[tuple[str, float, float | None]] = []
    wrong: list[tuple[str, float, float | None]] = []
    for i, value in enumerate(values):
        if value is None or not re.match(NUMBER, str(value)):
            continue
        column = ident(f"c{i + 1}")
        (total,) = con.execute(
            f"SELECT sum(TRY_CAST(replace({column}, ',', '') AS DOUBLE)) FROM {ident(cells)} "
            f"WHERE rowid BETWEEN {layout.first} AND {rowid - 1}").fetchall()[0]
        stated = float(str(value).replace(",", ""))
        (checked if total is not None and abs(total - stated) < 1e-6 * max(1.0, abs(stated)) else wrong).append(
            (layout.names[i], stated, total))
    label = str(next(v for v in values if v is not None and str(v).strip())).strip()
    if wrong or not checked:
        name, stated, total = wrong[0] if wrong else (layout.names[0], 0.0, None)
        detail = (f"its {name!r} is {stated:,g} but the rows above sum to {total or 0:,g}" if wrong
                  else "it has no figures")
        raise InputError(f"this looks like a total row ({clip(label)!r}) but {detail}; remove it, or fix it",
                         file=str(source), row=rowid + 1)
    layout.notes.append(Normalisation("total-row", f"a total row was dropped (file row {rowid + 1}); each of its "
                                      f"{len(checked)} figures equals the sum of the rows above", example=label))
