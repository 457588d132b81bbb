"""What ingest records: one release, its typed rows and everything found about it, in one transaction.

The write schema of a release's entries lives here and in `store.TABLES`; ingest hands over a `Recording`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Callable

from audit.crashpoints import crash_point
from audit.engine import parquet
from audit.errors import TamperError
from audit.files import HeldFiles
from audit.findings import Report
from audit.log import copies
from audit.log.entries import Release
from audit.log.store import NOT_STATED, ChangeLog, as_json, json_or_none


@dataclass(frozen=True)
class Recording:
    """What ingest hands the log to record one release (see `record_release`)."""

    release_id: str
    version: str
    table: str                       # the typed rows in the working database
    sha256: str
    source_name: str
    row_count: int
    definition: dict[str, Any]       # the dataset's descriptor
    suite_sha256: str
    report: Report
    waivers: list[dict[str, Any]]
    notes: list[dict[str, Any]]      # each note as written (RevisionNote.to_dict)
    baseline_release_id: str | None  # None when nothing was published to compare with
    recorded_by: str | None          # from the workspace's settings or AUDIT_USER; never the system login
    supersedes: str | None = None    # the release of the same file this one re-audits
    # audit.diff.changes.revision_records: read once, as they are recorded
    changes: Iterable[dict[str, Any]] = ()
    # Keep the rows as a Parquet file beside the log, not in it (a release that arrived as Parquet: see
    # audit.log.copies).
    keep_as_parquet: bool = False
    # A release read where it lies (audit.ingest.in_place): the URI it is kept at, which the log records in place
    # of a copy (its digest is `sha256`, of its files); `table` then holds none of its rows.
    kept_at: str | None = None
    # The pending Parquet copy, written by ingest before the release was checked (audit.pipeline._copy_first) and
    # held since: the recording keeps it as it is rather than writing it from `table`.
    copy_held: HeldFiles | None = None
    # Raises if the release's files changed since they were first read (audit.files.HeldFiles): called once the
    # log's copy is made, before anything is committed, as `table` may still read them.
    confirm_source: Callable[[], None] = lambda: None


def software() -> dict[str, str]:
    """The versions of what ran a validation, recorded with it: the tool, Great Expectations, DuckDB, Python."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in ("crime-data-audit", "great-expectations", "duckdb", "frictionless"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "(not installed as a package)"
    return found


def record_release(log: ChangeLog, dataset: str, recording: Recording) -> Release:
    """Record one release in one transaction: its typed rows (copied from `recording.table` into the
    log), their digest, its waivers, notes, changes against its baseline, findings and validation.
    Returns the release entry."""
    from audit.log.digest import table_digest

    r = recording
    in_file = r.keep_as_parquet and log.path is not None and r.kept_at is None
    data_table = r.kept_at or (copies.file_name(r.release_id) if in_file else r.release_id)
    written = copies.pending_copy(log.path, r.release_id) if in_file and log.path is not None else None
    held: HeldFiles | None = None
    try:
        with log.transaction():
            if r.kept_at is not None:
                stored = None
            elif written is not None:
                held = r.copy_held
                if held is None:
                    written.parent.mkdir(exist_ok=True)
                    parquet.write(log.con, r.table, written)
                    held = HeldFiles.of(written)
                stored = parquet.as_sql(written)
            else:
                stored = log.data_table(data_table)
                log.con.execute(f"CREATE TABLE {stored} AS SELECT * FROM {r.table}")
            r.confirm_source()
            crash_point("ingest-data-stored")
            # The stored copy itself, inside the transaction: what is digested is what the log keeps. Kept where
            # it lies, the release is its files, and their digest the cluster took.
            digest = r.sha256 if stored is None else table_digest(log.con, stored)
            # A file beside the log, not in it: the one written (and checked) must be the one digested.
            if held is not None and held.changed():
                raise TamperError(f"release {r.release_id}: the copy of its rows being kept beside the log "
                                  f"({held.path.name}) was changed while it was recorded; nothing was recorded. Run "
                                  "`audit verify` to see what else was altered")
            _append_entries(log, dataset, r, data_table, digest)
            crash_point("ingest-before-commit")
    except BaseException:
        if written is not None:
            copies.discard(written)
        raise
    crash_point("ingest-after-commit")
    if written is not None:
        written.rename(written.with_name(data_table))
    recorded = log.release_by_id(r.release_id)
    assert recorded is not None, "a release just committed is in the log"
    return recorded


def _append_entries(log: ChangeLog, dataset: str, r: Recording, data_table: str, digest: str) -> None:
    """Every entry of one release, its rows' copy already stored as `data_table` with `digest`."""
    log.append("releases", dataset, [{
        "release_id": r.release_id, "version": r.version, "sha256": r.sha256, "source_name": r.source_name,
        "row_count": r.row_count, "recorded_by": r.recorded_by or NOT_STATED, "data_table": data_table,
        "data_digest": digest,
        "normalisations": as_json(r.report.normalisations), "definition": as_json(r.definition),
        "supersedes": r.supersedes,
    }])
    log.append("waivers", dataset, [{"release_id": r.release_id, "waiver": as_json(w)} for w in r.waivers])
    log.append("notes", dataset, [
        {"release_id": r.release_id, "note_id": n["id"], "note": as_json(n)} for n in r.notes])
    if r.baseline_release_id is not None:
        # One entry per changed cell (hundreds of thousands for a large revision): made as they are inserted.
        log.append("changes", dataset, ({
            "release_id": r.release_id, "baseline_release_id": r.baseline_release_id,
            "change": c["change"], "key": as_json(c["key"]), "column": c["column"],
            "old": json_or_none(c["old"]), "new": json_or_none(c["new"]), "note_id": c["note_id"],
        } for c in r.changes))
        log.append("revisions", dataset, [{
            "release_id": r.release_id, "baseline_release_id": r.baseline_release_id,
            "summary": as_json(r.report.revisions.to_dict() if r.report.revisions else None),
        }])
    report = r.report
    log.append("findings", dataset, ({
        "release_id": r.release_id, "check": f.check, "severity": f.severity, "key": as_json(f.key),
        "columns": as_json(f.columns), "expected": as_json(f.expected), "observed": as_json(f.observed),
        "message": f.message, "waived": f.waived, "waiver_reason": f.waiver_reason,
    } for f in report.findings))
    log.append("validations", dataset, [{
        "release_id": r.release_id, "suite_sha256": r.suite_sha256, "success": report.success,
        "finding_count": len(report.findings), "waived_count": len(report.waived),
        "claims": as_json([c.to_dict() for c in report.claims]),
        "expectations": as_json([o.to_dict() for o in report.expectations]),
        "software": as_json(software()),
    }])
