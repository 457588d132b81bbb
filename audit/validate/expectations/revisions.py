"""Revisions: every change to a published figure is explained; downgrades are shown.

Both run over tables the diff stage (`audit.diff`) leaves in the working
database beside the release: `revisions` (one row per changed cell, added or
removed row, each with the id of the note that covers it or NULL) and
`reclassifications` (incident offence-category moves, counted).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Optional, Tuple

from audit.engine import Need
from audit.findings import ERROR, WARNING, Code
from audit.sql import ident, literal
from audit.validate.expectations.base import Label, RowCheckExpectation

UNEXPLAINED = Code.UNEXPLAINED_REVISION
FORMAT_CHANGE = Code.FORMAT_CHANGE
DOWNGRADE = Code.DOWNGRADE
NOTE_SCOPE = Code.NOTE_SCOPE


def _value(text: Any) -> Any:
    return None if text is None else json.loads(text)


class ExpectRevisionsToBeExplained(RowCheckExpectation):
    """Every change since the baseline release `baseline_version` (the published one, or the last recorded one:
    `baseline_kind`) is covered by a revision note."""
    needs: ClassVar[frozenset[Need]] = frozenset({Need.DUCKDB_TABLES})  # the revisions table

    revisions_table: str
    baseline_version: str
    baseline_kind: str = "published"
    key: list[str]
    # Columns whose every value changed form: their unexplained changes are one `format-change` finding each.
    format_changes: list[dict] = []
    success_keys: ClassVar[Tuple[str, ...]] = ("revisions_table", "baseline_version", "key", "baseline_kind",
                                               "format_changes")
    check: ClassVar[str] = UNEXPLAINED
    row_checks: ClassVar[dict[str, str]] = {FORMAT_CHANGE: ERROR}

    def read_columns(self) -> list[str]:
        return []

    def failing_rows_query(self) -> str:
        return (
            f'SELECT *, "column" AS __column, old AS __expected, new AS __observed '
            f"FROM {ident(self.revisions_table)} WHERE note IS NULL"
        )

    def keep(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for row in rows:
            row["__expected"], row["__observed"] = _value(row["__expected"]), _value(row["__observed"])
        if not self.format_changes:
            return rows
        # A change of form is one finding, with the rows it touches counted: cells of a column whose form changed,
        # and, when a key column changed form, every row removed and added (no row can be matched across it).
        in_key = next((f for f in self.format_changes if f["in_key"]), None)
        common = {f["column"]: f for f in self.format_changes if not f["in_key"]}
        kept: list[dict[str, Any]] = []
        touched: dict[str, dict[str, Any]] = {}
        for row in rows:
            change = row["change"]
            form = (common.get(row["__column"]) if change == "changed"
                    else in_key if change in ("added", "removed") else None)
            if form is None:
                kept.append(row)
                continue
            counts = touched.setdefault(form["column"], {"form": form, "row": row, "changed": 0, "added": 0,
                                                         "removed": 0})
            counts[change] += 1
        for column, counts in touched.items():
            form = counts["form"]
            kept.append({**{k: None for k in counts["row"]}, "change": FORMAT_CHANGE, "__check": FORMAT_CHANGE,
                         "__column": column, "__expected": form["old_example"], "__observed": form["new_example"],
                         "__touched": ", ".join(f"{counts[k]:,} {'cells changed' if k == 'changed' else 'rows ' + k}"
                                                for k in ("changed", "removed", "added") if counts[k])})
        return kept

    def finding_key(self, row: dict[str, Any], primary_key: list[str]) -> dict[str, Any]:
        if row["change"].startswith("column-") or row["change"] == FORMAT_CHANGE:
            return {}
        return {k: row.get(k) for k in primary_key}

    def explain(self, row: dict[str, Any], label: Label) -> str:
        said = {"kind": self.baseline_kind, "version": self.baseline_version, "old": row["__expected"],
                "new": row["__observed"]}
        change = row["change"]
        if change == FORMAT_CHANGE:
            return FORMAT_CHANGE.say(column=label(row["__column"]), touched=row["__touched"], **said)
        if change == "changed":
            return UNEXPLAINED.say(column=label(row["__column"]), **said)
        if change in ("added", "removed"):
            return UNEXPLAINED.say("row", change=change, **said)
        if change == "relabelled":
            return UNEXPLAINED.say("relabelled", column=label(row["__column"]), **said)
        return UNEXPLAINED.say("column", column=row["__column"], change=change.split("-")[1], **said)


class ExpectNotesToExplainWhatTheyExpect(RowCheckExpectation):
    """No revision note explains more changes than its `expect`, nor, without one, more than `unbounded`: a note
    whose `where` is wider than meant (a whole date range) explains whatever falls in it, silently. `note_bounds`
    gives each of the office's notes' id and expect (the window's own are not the office's to bound)."""
    needs: ClassVar[frozenset[Need]] = frozenset({Need.DUCKDB_TABLES})  # the revisions table

    revisions_table: str
    note_bounds: list[dict]
    unbounded: int
    success_keys: ClassVar[Tuple[str, ...]] = ("revisions_table", "note_bounds", "unbounded")
    check: ClassVar[str] = NOTE_SCOPE
    default_severity: ClassVar[str] = WARNING

    def read_columns(self) -> list[str]:
        return []

    def failing_rows_query(self) -> str:
        expects = ", ".join(f"({literal(n['id'])}, {int(n['expect']) if n.get('expect') else 'NULL'})"
                            for n in self.note_bounds)
        return (f"WITH c AS (SELECT note, count(*) AS covered, "
                f"array_to_string(list_sort(list_distinct(list(change))), ', ') AS kinds "
                f"FROM {ident(self.revisions_table)} WHERE note IS NOT NULL GROUP BY note), "
                f"e(note, expect) AS (VALUES {expects}) "
                f"SELECT c.note AS __note, c.kinds AS __kinds, e.expect AS __expected, c.covered AS __observed "
                f"FROM c JOIN e ON c.note = e.note WHERE c.covered > coalesce(e.expect, {int(self.unbounded)}) "
                f"ORDER BY c.note")

    def finding_key(self, row: dict[str, Any], primary_key: list[str]) -> dict[str, Any]:
        return {}

    def explain(self, row: dict[str, Any], label: Label) -> str:
        said = {"note": row["__note"], "observed": row["__observed"], "kinds": row["__kinds"]}
        if row["__expected"] is None:
            return NOTE_SCOPE.say("no bound", **said)
        return NOTE_SCOPE.say(expected=row["__expected"], excess=row["__observed"] - row["__expected"], **said)


class ExpectReclassificationsNotToDowngrade(RowCheckExpectation):
    """Incidents moved from a violent category to a non-violent one are reported (a warning), explained or not."""
    needs: ClassVar[frozenset[Need]] = frozenset({Need.DUCKDB_TABLES})  # the reclassifications table

    reclassifications_table: str
    offence: str
    by: list[str] = []
    period: Optional[str] = None
    success_keys: ClassVar[Tuple[str, ...]] = ("reclassifications_table", "offence", "by", "period")
    check: ClassVar[str] = DOWNGRADE
    default_severity: ClassVar[str] = WARNING

    def read_columns(self) -> list[str]:
        return [self.offence]

    def failing_rows_query(self) -> str:
        return (
            f"SELECT *, from_category AS __expected, to_category AS __observed "
            f"FROM {ident(self.reclassifications_table)} WHERE downgrade"
        )

    def finding_key(self, row: dict[str, Any], primary_key: list[str]) -> dict[str, Any]:
        return {k: row.get(k) for k in [*self.by, *(["period"] if self.period else [])]}

    def explain(self, row: dict[str, Any], label: Label) -> str:
        where = ", ".join(f"{label(k)} {row.get(k)}" for k in self.by)
        if self.period:
            where = f"{where}, {row.get('period')}" if where else str(row.get("period"))
        explained = row["explained"]
        form = "" if not explained else "all explained" if explained == row["incidents"] else "some explained"
        return DOWNGRADE.say(form, incidents=row["incidents"], where=f" in {where}" if where else "",
                             old=row["__expected"], new=row["__observed"] or "no category", explained=explained)
