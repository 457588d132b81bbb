"""Diff: what changed since the last published release, and which note explains each change.

    published release ─┐
                       ├─compare──▶ revisions (cell by cell, each with its covering note or none)
    incoming release ──┘     └─────▶ reclassifications (incident data: offence category moves)

Both tables stay in the working DuckDB database: validation turns the
uncovered revisions and the downgrades into findings (GX expectations over
these tables), and the log records every revision with its note.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb

from audit.dataset import Dataset
from audit.diff.changes import plain_value, revision_records
from audit.diff.compare import DIFF_ROWS, REVISIONS, diff_tables, format_changes
from audit.diff.notes import RevisionNote, check_note_values, load_notes
from audit.diff.reclassify import (
    RECLASSIFICATIONS,
    reclassification_settings,
    summarise_reclassifications,
)
from audit.diff.window import BY as WINDOW_BY
from audit.engine import DUCKDB, Engine
from audit.findings import Baseline, RevisionSummary

__all__ = ["DiffResult", "RevisionNote", "Revisions", "diff_releases", "load_notes"]

# A note that says nowhere how many changes it expects may explain this many before that is a warning: a week's
# corrections are a handful to hundreds; a note explaining thousands has likely caught more than was meant.
UNBOUNDED_NOTE = 1_000


@dataclass(frozen=True)
class DiffTables:
    """The tables a diff leaves in the working database, by name: its contract with whatever reads them."""

    revisions: str = REVISIONS                    # one row per change, with its covering note (or none)
    rows: str = DIFF_ROWS                         # the rows of either release that differ
    reclassifications: str = RECLASSIFICATIONS    # offence moves by category, when the dataset declares one


@dataclass
class Revisions:
    """The diff of one release against its baseline (the last published release)."""

    baseline: dict[str, Any]                 # the baseline's release info: version, release_id, ...
    notes: list[RevisionNote]
    counts: dict[str, int]                   # change kind -> count, plus explained / unexplained
    reclassifications: list[dict[str, Any]] = field(default_factory=list)
    offence: str | None = None               # the field whose code changes are reclassifications
    by: list[str] = field(default_factory=list)
    period: str | None = None
    # How the baseline's rows were matched: identical (keys repeat), by key, reclassified, relabelled.
    matching: dict[str, int] = field(default_factory=dict)
    # Text columns whose every value changed form (see audit.diff.compare.format_changes).
    format_changes: list[dict[str, Any]] = field(default_factory=list)
    tables: DiffTables = field(default_factory=DiffTables)

    def records(self, con: duckdb.DuckDBPyConnection, key: list[str]) -> Iterator[dict[str, Any]]:
        """Every change, as a record (audit.diff.changes), in the diff's order, read as it is iterated."""
        return revision_records(con, key, self.tables.revisions)

    def expectations(self, key: list[str]) -> list[dict[str, Any]]:
        """The GX expectations this diff implies for the release's validation."""
        out: list[dict[str, Any]] = [{
            "type": "expect_revisions_to_be_explained",
            "kwargs": {"revisions_table": self.tables.revisions, "baseline_version": str(self.baseline["version"]), "key": key,
                       "baseline_kind": self.baseline.get("kind", "published"), "format_changes": self.format_changes},
        }]
        own = [n for n in self.notes if n.approved_by != WINDOW_BY]  # the office's notes, not the window's own
        if own:
            out.append({
                "type": "expect_notes_to_explain_what_they_expect",
                "kwargs": {"revisions_table": self.tables.revisions, "unbounded": UNBOUNDED_NOTE,
                           "note_bounds": [{"id": n.id, "expect": n.expect} for n in own]},
            })
        if self.offence is not None:
            out.append({
                "type": "expect_reclassifications_not_to_downgrade",
                "kwargs": {"reclassifications_table": self.tables.reclassifications, "offence": self.offence,
                           "by": self.by, "period": self.period},
            })
        return out

    def summary(self) -> RevisionSummary:
        """The report's `revisions` part: against what, how many of each kind, reclassifications."""
        return RevisionSummary(Baseline.from_dict(self.baseline), self.counts, self.matching, self.format_changes,
                               [n.to_dict() for n in self.notes], self.reclassifications)


def diff_releases(
    con: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    old_table: str,
    new_table: str,
    baseline: dict[str, Any],
    notes: list[RevisionNote],
    notes_source: str = "revision notes",
    engine: Engine = DUCKDB,
) -> Revisions:
    """Compare `new_table` with the published `old_table`; leave `revisions` (and `reclassifications`) in `con`.
    The passes over whole releases run on `engine` (audit.engine.scan); the rest runs in `con`."""
    check_note_values(con, notes, dataset, notes_source)
    scan = engine.scan(con, old_table, new_table)
    try:
        cols, matching = diff_tables(con, scan, dataset, notes)
        changed_form = format_changes(scan, cols)
    finally:
        scan.close()
    rows = con.execute(
        f"SELECT change, count(*), count(note) FROM {REVISIONS} GROUP BY change ORDER BY change"
    ).fetchall()
    counts = {change: n for change, n, _ in rows}
    counts["explained"] = sum(e for _, _, e in rows)
    counts["unexplained"] = sum(n - e for _, n, e in rows)
    revisions = Revisions(baseline, notes, counts, matching=matching.to_dict(),
                          format_changes=changed_form)
    settings = reclassification_settings(dataset)
    if settings is not None and settings.offence.name in [*cols.key, *cols.common]:
        summarise_reclassifications(con, settings, cols, dataset, notes)
        cursor = con.execute(f"SELECT * FROM {RECLASSIFICATIONS}")
        names = [d[0] for d in cursor.description]
        revisions.reclassifications = [
            {k: plain_value(v) for k, v in zip(names, r)} for r in cursor.fetchall()
        ]
        revisions.offence, revisions.by, revisions.period = settings.offence.name, settings.by, settings.period
    return revisions


@dataclass
class DiffResult:
    """Two recorded releases compared: every change, with the note that covers it (or none)."""

    dataset: str
    from_release: dict
    to_release: dict
    key: list[str]
    records: list[dict]
    revisions: Revisions

    @property
    def unexplained(self) -> list[dict]:
        return [r for r in self.records if r["note_id"] is None]

    def to_dict(self) -> dict:
        notes = {n.id: n.to_dict() for n in self.revisions.notes}
        return {
            "dataset": self.dataset, "from": self.from_release, "to": self.to_release,
            "counts": self.revisions.counts,
            "matching": self.revisions.matching,
            "changes": [{**r, "note": notes.get(r["note_id"] or "")} for r in self.records],
            "reclassifications": self.revisions.reclassifications,
        }
