"""One publication: choose its version, build its package aside, record it, move it into place.

See `folder` for why a crash at any point loses nothing, `versioning` for the version
rule and `index` for the index of a dataset's versions.
"""

from __future__ import annotations

import datetime
import itertools
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from audit.crashpoints import crash_point
from audit.dataset import Dataset
from audit.errors import ConfigError, StateError, TamperError
from audit.files import HeldFiles, file_sha256, meanwhile
from audit.findings import Code, Report
from audit.log import ChangeLog
from audit.log.chain import GENESIS, walk
from audit.log.copies import kept_where_it_lies, where_it_lies
from audit.log.entries import Publication as LoggedPublication
from audit.log.entries import Release
from audit.log.manifest import (
    EXTRACT_FILE,
    HEAD_FILE,
    SUMS_FILE,
    SUMS_SIGNATURE,
    package_files,
    sums_text,
    write_head,
)
from audit.log.store import NOT_STATED, as_json
from audit.publish import folder
from audit.publish.branding import Branding
from audit.publish.coverage import temporal_coverage
from audit.publish.index import by_folder, index_is_current, write_index
from audit.publish.package import (
    published_schema,
    write_data_files,
    write_descriptor,
    write_extract,
)
from audit.publish.revisions import PublishedRevisions
from audit.publish.versioning import next_version, schema_sha256
from audit.publish.witnessing import attach_checkpoint


@dataclass
class Publication:
    path: Path
    version: str          # the package's version (see `versioning`)
    why: str              # which part of the version rule gave it
    already_published: bool = False
    signed_by: str | None = None  # fingerprint of the key that signed its head


def relative_path(root: Path, path: Path) -> str:
    """How the log records a folder: relative to the workspace when inside it, since the log extract
    is published and the office's own folders need not be."""
    return str(path.relative_to(root) if path.is_relative_to(root) else path)


def existing_publication(root: Path, log: ChangeLog, dataset: Dataset, publication: LoggedPublication,
                         checkpoint: Callable[[Path, LoggedPublication], None] | None = None) -> Publication:
    """A release already published: its package, put in place first if a crash (or witnesses that did not answer)
    left it pending; `checkpoint` attaches the cosigned checkpoint to a pending package first (or raises)."""
    target = root / publication.path
    pending = folder.pending_folder(target, publication.hash)
    if checkpoint is not None and not target.is_dir() and pending.is_dir():
        checkpoint(pending, publication)
    if not folder.complete(target, publication.hash):
        raise StateError(f"{publication.release_id} was published to {target}, which is gone; "
                         "copy the package back from where it was published")
    _update_index(root, log, dataset, target.parent)
    return Publication(target, publication.package_version, "published before", already_published=True)


@dataclass
class Plan:
    """What publishing a release would do, worked out with every check made and nothing written; and, when
    it would be refused, why (every reason at once)."""

    release: Release
    version: str
    why: str
    target: Path
    files: list[str]
    signer: Any | None                    # audit.log.signing.Signer
    since: list[dict[str, Any]]           # the log's entries since the previous publication, checked: the extract
    previous: LoggedPublication | None    # the dataset's previous publication
    schema_sha256: str                    # of the published schema (for the version rule)
    recorded_by: str | None = None        # the workspace's recorder (never the system login)
    refusals: list[str] = field(default_factory=list)   # the gate: the office's to fix (exit 2)
    brand: Branding | None = None         # the office's name, logo and colour on the report page
    origin: str = ""                      # the name of the dataset's log in its checkpoint
    witnesses: Any | None = None          # audit.publish.witnessing.WitnessPolicy: who must cosign it
    issued: datetime.date | None = None   # the day the release was issued, as the office says (publish --issued)


def _undescribed_columns(log: ChangeLog, dataset: Dataset, release: Release) -> str | None:
    """Why the descriptor cannot document `release` (a reason that reads after "cannot be published without"),
    when the release's columns are not the descriptor's fields: a package documents every column it holds."""
    stored = [r[0] for r in log.con.execute(f"DESCRIBE SELECT * FROM {log.data_table(release.data_table)}").fetchall()]
    fields = [f.name for f in dataset.fields]
    added, removed = [c for c in stored if c not in fields], [f for f in fields if f not in stored]
    if not added and not removed:
        return None
    differs = "; ".join(part for part in (
        f"it has column(s) {', '.join(map(repr, added))} the descriptor does not describe" if added else "",
        f"the descriptor's field(s) {', '.join(map(repr, removed))} are not in it" if removed else "") if part)
    return (f"a descriptor that describes its columns ({differs}): run `audit init --update {dataset.name} FILE` "
            "with the release's file, check the result, then ingest it again")


def plan_publication(
    root: Path, log: ChangeLog, dataset: Dataset, release: Release, report: Report, out: Path,
    signing_key: Callable[[], Path | None], recorded_by: str | None = None, brand: Branding | None = None,
    origin: str = "", witnesses: Any | None = None, digest_rows: bool = True,
) -> Plan:
    """Check everything publishing `release` needs, write nothing. The release entry, the entries since the
    previous publication and the stored rows must still be what was recorded (TamperError, exit 1, if not);
    every other reason to refuse is collected in `refusals`. Without `digest_rows`, the stored rows need only be
    there: a publication holds the data file it writes from them to the recorded digest (`require_written_rows`),
    which rows changed since fail as surely, and digesting them first too cost about 2 s of a 10M-row publish."""
    from audit.log.signing import Signer

    refusals = publication_gaps(dataset, report)
    signer = None
    try:
        key = signing_key()
        signer = Signer(key) if key else None
    except ConfigError as exc:  # configured but missing or unreadable: never publish unsigned by mistake
        refusals.append(f"the configured signing key ({exc})")
    if witnesses is not None and signer is None and not refusals:
        refusals.append("a signing key: the witnesses in audit.yaml cosign only a checkpoint the office signed")
    earlier = log.publications(dataset.name)
    previous = earlier[-1] if earlier else None
    since = _entries_since(log, dataset.name, previous)
    log.require_recorded_entry(release)
    if kept_where_it_lies(release.data_table):
        refusals.append(f"its rows on this machine: release {release.version}'s rows are "
                        f"{where_it_lies(release.data_table)}, and a package holds them (publishing from the cluster "
                        "is not built)")
    else:
        log.require_stored_rows(release, "so it was not published", digest_them=digest_rows)
        undescribed = _undescribed_columns(log, dataset, release)
        if undescribed:
            refusals.append(undescribed)
    schema_sha = schema_sha256(published_schema(dataset))
    schema_changed = previous is not None and previous.schema_sha256 != schema_sha
    if previous is not None and not schema_changed and _unchanged(log, previous, release, report):
        refusals.append(f"a change since version {previous.package_version}: release {release.version} has the same "
                        f"rows, schema and findings as release {previous.release_label}, which it published")
    version, why = next_version(previous.package_version if previous else None, schema_changed,
                                report.revisions.counts if report.revisions else None)
    target = folder.package_folder(out, dataset.name, version)
    files = [dataset.data_path, "findings.csv", "validation.json", *(["revisions.csv"] if report.revisions else []),
             "report.html", "datapackage.json", "README.md", *([SUMS_FILE, SUMS_SIGNATURE] if signer else []),
             EXTRACT_FILE, HEAD_FILE]
    return Plan(release, version, why, target, files, signer, since, previous, schema_sha, recorded_by, refusals,
                brand, origin or f"crime-data-audit/{dataset.name}", witnesses)


def _unchanged(log: ChangeLog, previous: LoggedPublication, release: Release, report: Report) -> bool:
    """Whether `release` would publish nothing new: the previous package's rows (by digest) and findings."""
    before = log.release_by_id(previous.release_id)
    return before is not None and before.data_digest == release.data_digest \
        and [f.to_dict() for f in log.findings(before.release_id)] == [f.to_dict() for f in report.findings]


def publish_release(root: Path, log: ChangeLog, dataset: Dataset, report: Report, plan: Plan) -> Publication:
    """Carry out `plan` (made by `plan_publication`, with no refusals): build the package aside, record its
    publication, move it into place. After the data file is written it must read back as the stored rows;
    otherwise nothing is published (TamperError, exit 1)."""
    if plan.refusals:
        raise ValueError(f"a plan with refusals is not carried out: {plan.refusals}")
    release, version, why, target, signer = plan.release, plan.version, plan.why, plan.target, plan.signer
    previous = plan.previous
    revisions = published_revisions(log, report, release)
    folder.clear_abandoned(target.parent, {p.hash[:16] for p in log.publications(dataset.name)})
    staging = folder.staging_folder(target)
    stored = log.data_table(release.data_table)
    # A copy beside the log is a plain file, read for the data file, the report page and the coverage: the same file
    # for all three (the data file alone is held to the recorded digest, below).
    stored_file = log.data_file(release.data_table)
    stored_held = HeldFiles.of(stored_file) if stored_file is not None else None
    try:
        write_data_files(staging, log.con, stored, dataset, report, revisions, version, plan.brand)
        # The data file's bytes are digested in a thread while DuckDB reads it back (hashlib lets go of the GIL):
        # at 10M rows, 0.9 s that ran after the read-back, alone.
        data_file = staging / dataset.data_path
        # Its rows and its bytes are two reads: the file must be the same one for both (else the entry would name
        # bytes that were not the rows checked).
        held = HeldFiles.of(data_file)
        data_sha256 = meanwhile(lambda: file_sha256(data_file), "data file digest")
        require_written_rows(log, data_file, release, dataset)
        digest = data_sha256()
        if held.changed():
            raise TamperError(f"the data file written for {dataset.name} was changed while it was checked; nothing "
                              "was published")
        coverage = temporal_coverage(log.con, stored, dataset)
        if stored_held is not None and stored_held.changed():
            raise TamperError(f"release {release.release_id}: its stored rows ({stored_held.path.name}) were changed "
                              "while they were published; nothing was published. Run `audit verify` to see what "
                              "else was altered")
        # The data files are digested once: for the descriptor's resources, then for the publication entry.
        written, _ = package_files(staging, known={Path(dataset.data_path).as_posix(): digest})
        write_descriptor(staging, dataset, report, version, revisions, why, coverage, written, plan.issued)
        files, odd = package_files(staging, known=written)
        if odd:  # the tool writes plain files only
            raise RuntimeError(f"the package being built holds what is no plain file: {odd}")
        if signer:  # the files as sha256sum reads them, signed: a reader needs no install of this tool
            sums = sums_text(files).encode("utf-8")
            (staging / SUMS_FILE).write_bytes(sums)
            (staging / SUMS_SIGNATURE).write_bytes(signer.sign_bytes(sums))
            files, _ = package_files(staging, known=files)
        entry = log.next_entry("publications", dataset.name, {
            "release_id": release.release_id, "package_version": version, "path": relative_path(root, target),
            "files": as_json(files), "schema_sha256": plan.schema_sha256,
            "signing_key": signer.fingerprint if signer else None, "recorded_by": plan.recorded_by or NOT_STATED,
            "previous_seq": previous.seq if previous else 0,
        })
        head = {"dataset": dataset.name, "version": version, "seq": entry["seq"], "head": entry["hash"],
                "previous": None if previous is None else {
                    "version": previous.package_version, "seq": previous.seq, "head": previous.hash}}
        if signer:
            head["signature"] = signer.sign(entry["hash"])
        write_extract(staging, itertools.chain(plan.since, [entry]))
        write_head(staging, head)
        crash_point("publish-package-written")
        folder.seal(staging, folder.pending_folder(target, entry["hash"]))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    crash_point("publish-before-commit")
    with log.transaction():
        log.append_entry(entry)
    crash_point("publish-after-commit")
    if signer:  # the log as a tree through this entry, signed, and cosigned by the witnesses before it goes out
        attach_checkpoint(folder.pending_folder(target, entry["hash"]), log.entry_hashes(dataset.name)[:entry["seq"]],
                          previous.seq if previous else 0, signer, plan.origin, plan.witnesses)
    folder.complete(target, entry["hash"])
    _update_index(root, log, dataset, target.parent)
    return Publication(target, version, why, signed_by=signer.fingerprint if signer else None)


def _entries_since(log: ChangeLog, dataset: str, previous: LoggedPublication | None) -> list[dict[str, Any]]:
    """The log's entries after the previous publication, which the package's extract carries; refused
    (TamperError) unless they still link up, from that publication's hash, as recorded."""
    start_seq, start_hash = (previous.seq, previous.hash) if previous else (0, GENESIS)
    if previous is not None:
        log.require_recorded_entry(previous)
    entries = list(log.entries(dataset, after_seq=start_seq))
    chain = walk(dataset, entries, start_seq, start_hash)
    if chain.broken:
        raise TamperError(f"{chain.broken}; nothing was published. Run `audit verify` to see what else was altered")
    return entries


def require_written_rows(log: ChangeLog, path: Path, release: Release, dataset: Dataset) -> None:
    """The data file just written must read back as the release's rows as the log recorded them (their digest;
    as published: formula-like text defused, which reading back undoes), cell for cell and in order; otherwise
    nothing is published. Held to the recorded digest, not to the stored copy read again: a copy swapped while
    publish reads it gives a file that fails here. Where it fails, the stored copy is digested too, to say which
    was changed: the rows the log keeps, or the file as written."""
    from audit.publish.readback import data_problem

    problem = data_problem(log.con, path, release.definition, release.data_digest)
    if problem:
        log.require_stored_rows(release, "so it was not published")
        raise TamperError(f"the data file written for {dataset.name}: {problem}; nothing was published")


PLACEHOLDER = "TODO"


# The files a package holds besides its data: a resource that named one of them would publish no data at all.
METADATA_FILES = {"datapackage.json", "README.md", "findings.csv", "validation.json", "revisions.csv", "report.html",
                  SUMS_FILE, SUMS_SIGNATURE, EXTRACT_FILE, HEAD_FILE}


def data_path_problem(path: str) -> str | None:
    """Why `path` cannot be a package's data file (None when it can): a relative path inside the package, a CSV,
    and none of the package's own metadata files."""
    parts = Path(path).parts
    if not parts or Path(path).is_absolute() or ".." in parts or "\\" in path:
        return f"{path!r} is not a path inside the package"
    if path in METADATA_FILES:
        return f"{path!r} is one of the package's own metadata files"
    if not path.lower().endswith(".csv"):
        return f"{path!r} is not a .csv file"
    return None


def publication_gaps(dataset: Dataset, report: Report) -> list[str]:
    """What keeps a package from going out, every gap at once: a licence, a description of every field, and,
    where rates are published (the suite checks rate math), the population source and its vintage, since a rate
    means little without them; no placeholder `audit init` left; no waived finding that the package's own
    schema forbids (a repeated or missing key would make the package fail Frictionless validation)."""
    gaps = []
    data_path_gap = data_path_problem(dataset.data_path)
    if data_path_gap:
        gaps.append(f"a data path of its own for resource {dataset.resource_name!r}: {data_path_gap}")
    placeholders = _placeholders(dataset.descriptor)
    if placeholders:
        prefix = "resources.0.schema.fields."
        fields = [p[len(prefix):].rsplit(".", 1)[0] for p in placeholders if p.startswith(prefix)]
        named = [p for p in placeholders if not p.startswith(prefix)]
        if fields:
            named.append(f"the field entries of {', '.join(dict.fromkeys(fields))}")
        gaps.append(f"the {len(placeholders)} placeholder(s) `audit init` left ({', '.join(named)}): write what they "
                    "ask for")
    if not dataset.descriptor.get("licenses"):
        gaps.append("a licence (licenses: [{name: PDDL-1.0, path: https://opendatacommons.org/licenses/pddl/1-0/}])")
    undocumented = [f.name for f in dataset.fields if not str(f.descriptor.get("description", "")).strip()]
    if undocumented:
        gaps.append(f"a description of each field (none for {', '.join(undocumented)})")
    if any(o.check == Code.RATE_MATH for o in report.expectations):
        source = dataset.population_source
        if source is None or not source.get("vintage"):
            gaps.append("the population source and its vintage, since it publishes rates (sources: [{title: US Census "
                        "Bureau population estimates, kind: population, vintage: Vintage 2023 estimates}])")
    key = set(dataset.primary_key)
    broken_key = [f for f in report.waived if f.check in (Code.UNIQUE, Code.NOT_NULL) and key & set(f.columns)]
    if broken_key:
        gaps.append(f"a primary key that holds: {len(broken_key)} waived finding(s) say it repeats or is missing "
                    f"({broken_key[0].describe_key()}), so the package would fail Frictionless validation; correct "
                    "the rows, or choose a key that identifies them")
    return gaps


def _placeholders(value, path: str = "") -> list[str]:
    """Where in the descriptor a value still starts with TODO."""
    if isinstance(value, str):
        return [path or "(the descriptor)"] if value.strip().upper().startswith(PLACEHOLDER) else []
    items: Iterable[tuple[Any, Any]]  # a mapping's entries, or a list's by position
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return []
    found = []
    for key, item in items:
        if isinstance(value, list) and isinstance(item, dict) and "name" in item and path.endswith("fields"):
            key = item["name"]
        found += _placeholders(item, f"{path}.{key}" if path else str(key))
    return found


def published_revisions(log: ChangeLog, report: Report, release: Release) -> PublishedRevisions | None:
    """The release's changes against its baseline, with notes and waivers, as packages and reports show them."""
    if report.revisions is None:
        return None
    revisions = PublishedRevisions.from_log(report, [c.record() for c in log.changes(release.release_id)],
                                            log.notes(release.release_id))
    baseline = log.publication_of(str(report.revisions.baseline.release_id))
    if baseline is not None:  # name the version readers know, with the office's release label
        revisions.baseline_version = f"{baseline.package_version} (release {revisions.baseline_version})"
    return revisions


def _update_index(root: Path, log: ChangeLog, dataset: Dataset | str, dataset_folder: Path) -> None:
    name = dataset if isinstance(dataset, str) else dataset.name
    write_index(dataset_folder, name, by_folder(root, log.publications(name)).get(dataset_folder, []))


def pending_publications(root: Path, log: ChangeLog) -> list[LoggedPublication]:
    """The publications the log committed whose package a crash left hidden in its pending folder (none
    listed when the log is missing tables: verify reports that)."""
    if log.missing_tables():
        return []
    return [p for dataset in log.datasets() for p in log.publications(dataset)
            if not (root / p.path).exists() and folder.pending_folder(root / p.path, p.hash).is_dir()]


def finish_pending(root: Path, log: ChangeLog,
                   checkpoint: Callable[[Path, LoggedPublication], None] | None = None) -> list[LoggedPublication]:
    """Put in place every package whose publication the log committed but a crash left pending (whichever
    release it was for), once `checkpoint` has attached its cosigned checkpoint (a package whose witnesses do not
    answer stays pending); and rewrite every index that does not list exactly the published versions (a crash, or
    a full disk, after a commit). Returns the publications finished."""
    finished = []
    for publication in pending_publications(root, log):
        if checkpoint is not None:
            try:
                checkpoint(folder.pending_folder(root / publication.path, publication.hash), publication)
            except StateError as exc:
                sys.stderr.write(f"note: {publication.dataset} version {publication.package_version} stays pending: "
                                 f"{exc}\n")
                continue
        folder.complete(root / publication.path, publication.hash)
        finished.append(publication)
    # A folder with a version still pending keeps its index as it is until that version is in place: an index
    # never names a package a reader cannot download.
    waiting = {(root / p.path).parent for p in pending_publications(root, log)}
    for dataset in log.datasets():
        for dataset_folder, here in by_folder(root, log.publications(dataset)).items():
            if dataset_folder not in waiting and not index_is_current(dataset_folder, dataset, here):
                write_index(dataset_folder, dataset, here)
    return finished
