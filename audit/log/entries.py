"""The log's entries, typed: what its reads return, so the write schema lives in one place.

Each record is one chain entry of one table (`store.TABLES`), with its structured columns decoded
from their canonical JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from audit.errors import TamperError
from audit.findings import ReleaseInfo


def decode(text: str | None, default: Any = None) -> Any:
    """A structured column's value; text the tool could not have written (it writes canonical JSON) means the
    record was altered, which is refused (TamperError, exit 1) rather than crashing the command."""
    if text is None:
        return default
    try:
        return json.loads(text)
    except (TypeError, json.JSONDecodeError) as exc:
        raise TamperError(f"a log entry holds {str(text)[:60]!r} where the tool writes JSON: it was altered after it "
                          "was recorded; run `audit verify`") from exc


@dataclass(frozen=True)
class Entry:
    """The chain columns every entry has."""

    dataset: str
    seq: int
    recorded_at: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Release(Entry):
    """One recorded release: the file it came from, and where and how its typed rows are stored."""

    release_id: str
    version: str
    sha256: str
    source_name: str
    row_count: int
    recorded_by: str
    data_table: str
    data_digest: str                 # see audit.log.digest
    normalisations: list[dict[str, Any]]
    definition: dict[str, Any]       # the dataset's descriptor as it was when the release was recorded
    supersedes: str | None           # the release of the same file that this one re-audits

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Release":
        return cls(**{**row, "normalisations": decode(row["normalisations"], []),
                      "definition": decode(row["definition"], {})})

    def info(self) -> ReleaseInfo:
        """The `release` part of a report."""
        return ReleaseInfo(self.version, self.sha256, self.source_name, self.row_count)


@dataclass(frozen=True)
class Publication(Entry):
    """One published package. Its own hash is the chain head the package carries."""

    release_id: str
    package_version: str
    path: str                        # the package's folder, relative to the workspace when inside it
    files: dict[str, str]            # every file of the package but the head file and the extract -> sha256
    schema_sha256: str
    signing_key: str | None          # fingerprint of the key that signed the head, if any
    recorded_by: str
    previous_seq: int                # the previous publication's seq (0 for the first): the extract starts after it

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Publication":
        return cls(**{**row, "files": decode(row["files"], {})})

    @property
    def release_label(self) -> str:
        return self.release_id.split("@", 1)[1]


@dataclass(frozen=True)
class Change(Entry):
    """One change of a release against its baseline."""

    release_id: str
    baseline_release_id: str
    change: str
    key: dict[str, Any]
    column: str | None
    old: Any
    new: Any
    note_id: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Change":
        return cls(**{**row, "key": decode(row["key"], {}), "old": decode(row["old"]), "new": decode(row["new"])})

    def record(self) -> dict[str, Any]:
        """As a revision record (audit.diff.changes): the shape `audit diff` and revisions.csv use."""
        return {"key": self.key, "change": self.change, "column": self.column, "old": self.old, "new": self.new,
                "note_id": self.note_id}

    def identity(self) -> tuple:
        """What the change says, apart from where the chain put it: for comparing a recomputed diff."""
        return change_identity(self.record())


def change_identity(change: dict[str, Any]) -> tuple:
    """A change's content (a `Change`'s fields, or a record of audit.diff.changes) as one comparable value."""
    text = lambda value: json.dumps(value, sort_keys=True, default=str)  # noqa: E731
    return (change["change"], text(change["key"]), change["column"], text(change["old"]), text(change["new"]),
            change["note_id"])


@dataclass(frozen=True)
class ValidationRecord(Entry):
    """One validation of a release: its outcome, and every expectation run and claim checked."""

    release_id: str
    suite_sha256: str
    success: bool
    finding_count: int
    waived_count: int
    claims: list[dict[str, Any]]
    expectations: list[dict[str, Any]]
    software: dict[str, str]         # the versions that ran it (audit.log.store.software)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "ValidationRecord":
        return cls(**{**row, "claims": decode(row["claims"], []), "expectations": decode(row["expectations"], []),
                      "software": decode(row["software"], {})})
