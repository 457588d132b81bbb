"""The version a new package gets, from what changed since the dataset's last published package.

    first publication                                   1.0.0
    major  the published schema changed (a field added, removed, retyped or redescribed,
           or a column added to or dropped from the data)                      2.0.0
    minor  rows were added or removed                                          1.1.0
    patch  only values were revised (or nothing in the data changed: new
           notes, waivers or findings)                                         1.0.1

So a portal user can tell from the version alone whether a script reading the data
may break (major), whether there are more or fewer rows (minor), or only corrections.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

FIRST = "1.0.0"


def schema_sha256(schema: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(schema, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def next_version(previous: str | None, schema_changed: bool, counts: dict[str, int] | None) -> tuple[str, str]:
    """(version, why) for the next package after `previous` (None: the first)."""
    if previous is None:
        return FIRST, "the first published version"
    major, minor, patch = (int(part) for part in previous.split("."))
    counts = counts or {}
    if schema_changed or counts.get("column-added") or counts.get("column-removed"):
        return f"{major + 1}.0.0", f"major: the table's columns or schema changed since {previous}"
    if counts.get("added") or counts.get("removed") or counts.get("relabelled"):
        return f"{major}.{minor + 1}.0", f"minor: rows were added, removed or relabelled since {previous}"
    if counts.get("changed"):
        return f"{major}.{minor}.{patch + 1}", f"patch: only values were revised since {previous}"
    return f"{major}.{minor}.{patch + 1}", f"patch: the data are as in {previous}; its findings, waivers or notes changed"
