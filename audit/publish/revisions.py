"""The revisions of a published version: `revisions.csv` and its README section.

Every change since the previous published version, with the reason the data
office gave for it (or, for a change no note covers, the waiver that accepted it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.dataset import Dataset
from audit.diff.changes import change_id, write_revisions_csv
from audit.findings import Code, Report, key_text, number, shown
from audit.publish.markdown import md

FILE_NAME = "revisions.csv"
# Shown per note in the README before "and N more": the CSV has them all.
README_EXAMPLES = 10


@dataclass
class PublishedRevisions:
    baseline_version: str
    records: list[dict[str, Any]]
    notes: dict[str, dict[str, Any]]                      # note id -> note
    waived: dict[tuple[str, str | None], str] = field(default_factory=dict)  # (key JSON, column) -> waiver reason

    @classmethod
    def from_log(cls, report: Report, records: list[dict[str, Any]], notes: list[dict[str, Any]]) -> "PublishedRevisions":
        waived = {
            change_id(f.key, f.columns[0] if f.columns else None): f.waiver_reason or ""
            for f in report.findings if f.check == Code.UNEXPLAINED_REVISION and f.waived
        }
        baseline = report.revisions.baseline.version if report.revisions else None
        return cls(str(baseline), records, {n["id"]: n for n in notes}, waived)


def resource(dataset: Dataset) -> dict[str, Any]:
    """The Frictionless resource describing revisions.csv."""
    key_fields = [
        {k: v for k, v in f.descriptor.items() if k in ("name", "type", "title", "description", "format")}
        for f in dataset.fields if f.name in dataset.primary_key
    ]
    text = [
        ("change", "changed (a cell's value), added or removed (a row), relabelled (a row whose key column `column` "
                   "went from `old` to `new`, every other value unchanged), column-added or column-removed."),
        ("column", "The column whose value changed (empty for a row added or removed)."),
        ("old", "The value in the previous published version (empty: missing, or the row did not exist)."),
        ("new", "The value in this version (empty: missing, or the row no longer exists)."),
        ("note", "Id of the data office's revision note that explains the change."),
        ("reason", "Why the value changed, in the data office's words."),
        ("reference", "Where the reason is documented."),
        ("approved_by", "Who approved the revision."),
    ]
    return {
        "name": "revisions",
        "path": FILE_NAME,
        "title": "Revisions since the previous published version",
        "description": "Every value that changed, and every row added or removed, since the previous published "
        "version, with the reason the data office gave.",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "profile": "tabular-data-resource",
        "schema": {"fields": key_fields + [{"name": n, "type": "string", "description": d} for n, d in text]},
    }


def write_csv(path: Path, dataset: Dataset, revisions: PublishedRevisions) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        write_revisions_csv(handle, revisions.records, dataset.primary_key, revisions.notes, revisions.waived)


def describe_change(record: dict[str, Any], dataset: Dataset) -> str:
    """One change in words: "year=2018: Violent Crime 11,099 → 11,100"."""
    key = key_text(record["key"], "the table")
    change = record["change"]
    if change == "changed":
        return f"{key}: {dataset.label(record['column'])} {shown(record['old'])} → {shown(record['new'])}"
    if change in ("added", "removed"):
        return f"{key}: row {change}"
    if change == "relabelled":
        return f"{key}: {dataset.label(record['column'])} relabelled {shown(record['old'])} → {shown(record['new'])}"
    return f"column `{record['column']}` {change.split('-')[1]}"


def readme_section(dataset: Dataset, revisions: PublishedRevisions) -> list[str]:
    """'What changed since version X', grouped by the reason given."""
    records = revisions.records
    lines = ["## What changed since version " + revisions.baseline_version, ""]
    if not records:
        return lines + ["No published value changed, and no row was added or removed.", ""]
    kinds = Counter(r["change"] for r in records)
    parts = [f"{number(n)} {kind.replace('-', ' ')}" for kind, n in sorted(kinds.items())]
    lines += [f"Compared with version {revisions.baseline_version}: {', '.join(parts)} "
              f"(every one is listed in `{FILE_NAME}`).", ""]
    by_note: dict[str | None, list[dict[str, Any]]] = {}
    for r in records:
        by_note.setdefault(r["note_id"], []).append(r)
    for note_id, group in by_note.items():
        note = revisions.notes.get(note_id or "")
        if note:
            ref = f" ({md(note['reference'])})" if note.get("reference") else ""
            lines.append(f"**{md(note['reason'])}**{ref}, approved by {md(note['approved_by'])}:")
        else:
            lines.append("**No revision note explains these changes; the data office accepted them as findings:**")
        lines.append("")
        for r in group[:README_EXAMPLES]:
            waiver = "" if note else revisions.waived.get(change_id(r["key"], r["column"]), "")
            lines.append(f"- {md(describe_change(r, dataset))}" + (f". Accepted because: {md(waiver)}" if waiver else ""))
        if len(group) > README_EXAMPLES:
            lines.append(f"- and {number(len(group) - README_EXAMPLES)} more")
        lines.append("")
    return lines
