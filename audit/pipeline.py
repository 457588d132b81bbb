"""The library's public operations; each CLI command that works on a workspace calls one of these (`init` calls
audit.init, `keygen` audit.log.signing).

    check    file -> DuckDB (memory) -> diff against the last published release
             -> GX suite (+ the revision checks) -> waivers -> Report          (writes nothing)
    ingest   check, then the release, its data, notes, changes and findings -> change log (one transaction)
    publish  latest recorded release -> Frictionless package (+ a publication entry in the log)
    report   recorded release -> one static HTML page (summary, charts, findings, revisions)       (writes the page)
    feed     published packages -> DCAT-US data.json for portals                                (reads no log)
    site     published packages, each verified as an outsider would -> the public site        (reads no log)
    verify   change log -> every chain recomputed; packages -> checked alone and against the log  (writes nothing)
    diff     two recorded releases compared cell by cell, each change with its note   (writes nothing)
    reconcile incident data counted by period x category -> compared with a summary table (writes nothing)
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from audit.dataset import Dataset
from audit.diff import DiffResult, RevisionNote, Revisions, diff_releases, load_notes
from audit.diff.notes import check_note_values
from audit.diff.window import BY as WINDOW_BY
from audit.diff.window import title_as_of, window_notes
from audit.engine import DUCKDB, Engine, parquet
from audit.engine import choose as choose_engine
from audit.errors import ConfigError, NotReadableHere, StateError, TamperError
from audit.files import HeldFiles, is_uri, write_atomically, written_aside
from audit.findings import SCHEMA_CHANGE, ClaimResult, Code, Finding, Outcome, ReleaseInfo, Report
from audit.ingest import RELEASE_TABLE, LoadedRelease, load_release
from audit.ingest.columns import every_field, schema_findings
from audit.ingest.lines import with_lines
from audit.labels import label_key, plain_label
from audit.log import ChangeLog, copies, open_log
from audit.log.copies import kept_where_it_lies, secret_in, where_it_lies
from audit.log.entries import Release
from audit.log.recording import Recording, record_release
from audit.outputs import Output, mark, no_empty_folders_left
from audit.progress import step
from audit.publish.branding import branding
from audit.sql import ident
from audit.validate import Validation, import_in_background, validate_release
from audit.waivers import apply_waivers, load_waivers, require_known_keys
from audit.workspace import CONFIG_FILE, Workspace


def _open_log(con: duckdb.DuckDBPyConnection, workspace: Workspace, read_only: bool = False,
              for_verify: bool = False) -> ChangeLog:
    """Open the workspace's log. A command that writes refuses to start a new log where packages were
    published (their history would be lost), and first finishes any publication a crash left pending."""
    if not read_only:
        workspace.refuse_linked_log()
    if not read_only and not workspace.log_path.exists():
        orphans = workspace.published_datasets()
        if orphans:
            raise StateError(f"there is no change log at {workspace.log_path}, but {workspace.publish_root} holds "
                             f"published packages of {', '.join(orphans)}: the log was deleted or moved. Restore it; "
                             "a new log would start a history that no published package continues")
    log = open_log(con, workspace.log_path, read_only, workspace.lock_timeout, reshaped_ok=for_verify)
    from audit.publish.publication import finish_pending, pending_publications

    if not read_only:
        finish_pending(workspace.root, log, _checkpointer(workspace, log))
    else:  # a command that writes nothing cannot finish them, but says so (on stderr, apart from its output)
        try:
            pending = pending_publications(workspace.root, log)
        except (TamperError, duckdb.Error):
            pending = []  # an altered log: verify says what, and other commands refuse what they need from it
        for publication in pending:
            sys.stderr.write(f"note: {publication.dataset} version {publication.package_version} is half-published "
                             f"(a crash interrupted it); run `audit publish {publication.dataset}` to finish it\n")
    return log


@dataclass
class IngestResult:
    report: Report
    already_recorded: bool = False
    supersedes: str | None = None  # a re-audit: the earlier release of the same file it supersedes


@dataclass
class PublishResult:
    report: Report
    path: Path | None
    version: str                      # the release's label
    refused: bool = False             # blocking findings (exit 1)
    already_published: bool = False
    package_version: str | None = None  # the package's version (audit.publish.versioning)
    version_rule: str | None = None
    signed_by: str | None = None
    dry_run: bool = False
    files: list[str] | None = None    # with dry_run: what would be written
    refusals: list[str] | None = None  # with dry_run: every reason it would be refused besides findings


def _release_info(version: str | None, sha256: str, source: str, rows: int) -> ReleaseInfo:
    """The `release` part of a report, whether from a file just loaded or from the log."""
    return ReleaseInfo(version, sha256, source, rows)


BASELINES = ("published", "recorded")


def _baseline_info(release: Release, kind: str = "published") -> dict:
    """A baseline release as reports name it; `kind` says which it is: the last published release (what readers
    have), or the last recorded one (the previous week, for an office that checks weekly and publishes monthly)."""
    return {**release.info().to_dict(), "release_id": release.release_id, "kind": kind}


@dataclass
class Audited:
    """One loaded release, validated: its report and what the log needs to record it."""

    report: Report
    waivers: list
    notes: list[RevisionNote]
    revisions: Revisions | None
    validation: Validation


def _checkpointer(workspace: Workspace, log: ChangeLog):
    """What attaches a pending package's cosigned checkpoint before it is put in place: the workspace's signing key
    and witnesses (nothing to attach without a key)."""
    from audit.log.signing import Signer
    from audit.publish.witnessing import attach_checkpoint

    def attach(pending: Path, publication) -> None:
        key = workspace.signing_key
        if key is None:
            return
        hashes = log.entry_hashes(publication.dataset)[:publication.seq]
        attach_checkpoint(pending, hashes, publication.previous_seq, Signer(key), workspace.log_origin(publication.dataset),
                          workspace.witnesses)

    return attach


@dataclass
class OfficeInputs:
    """What the office ships with a release besides the file: its waivers and revision notes, read (and
    checked) before anything is opened for writing."""

    waivers: list
    notes: list[RevisionNote]
    notes_source: str
    against: str = "published"      # the baseline changes are counted against: see BASELINES
    engine: Engine = DUCKDB         # where the suite and the diff's passes run (audit.engine)
    waivers_source: str = "waivers"
    as_of: datetime.date | None = None   # where the release's window ends, as the office declares it
    # A published package to compare with instead of the log's baseline (check --baseline), loaded as a table:
    # (that table, the baseline as reports name it, the file its release was read from).
    package_baseline: tuple[str, dict, str] | None = None

    @classmethod
    def read(cls, dataset: Dataset, waivers_path, notes_path, against: str = "published") -> "OfficeInputs":
        if against not in BASELINES:
            raise ConfigError(f"the baseline is one of {', '.join(BASELINES)}, not {against!r}")
        return cls(load_waivers(waivers_path), load_notes(notes_path, dataset), str(notes_path or "revision notes"),
                   against, waivers_source=str(waivers_path or "waivers"))


def _audit_loaded(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, loaded: LoadedRelease, inputs: OfficeInputs, version,
    log: ChangeLog | None = None,
) -> Audited:
    """Diff `loaded` against its baseline (the last published release, or the last recorded one when the office
    asks), if the log has one; validate; apply waivers. The release is read as it is (`loaded.dataset`): a column
    the descriptor does not have is kept, a field it has no column for is left out, and each is a finding."""
    waivers, notes = inputs.waivers, inputs.notes
    described, dataset = dataset, loaded.dataset
    baseline = None
    if log is not None and inputs.package_baseline is None:
        baseline = log.last_published(dataset.name) if inputs.against == "published" else log.latest_release(dataset.name)
    revisions, old_rows, old_info, old_source = None, "", None, None
    baseline_rows: RecordedRows | None = None
    tables: dict[str, Path | None] = {loaded.table: None}  # for Spark: the tables it reads, and their files if kept
    if inputs.package_baseline is not None:
        old_rows, old_info, old_source = inputs.package_baseline
        tables[old_rows] = None
    elif baseline is not None and log is not None:
        # Changes are counted against the baseline's rows as recorded, not as the log file now holds them.
        why = f"so changes since the {inputs.against} release {baseline.version} cannot be counted and nothing was recorded"
        baseline_rows = _recorded_rows(con, log, dataset, baseline, inputs.engine, why, BASELINE_IN_PLACE)
        old_rows = baseline_rows.sql
        tables[old_rows] = log.data_file(baseline.data_table)
        old_info, old_source = _baseline_info(baseline, inputs.against), baseline.source_name
    with inputs.engine.readable(con, tables):
        if old_info is not None:
            # A rolling window's rows leaving and entering it are explained by notes of the window's own.
            title = next((n.example for n in loaded.normalisations if n.kind == "title-rows"), None)
            own = window_notes(con, dataset, old_rows, loaded.table, old_source, loaded.source.name,
                               inputs.as_of or title_as_of(dataset, title))
            taken = {n.id for n in notes} & {n.id for n in own}
            if taken:
                raise ConfigError(f"{inputs.notes_source}: note id {sorted(taken)[0]!r} is the window's own; "
                                  "choose another")
            notes = notes + own
            with step(f"comparing with release {old_info.get('version')}"):
                revisions = diff_releases(con, dataset, old_rows, loaded.table, old_info, notes, inputs.notes_source,
                                          inputs.engine)
        extra = revisions.expectations(dataset.primary_key) if revisions else []
        with step("running the checks"):
            validation = validate_release(con, loaded.table, dataset, extra, inputs.engine,
                                          frozenset(loaded.columns.removed))
    if baseline_rows is not None:
        baseline_rows.confirm()  # read for the last time: the diff and the checks are done
    # What reading the file found about its cells and columns is one more check, after the suite's.
    read = list(loaded.findings) + schema_findings(described, loaded.columns, dataset, validation.not_run)
    columns_check = Outcome("the file's columns are the descriptor's", SCHEMA_CHANGE, [c for f in read for c in f.columns],
                            len(validation.findings), len(read))
    unrun, unrun_findings = _not_run_in_place(validation, len(validation.findings) + len(read))
    outcomes = validation.expectations + [columns_check] + unrun
    read += unrun_findings
    require_known_keys(waivers, {f.name for f in dataset.fields}, validation.findings + read,
                       inputs.waivers_source, dataset.name)
    findings, waiver_use = apply_waivers(validation.findings + read, waivers)
    if loaded.lines is not None:  # each finding about a row, with the file's line it was read from
        findings = with_lines(con, loaded.table, loaded.lines, dataset.primary_key, findings)
    info = _release_info(version, loaded.sha256, loaded.source.name, loaded.row_count)
    if inputs.engine is not DUCKDB:  # which engine ran which checks (and the diff's passes), in the report
        info.engines = dict((validation.gx_result.meta or {}).get("engines") or {})
        if revisions is not None:
            info.engines["diff"] = inputs.engine.name
    report = Report(dataset.name, info, findings, waiver_use, validation.claims,
                    revisions.summary() if revisions else None, outcomes,
                    [n.to_dict() for n in loaded.normalisations])
    return Audited(report, waivers, notes, revisions, validation)


def _not_run_in_place(validation: Validation, first: int) -> tuple[list[Outcome], list[Finding]]:
    """The checks that could not run on a release read where it lies: one outcome, whose findings start at index
    `first` of the report's, and a `not-run` finding for each, so that no verdict passes them (none: two empty
    lists)."""
    unrun = validation.not_run_in_place
    if not unrun:
        return [], []
    return [Outcome("every check ran on the release where it lies", Code.NOT_RUN, [], first, len(unrun))], unrun


def _office_inputs(con: duckdb.DuckDBPyConnection, dataset: Dataset, loaded: LoadedRelease, waivers, notes,
                   against: str, engine: Engine, as_of: datetime.date | None = None) -> OfficeInputs:
    """The waivers and notes for `loaded`, checked against every field they may name: the descriptor's and those
    the release adds (a note explaining a column added names it); and the as-of date, which only a window uses."""
    if as_of is not None and not dataset.window:
        raise ConfigError(f"--as-of says where {dataset.name}'s rolling window ends, but its descriptor declares no "
                          "window")
    fields = every_field(dataset, loaded.dataset)
    inputs = OfficeInputs.read(fields, waivers, notes, against)
    inputs.engine, inputs.as_of = engine, as_of
    check_note_values(con, inputs.notes, fields, inputs.notes_source)
    return inputs


def _use_engine(workspace: Workspace, engine: str | None) -> Engine:
    """The engine a command runs on: `engine` (--engine), else audit.yaml's `engine:`, else DuckDB."""
    return choose_engine(engine, workspace.config, workspace.root / CONFIG_FILE)


def check(
    workspace: Workspace, dataset_name: str, file: str | Path, waivers: str | Path | None = None,
    notes: str | Path | None = None, against: str = "published", engine: str | None = None,
    as_of: datetime.date | None = None, baseline: str | Path | None = None,
) -> Report:
    """Validate `file` against the dataset's descriptor and suite and, when the log has a baseline (the last
    published release, or with `against="recorded"` the last recorded one), against it: every change must be
    covered by a note in `notes`. With `baseline`, a published package (its folder) is the baseline instead, once it
    verifies: a check in CI then needs no change log beside it. Writes nothing."""
    dataset = workspace.dataset(dataset_name)
    chosen = _use_engine(workspace, engine)
    with workspace.work_database() as con:
        # A Parquet release stays in its files (a view), as nothing is recorded: the checks that judge each row
        # read it in one pass (audit.validate.fused), and a 100M-row release no longer spills a copy to disk that
        # each check reads back. For Spark, DuckDB streams it to the cluster's staging file.
        loaded = _load(con, dataset, file, chosen, lazy=True)
        inputs = _office_inputs(con, dataset, loaded, waivers, notes, against, chosen, as_of)
        if baseline is not None:
            inputs.package_baseline = _package_baseline(con, workspace, dataset, Path(baseline))
            audited = _audit_loaded(con, dataset, loaded, inputs, None, None)
        else:
            log = _open_log(con, workspace, read_only=True) if workspace.log_path.exists() else None
            audited = _audit_loaded(con, dataset, loaded, inputs, None, log)
        loaded.confirm_unchanged()  # what was checked is what the report's digest names
        return audited.report


def _load(con: duckdb.DuckDBPyConnection, dataset: Dataset, file: str | Path, engine: Engine,
          lazy: bool, table: str = RELEASE_TABLE) -> LoadedRelease:
    """The command's release, as `table`: named by a URI, read where it lies by the cluster (this machine opens none
    of it); else read by DuckDB (`lazy`: a Parquet release as a view over its files), GX's import starting
    meanwhile."""
    if is_uri(file):
        secret = secret_in(str(file))
        if secret is not None:  # said before anything repeats the URI: an error, a report, Spark's own log
            raise ConfigError(f"{secret[1]}: a release's URI must carry no {secret[0]}, as errors and reports repeat "
                              "it, and the log records it where the release is kept, which a published package's "
                              "log extract shows: give credentials in audit.yaml's spark: conf:, as the cluster's "
                              "settings")
        import_in_background(engine)
        return _load_in_place(con, dataset, str(file), engine, table)
    return load_release(con, dataset, file, table, lazy=lazy, start_meanwhile=lambda: import_in_background(engine))


def _load_in_place(con: duckdb.DuckDBPyConnection, dataset: Dataset, uri: str, engine: Engine,
                   table: str) -> LoadedRelease:
    """The release at `uri`, read, typed and kept where it lies by the Spark `engine` (audit.ingest.in_place)."""
    from audit.ingest.in_place import load_in_place

    if engine.name != "spark":
        raise ConfigError(f"{uri}: a release named by a URI is read where it lies, by Spark: give --engine spark (or "
                          "engine: spark in audit.yaml, with the cluster under spark:)")
    if dataset.window:
        raise ConfigError(f"{uri}: {dataset.name} keeps a rolling window, whose rows leaving and entering it are "
                          "matched on this machine: give the release as a file")
    with step(f"reading {uri} where it lies"):
        return load_in_place(con, dataset, uri, engine, table)


@dataclass(frozen=True)
class RecordedRows:
    """A recorded release's rows as a command reads them (`sql`), held to the digest recorded with them before they
    are read. A copy kept beside the log is a plain file, read again after that digest: it is held to one identity
    (audit.files.HeldFiles) until the command calls `confirm`, once it has read them for the last time."""

    sql: str
    release: Release
    why: str                        # what could not be done for want of them, which ends a refusal
    held: HeldFiles | None = None

    def confirm(self) -> None:
        """TamperError if the copy beside the log changed since it was digested."""
        if self.held is not None and self.held.changed():
            r = self.release
            raise TamperError(f"release {r.release_id} (seq {r.seq}): its stored rows ({self.held.path.name}) were "
                              f"changed while they were read; {self.why}. Run `audit verify` to see what else was "
                              "altered")


def _recorded_rows(con: duckdb.DuckDBPyConnection, log: ChangeLog, dataset: Dataset, release: Release,
                   engine: Engine, why: str, table: str) -> RecordedRows:
    """The rows recorded as `release`, held to their recorded digest (TamperError if they differ): the log's copy;
    or, for a release the log keeps where it lies, its rows read there again by the Spark `engine` as `table`
    (audit.ingest.in_place.read_kept). `why` ends each refusal: what could not be done for want of them."""
    from audit.ingest.in_place import read_kept

    uri = release.data_table
    if not kept_where_it_lies(uri):
        file = log.data_file(uri)
        held = HeldFiles.of(file) if file is not None else None  # before its digest
        log.require_stored_rows(release, why)
        return RecordedRows(log.data_table(uri), release, why, held)
    if engine.name != "spark":
        raise NotReadableHere(f"{dataset.name} release {release.version}'s rows are {where_it_lies(uri)}; {why}. "
                              "Give --engine spark")
    with step(f"reading release {release.version} where it lies"):
        kept = read_kept(con, release, engine, table)
    where = f"release {release.release_id} (seq {release.seq}): its rows kept at {uri}"
    if kept.differ:
        raise TamperError(f"{where} {kept.differ}; {why}. Run `audit verify` to see what else was altered")
    if kept.unreadable:  # this machine cannot tell removed files from a cluster that cannot reach them: exit 2
        raise NotReadableHere(f"{where} {kept.unreadable}; {why}")
    return RecordedRows(table, release, why)


BASELINE_IN_PLACE = "baseline_in_place"  # a baseline kept where it lies, as read there again
REPORT_IN_PLACE = "report_in_place"  # a release reported on, kept where it lies, as read there again
PACKAGE_BASELINE = "package_baseline"


def _package_baseline(con: duckdb.DuckDBPyConnection, workspace: Workspace, dataset: Dataset,
                      folder: Path) -> tuple[str, dict, str]:
    """The published package in `folder` as a baseline: checked first as an outsider would (its chain, its files, its
    signature by the office's key where one is configured: TamperError, exit 1, if it does not hold), then its data
    read as the dataset's (as table PACKAGE_BASELINE). Returns that table, the baseline as reports name it, and the
    file its release was read from (for a window ending at a file name's date)."""
    import json

    from audit.verify.package import verify_package
    from audit.verify.witnessed import hold_to_witnesses

    if not (folder / "datapackage.json").is_file():
        raise ConfigError(f"--baseline {folder}: no datapackage.json there; give the folder of a published package "
                          f"(published/{dataset.name}/VERSION)")
    trust = _site_trust(workspace)
    # Checked, then read again as the baseline: the same files for both (a data file swapped once it verified would
    # be compared with unverified). Held from before the check to the end of the read.
    held = HeldFiles.of(folder, lambda root: sorted(p for p in root.rglob("*") if p.is_file()))
    check = verify_package(folder, trust.office_key)
    if workspace.witnesses is not None and not check.failed:
        # The witnesses audit.yaml names must have cosigned it, and are asked whether they saw a later version: an
        # old package given as the baseline would hide a change reverted since.
        hold_to_witnesses([check], _required_by(workspace.witnesses, None, None))
    if check.failed:
        raise StateError(f"--baseline {folder}: the package could not be checked ({check.failed})")
    if check.problems:
        raise TamperError(f"--baseline {folder}: the package does not verify, so nothing was compared with it: "
                          f"{check.problems[0]}")
    if check.dataset != dataset.name:
        raise ConfigError(f"--baseline {folder}: a package of {check.dataset!r}, not of {dataset.name!r}")
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    release = (package.get("audit") or {}).get("release") or {}
    data = folder / str((package.get("resources") or [{}])[0].get("path") or dataset.data_path)
    load_release(con, dataset, data, table=PACKAGE_BASELINE)
    if held.changed():
        raise TamperError(f"--baseline {folder}: the package was changed while it was checked and read, so nothing "
                          "was compared with it")
    info = {"version": release.get("version"), "release_id": f"{dataset.name}@{release.get('version')}",
            "sha256": release.get("sha256"), "source": release.get("source"), "rows": release.get("rows"),
            "kind": "published", "package": str(package.get("version") or check.version),
            "vouched": _vouched(check, trust.office_key is not None), "held": trust.office_key is not None}
    return PACKAGE_BASELINE, info, str(release.get("source") or data.name)


def _vouched(check, keyed: bool) -> str:
    """What vouches for a baseline package, as one sentence a report prints: without the office's key, only that it
    is self-consistent, which a package anyone made would be too."""
    what = f"package {check.version} verified: its files and change-log extract hold"
    if not keyed:
        what += (", but nothing ties it to the office: audit.yaml names no office key (site.public_key or "
                 "signing_key), so a package anyone made would verify as well")
    else:
        what += f", signed by the office's key {check.signed_by}"
    if check.cosigned:
        what += f", cosigned by {', '.join(sorted(check.cosigned))}"
    return "; ".join([what, *check.caveats])


def _report_from_log(log: ChangeLog, dataset: str, release: Release) -> Report:
    validation = log.validation(release.release_id)
    return Report(dataset, release.info(), log.findings(release.release_id),
                  claims=[ClaimResult.from_dict(c) for c in validation.claims],
                  revisions=log.revision_summary(release.release_id),
                  expectations=[Outcome.from_dict(o) for o in validation.expectations],
                  normalisations=release.normalisations)


def ingest(
    workspace: Workspace,
    dataset_name: str,
    file: str | Path,
    waivers: str | Path | None = None,
    version: str | None = None,
    notes: str | Path | None = None,
    against: str = "published",
    engine: str | None = None,
    as_of: datetime.date | None = None,
) -> IngestResult:
    """Validate `file` and record it, its data, its revision notes, its changes since the last
    published release and its findings in the change log.

    A file already recorded (same content) with the same label, waivers and notes is not recorded twice: the
    result is its recorded report, flagged `already_recorded`. With a new label, or other waivers or notes, it
    is re-audited: recorded again as a new release that `supersedes` the earlier one (which stays in the log),
    compared with what is published now.
    """
    dataset = workspace.dataset(dataset_name)
    if version is not None:
        plain_label(version, "release label (--version)")
    chosen = _use_engine(workspace, engine)
    # A release named by a URI is read where it lies, by the cluster, and the log keeps the URI and its files'
    # digest in place of a copy of its rows (audit.log.copies).
    kept_at = str(file) if is_uri(file) else None
    with workspace.work_database() as con:
        # Load and check every input first: a file that cannot be read must not even create the log. GX's import
        # starts once reading is DuckDB's work (`start_meanwhile`). A Parquet release stays a view over its files:
        # on DuckDB the log's copy is written from it first, and checked (`_copy_first`).
        loaded = _load(con, dataset, file, chosen, lazy=True)
        inputs = _office_inputs(con, dataset, loaded, waivers, notes, against, chosen, as_of)
        with _log_for_writing(con, workspace) as log:
            return _ingest_loaded(workspace, con, log, dataset, loaded, inputs, version, kept_at)


@contextmanager
def _log_for_writing(con: duckdb.DuckDBPyConnection, workspace: Workspace) -> Iterator[ChangeLog]:
    """The workspace's log, opened to write; if the command fails and it created the log, the log is removed."""
    log = _open_log(con, workspace)
    try:
        yield log
    except BaseException:
        log.remove_if_created()
        raise


def _ingest_loaded(workspace: Workspace, con: duckdb.DuckDBPyConnection, log: ChangeLog, dataset: Dataset,
                   loaded: LoadedRelease, inputs: OfficeInputs, version: str | None,
                   kept_at: str | None = None) -> IngestResult:
    """Ingest's part under the open log: recognise the file, choose the label, audit, record."""
    clash = [d for d in log.datasets() if label_key(d) == label_key(dataset.name) and d != dataset.name]
    if clash:
        raise StateError(f"the log already records a dataset {clash[0]!r}: names that differ only in case are one "
                         f"name (a folder or table name ignores case on many systems); use {clash[0]!r}")
    known = log.release_by_sha(dataset.name, loaded.sha256)
    # A file already recorded is recorded again (re-audited, superseding the earlier record, which stays in
    # the log) under a new label, or when its waivers or notes are not the ones recorded with it; the same
    # file with the same label, waivers and notes is recognised and nothing new is logged.
    supersedes = None
    if known is not None:
        relabelled = version is not None and label_key(version) != label_key(known.version)
        if not relabelled and not _inputs_differ(log, known, inputs):
            return IngestResult(_report_from_log(log, dataset.name, known), already_recorded=True)
        supersedes = known.release_id
        version = version if relabelled else _reaudit_label(known.version, log.release_labels(dataset.name))
    holder = log.release_by_version(dataset.name, version) if version is not None else None
    if holder is not None:
        taken = holder.version
        raise StateError(f"{dataset.name} already has a release {taken!r} with different content (labels that "
                         f"differ only in case are one label); choose another --version")
    version = version or _next_label(log.release_labels(dataset.name))
    docs_page = workspace.data_docs_page(dataset.name, version)  # refused before anything is recorded
    copy = _copy_first(log, con, loaded, f"{dataset.name}@{version}", inputs.engine, kept_at)
    if copy is not None:  # confirmed as the same files, and never read again: what follows reads the copy
        loaded = replace(loaded, held=None)
    handed_over = False
    try:
        audited = _audit_loaded(con, dataset, loaded, inputs, version, log)
        # The Data Docs page is written aside before the release is recorded (a full disk stops the command
        # with nothing recorded) and put in place after.
        with no_empty_folders_left(docs_page.parent), \
                written_aside(docs_page, audited.validation.data_docs(audited.report)) as put_in_place:
            recording = _recording(log, dataset, loaded, audited, version, workspace.recorder, supersedes, kept_at,
                                   copy)
            with step(f"recording release {version}"):
                handed_over = True  # the recording removes the copy if it fails, or makes it the log's
                record_release(log, dataset.name, recording)
            log.require_in_place()
            put_in_place()
    except BaseException:
        if copy is not None and not handed_over:
            copies.discard(copy.path)
        raise
    _write_docs_index(docs_page.parent, dataset.title)
    return IngestResult(audited.report, supersedes=supersedes)


def _copy_first(log: ChangeLog, con: duckdb.DuckDBPyConnection, loaded: LoadedRelease, release_id: str,
                engine: Engine, kept_at: str | None) -> HeldFiles | None:
    """For a Parquet release on DuckDB: write the copy the log will keep beside it (audit.log.copies), as a
    pending file, and make `loaded.table` a view over it, so that what is checked and diffed is what the log keeps
    and nothing reads the release's own files again. Returns the pending file, held to its identity as written (None
    for any other release, whose rows the recording copies from `loaded.table`).

    Before, the release was made a table of the working database and then copied to the log's file: at 100M rows
    that table alone spilled gigabytes. Written under the log's lock (the caller holds the log for writing): the
    next writer removes a pending file no entry names, the remains of an ingest that stopped."""
    if not loaded.parquet or engine.parquet_in_place or log.path is None or kept_at is not None:
        return None
    copy = copies.pending_copy(log.path, release_id)
    copy.parent.mkdir(exist_ok=True)
    try:
        with step(f"keeping a copy of {loaded.source.name} for the log"):
            parquet.write(con, ident(loaded.table), copy)
        # The files read for the copy are the ones digested and scanned (else exit 2, before any check runs).
        loaded.confirm_unchanged()
        # Held from now to its digest, as the recording takes it: the checks read this file, and what the log
        # records of it must be what they read.
        held = HeldFiles.of(copy)
        con.execute(f"CREATE OR REPLACE VIEW {ident(loaded.table)} AS SELECT * FROM {parquet.as_sql(copy)}")
    except BaseException:
        copies.discard(copy)
        raise
    return held


def _write_docs_index(folder: Path, title: str) -> None:
    """data-docs/DATASET/index.html: a link to each release's Data Docs page, newest first (GX's pages have no
    index of their own). Rewritten whole after each ingest; only pages already in place are listed."""
    import html

    pages = sorted((p for p in folder.glob("*.html") if p.name != "index.html"), key=lambda p: p.stat().st_mtime,
                   reverse=True)
    items = "".join(f'<li><a href="{html.escape(p.name)}">Release {html.escape(p.stem)}</a></li>' for p in pages)
    write_atomically(folder / "index.html", (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}: Data Docs</title>'
        f'</head><body><h1>{html.escape(title)}</h1><p>Great Expectations Data Docs of each recorded release, newest '
        f'first. Each page\'s verdict is the audit report\'s: findings the office waived do not fail it.</p>'
        f'<ul>{items}</ul></body></html>\n'))


def _inputs_differ(log: ChangeLog, release: Release, inputs: OfficeInputs) -> bool:
    """Whether the waivers or notes given now are not the ones recorded with `release`."""
    from audit.log.store import as_json

    return as_json(log.waivers(release.release_id)) != as_json(inputs.waivers) or \
        as_json(log.notes(release.release_id)) != as_json([n.to_dict() for n in inputs.notes])


def _reaudit_label(label: str, taken: set[str]) -> str:
    """The label of a re-audit of release `label`: label-r2, label-r3, ..."""
    number = 2
    while label_key(f"{label}-r{number}") in taken:
        number += 1
    return f"{label}-r{number}"


def _next_label(taken: set[str]) -> str:
    """The automatic label: the next number that no release of the dataset has."""
    number = len(taken) + 1
    while str(number) in taken:
        number += 1
    return str(number)


def _newly_published(log: ChangeLog, dataset: str, release: Release) -> Release | None:
    """The release published since `release` was recorded, if it is not the one `release` was compared
    with then (nor `release` itself): its changes since that release have not been checked."""
    published = log.last_published(dataset)
    if published is None or published.release_id == release.release_id:
        return None
    summary = log.revision_summary(release.release_id)
    compared = summary.baseline.release_id if summary is not None else None
    return None if compared == published.release_id else published


def _recording(log: ChangeLog, dataset: Dataset, loaded: LoadedRelease, audited: Audited, version: str,
               recorder: str | None, supersedes: str | None, kept_at: str | None,
               copy: HeldFiles | None) -> Recording:
    release_id = f"{dataset.name}@{version}"
    assert audited.validation.suite_sha256 is not None, "a release's validation read its suite (validate_release)"
    changes = () if audited.revisions is None else audited.revisions.records(log.con, dataset.primary_key)
    return Recording(
        release_id=release_id, version=version, table=loaded.table, sha256=loaded.sha256,
        source_name=loaded.source.name, row_count=loaded.row_count, definition=dataset.descriptor,
        suite_sha256=audited.validation.suite_sha256, report=audited.report,
        waivers=audited.waivers, notes=[n.to_dict() for n in audited.notes],
        baseline_release_id=None if audited.revisions is None else audited.revisions.baseline["release_id"],
        recorded_by=recorder, supersedes=supersedes, changes=changes, keep_as_parquet=loaded.parquet,
        kept_at=kept_at, copy_held=copy, confirm_source=loaded.confirm_unchanged)


def publish(
    workspace: Workspace, dataset_name: str, out: str | Path | None = None, version: str | None = None,
    dry_run: bool = False, issued: datetime.date | None = None,
) -> PublishResult:
    """Publish the latest recorded release (or release `version`) as a data package in its own
    versioned folder under `out` (default: the workspace's published/), unless it has unwaived
    findings (unexplained revisions among them: `refused`) or the gate names gaps (a ConfigError naming
    every one). With `dry_run`, write nothing and say what would be written, or every reason it would not.
    `issued` is the day the release was issued (default: the date in its file's name, if any), shown beside the
    day it is published.

    A release already published is not published again: the result names its package (and
    finishes putting it in place if a crash interrupted that)."""
    from audit.publish.publication import (
        existing_publication,
        plan_publication,
        publish_release,
    )

    dataset = workspace.dataset(dataset_name)
    if issued is not None and issued > datetime.date.today():
        raise ConfigError(f"--issued {issued.isoformat()} is after today: a release cannot have been issued yet")
    root = workspace.output(Output.PUBLICATION_ROOT, Path(out) if out else None, workspace.publish_root)
    if not workspace.log_path.exists():
        raise StateError(f"nothing recorded yet for {dataset.name}: run `audit ingest` first")
    with workspace.work_database() as con:
        log = _open_log(con, workspace, read_only=dry_run)
        release = log.release_by_version(dataset.name, version) if version else log.latest_release(dataset.name)
        if release is None:
            which = f"no release {version!r}" if version else "nothing"
            raise StateError(f"{which} recorded yet for {dataset.name}: run `audit ingest` first")
        report = _report_from_log(log, dataset.name, release)
        published = log.publication_of(release.release_id)
        if published is not None:
            if dry_run:
                return PublishResult(report, workspace.root / published.path, release.version, already_published=True,
                                     package_version=published.package_version, dry_run=True)
            publication = existing_publication(workspace.root, log, dataset, published,
                                               _checkpointer(workspace, log))
            return PublishResult(report, publication.path, release.version, package_version=publication.version,
                                 version_rule=publication.why, already_published=True)
        if not report.success and not dry_run:
            return PublishResult(report, None, release.version, refused=True)
        newer = _newly_published(log, dataset.name, release)
        summary = log.revision_summary(release.release_id)
        compared = summary.baseline if summary is not None else None
        why = (f"was compared with the recorded release {compared.version} (--against recorded), not with the "
               f"published release {newer.version}" if compared is not None and compared.kind == "recorded"
               and newer is not None
               else f"was recorded before release {newer.version} was published" if newer is not None else "")
        stale = [] if newer is None else [
            f"release {release.version} {why}, so its changes since {newer.version} were never checked against "
            f"revision notes; ingest the file again with its notes and a new --version (say {release.version}-r) "
            f"to compare it with what is published, then publish that"]
        if stale and not dry_run:
            raise StateError(stale[0])
        with step(f"checking release {release.version} as recorded"):
            plan = plan_publication(workspace.root, log, dataset, release, report, root,
                                    lambda: workspace.signing_key, workspace.recorder,
                                    branding(workspace.config, workspace.root), workspace.log_origin(dataset.name),
                                    workspace.witnesses, digest_rows=dry_run)
        plan.issued = issued
        if dry_run:
            return PublishResult(report, plan.target, release.version, refused=not report.success,
                                 package_version=plan.version, version_rule=plan.why,
                                 signed_by=plan.signer.fingerprint if plan.signer else None, dry_run=True,
                                 # Each reason reads after "cannot be published without".
                                 files=plan.files, refusals=[f"a comparison with the published release "
                                                             f"{newer.version} ({s})" for s in stale if newer]
                                 + plan.refusals)
        if plan.refusals:
            raise ConfigError(f"{dataset.descriptor_path}: {dataset.name} release {release.version} cannot be "
                              "published without " + "; ".join(plan.refusals))
        with no_empty_folders_left(plan.target):
            if root != workspace.publish_root:
                mark(root, Output.PUBLICATION_ROOT)
            with step(f"publishing version {plan.version}"):
                publication = publish_release(workspace.root, log, dataset, report, plan)
    return PublishResult(report, publication.path, release.version, package_version=publication.version,
                         version_rule=publication.why, signed_by=publication.signed_by)


def feed(workspace: Workspace, root: Path | None = None, out: Path | None = None) -> tuple[Path, dict]:
    """Write the DCAT-US 1.1 catalog of every dataset published under `root` (default: published/) to
    `out` (default: `root`/data.json). Returns the path and the catalog."""
    from audit.publish.feed import portal_settings, write_feed

    root = root or workspace.publish_root
    out = workspace.output(Output.CATALOG, out, root / "data.json", reads=root)
    portal = portal_settings(workspace.config, str(workspace.root / "audit.yaml"))
    with no_empty_folders_left(out.parent):
        return out, write_feed(root, portal, out)


def site(workspace: Workspace, out: Path | None = None, root: Path | None = None):
    """Build the public site over every package published under `root` (default: published/) into `out`
    (default: site/ in the workspace). Returns an `audit.site.Site`."""
    from audit.site import build_site

    root = root or workspace.publish_root
    out = workspace.output(Output.SITE, out, workspace.root / "site", reads=root)
    trust = _site_trust(workspace)
    with no_empty_folders_left(out):
        return build_site(root, out, workspace.config, workspace.root, trust)


def _site_trust(workspace: Workspace):
    """What the site's "verified" requires: the office's own key (the site's public key, else the signing key's),
    and the cosignatures of the witnesses audit.yaml names, at their quorum."""
    from audit.log.signing import Signer, load_public_key
    from audit.site.model import Trust

    brand = branding(workspace.config, workspace.root)
    key = workspace.signing_key
    office = load_public_key(brand.public_key) if brand.public_key else Signer(key).raw_public if key else None
    policy = workspace.witnesses
    return Trust(office, None if policy is None else _required_by(policy, None, []))


def _required_by(policy, quorum: int | None, urls: list[str] | None):
    """What verify requires of packages, from the witnesses audit.yaml names: their cosignatures at `quorum` (default:
    the office's own), and the witnesses at `urls` asked (default: every one; [] none)."""
    from audit.verify import WitnessRequirement

    keys = tuple(c.key for c in policy.cosigners)
    asked = tuple(c.url for c in policy.cosigners) if urls is None else tuple(urls)
    return WitnessRequirement(keys, _quorum(quorum or policy.quorum, len(keys)), asked)


def verify(workspace: Workspace | None, packages: list[Path], public_key: Path | None = None,
           witness_keys: list[Path] | None = None, quorum: int | None = None, witness_urls: list[str] | None = None,
           site: Path | None = None, engine: str | None = None):
    """Recompute the workspace's change log (if given) and check each package, on its own, against the
    others and against the log; with witness keys (or the workspace's witnesses in audit.yaml), hold each package
    to their cosignatures, and ask the witnesses at `witness_urls` for the latest checkpoint of each log. Writes
    nothing. With `site`, hold a public site to the packages it offers (audit.verify.site). On Spark (`engine`,
    else audit.yaml's), the releases the log keeps where they lie are read there; on DuckDB they are named as not
    checked. Returns an `audit.verify.Verification`."""
    from audit.log.signing import load_public_key
    from audit.verify import WitnessRequirement
    from audit.verify import verify as run
    from audit.witness.keys import read_witness_key

    trusted = load_public_key(public_key) if public_key else None
    required = None
    if witness_keys:
        keys = tuple(read_witness_key(k) for k in witness_keys)
        required = WitnessRequirement(keys, _quorum(quorum, len(keys)), tuple(witness_urls or ()))
    elif workspace is not None and workspace.witnesses is not None:
        required = _required_by(workspace.witnesses, quorum, witness_urls or None)
    elif quorum or witness_urls:
        raise ConfigError("--quorum and --witness need the witnesses' keys: give --witness-key for each")
    if workspace is None:
        if engine is not None:
            raise ConfigError("--engine reads the releases a workspace's log keeps where they lie: give --workspace")
        return run(None, packages, trusted, witnesses=required, site=site)
    with workspace.work_database() as con:
        log = _open_log(con, workspace, read_only=True, for_verify=True)
        # The engine is only looked at for a log that keeps a release where it lies: one that keeps every release
        # itself is verified on this machine, whatever audit.yaml says of a cluster it may not have.
        chosen = _use_engine(workspace, engine) if log.keeps_any_where_it_lies() else DUCKDB
        return run(log, packages, trusted, workspace.root, required, site, chosen)


def _quorum(asked: int | None, keys: int) -> int:
    """How many witnesses must have cosigned: `asked`, or one; never more than the keys given."""
    quorum = asked or 1
    if quorum > keys:
        raise ConfigError(f"a quorum of {quorum} needs as many witness keys, not {keys}")
    return quorum


@dataclass(frozen=True)
class InclusionProof:
    """One entry of a dataset's log shown to be in the tree of `size` entries (RFC 9162), whose root a package's
    checkpoint of that size names: what a reader checks a single recorded figure, note or approval with."""

    origin: str
    seq: int
    size: int
    root: bytes
    entry: dict
    proof: list[bytes]

    def to_dict(self) -> dict:
        import base64

        b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
        return {"origin": self.origin, "seq": self.seq, "leaf_index": self.seq - 1, "size": self.size,
                "root": b64(self.root), "entry": self.entry, "proof": [b64(h) for h in self.proof]}


def prove(workspace: Workspace, dataset_name: str, seq: int, size: int | None = None) -> InclusionProof:
    """The inclusion proof of `dataset_name`'s entry `seq` in its log's tree at `size` entries (default: the size
    of its newest published package's checkpoint, else the whole log). Writes nothing."""
    from audit.log import merkle
    from audit.log.tree import leaf

    plain_label(dataset_name, "dataset name")
    with workspace.work_database() as con:
        log = _open_log(con, workspace, read_only=True)
        hashes = log.entry_hashes(dataset_name)
        if not hashes:
            raise StateError(f"the log records nothing for {dataset_name}")
        published = log.publications(dataset_name)
        size = size if size is not None else (published[-1].seq if published else len(hashes))
        if not 1 <= seq <= size <= len(hashes):
            raise ConfigError(f"{dataset_name}'s log has {len(hashes)} entries: give 1 <= --seq <= --size <= "
                              f"{len(hashes)} (--seq {seq}, --size {size})")
        entry = next(log.entries(dataset_name, after_seq=seq - 1))  # as an extract carries it
    leaves = [leaf(h) for h in hashes[:size]]
    return InclusionProof(workspace.log_origin(dataset_name), seq, size, merkle.root(leaves), entry,
                          merkle.inclusion_proof(seq - 1, leaves))


def report_page(workspace: Workspace, dataset_name: str, version: str | None = None,
                out: Path | None = None, engine: str | None = None) -> Path:
    """Write the HTML report of a recorded release (default: the latest) to `out` (default:
    reports/DATASET/VERSION.html in the workspace). Returns the path. A release the log keeps where it lies is read
    there by the Spark `engine`, held to its digest first, and its charts summed on the cluster."""
    from audit.publish.publication import published_revisions
    from audit.publish.report_page import render_report_page

    dataset = workspace.dataset(dataset_name)
    with workspace.work_database() as con:
        log = _open_log(con, workspace, read_only=True)
        release = log.release_by_version(dataset.name, version) if version else log.latest_release(dataset.name)
        if release is None:
            raise StateError(f"{dataset.name} has no {'release ' + repr(version) if version else 'release'} recorded")
        report = _report_from_log(log, dataset.name, release)
        published = log.publication_of(release.release_id)
        # Rows this machine holds are summed here whatever the engine: a report reads them once.
        chosen = _use_engine(workspace, engine) if kept_where_it_lies(release.data_table) else DUCKDB
        rows = _recorded_rows(con, log, dataset, release, chosen, "so its report's charts cannot be drawn and no "
                              "report was written", REPORT_IN_PLACE)
        page = render_report_page(con, rows.sql, dataset, report, published_revisions(log, report, release),
                                  published.package_version if published else None,
                                  branding(workspace.config, workspace.root), chosen)
        rows.confirm()
    path = workspace.output(Output.PAGE, out, workspace.root / "reports" / dataset.name / f"{release.version}.html")
    with no_empty_folders_left(path.parent):
        write_atomically(path, page)
    return path


def diff(
    workspace: Workspace, dataset_name: str, from_version: str | None = None, to_version: str | None = None,
    engine: str | None = None,
) -> DiffResult:
    """Compare two recorded releases by primary key, matching each change against the notes recorded with
    the newer one. Defaults: `to` the latest release; `from` the release published last before it (or, if
    none was, the one recorded just before it). The passes over both whole releases run on `engine`. Writes
    nothing."""
    dataset = workspace.dataset(dataset_name)
    chosen = _use_engine(workspace, engine)
    with workspace.work_database() as con:
        log = _open_log(con, workspace, read_only=True)
        to = log.release_by_version(dataset.name, to_version) if to_version else log.latest_release(dataset.name)
        if to is None:
            which = f"release {to_version!r}" if to_version else "release"
            raise StateError(f"{dataset.name} has no {which} recorded: run `audit ingest` first")
        if from_version:
            start = log.release_by_version(dataset.name, from_version)
            if start is None:
                raise StateError(f"{dataset.name} has no release {from_version!r} recorded")
        else:
            start = log.last_published(dataset.name, before_seq=to.seq) or log.release_before(dataset.name, to.seq)
            if start is None:
                raise StateError(f"{dataset.name} has no release before {to.version!r} to compare with")
        why = "so they cannot be compared"
        # Each held to the digest recorded with it, as ingest holds a baseline: a diff of rows altered since would
        # show changes no release made.
        old, new = (_recorded_rows(con, log, dataset, release, chosen, why, f"kept_rows_{release.seq}")
                    for release in (start, to))
        old_rows, new_rows = old.sql, new.sql
        # The office's notes recorded with `to`; a rolling window's own notes are derived for this pair of releases.
        window = window_notes(con, dataset, old_rows, new_rows, start.source_name, to.source_name)
        notes = [RevisionNote.from_dict(n) for n in log.notes(to.release_id)
                 if n.get("id") not in {w.id for w in window} or n.get("approved_by") != WINDOW_BY] + window
        with chosen.readable(con, {old_rows: log.data_file(start.data_table),
                                   new_rows: log.data_file(to.data_table)}):
            revisions = diff_releases(con, dataset, old_rows, new_rows, _baseline_info(start), notes, engine=chosen)
        records = list(revisions.records(con, dataset.primary_key))
        old.confirm()
        new.confirm()
    return DiffResult(dataset.name, _baseline_info(start), _baseline_info(to), dataset.primary_key, records, revisions)


def reconcile(
    workspace: Workspace,
    incident_dataset: str,
    summary_dataset: str,
    incident_file: str | Path | None = None,
    summary_file: str | Path | None = None,
    incident_version: str | None = None,
    summary_version: str | None = None,
    engine: str | None = None,
) -> Report:
    """Count the incidents by period x category (x district) and compare with the summary table.

    Each side is a file (checked before ingest, as CI does) or a recorded release
    (the latest, or `*_version`). Writes nothing.
    """
    from audit.validate import run_expectations
    from audit.validate.reconcile import reconcile_expectation

    incidents, summary = workspace.dataset(incident_dataset), workspace.dataset(summary_dataset)
    chosen = _use_engine(workspace, engine)
    with workspace.work_database() as con:
        log: ChangeLog | None = None
        infos = {}
        unchanged: list[Callable[[], None]] = []  # each file's or recorded release's confirm, once the check has read it
        for dataset, file, version, table in ((incidents, incident_file, incident_version, "incidents"),
                                              (summary, summary_file, summary_version, "summary")):
            if file is not None:
                if table == "summary" and is_uri(file):  # read here, through DuckDB, as a recorded summary is
                    # Not repeated: a URI may carry a credential (see _load).
                    raise ConfigError("--summary-file is a URI, but the summary table is read on this machine (one "
                                      "row per period and place): give it as a file. The incident release may be a "
                                      "URI, with --engine spark")
                loaded = _load(con, dataset, file, chosen, lazy=chosen.parquet_in_place and table == "incidents",
                               table=table)
                unchanged.append(loaded.confirm_unchanged)
                infos[table] = _release_info(None, loaded.sha256, loaded.source.name, loaded.row_count)
                continue
            log = log or _open_log(con, workspace, read_only=True)
            release = log.release_by_version(dataset.name, version) if version else log.latest_release(dataset.name)
            if release is None:
                which = f"release {version!r}" if version else "release"
                raise StateError(f"{dataset.name} has no {which} recorded: ingest it, or give its file")
            if table == "incidents" and kept_where_it_lies(release.data_table):
                # Read where it lies on Spark, under the name the check reads, held to its digest first.
                _recorded_rows(con, log, dataset, release, chosen, "so it was not reconciled", table)
            elif kept_where_it_lies(release.data_table):  # the summary is read here, one row per period and place
                log.data_table(release.data_table)  # NotReadableHere, said as for any command that reads it here
            else:  # held to its digest, as every recorded release a command reads
                rows = _recorded_rows(con, log, dataset, release, DUCKDB, "so it was not reconciled", table)
                con.execute(f"CREATE VIEW {table} AS SELECT * FROM {rows.sql}")
                unchanged.append(rows.confirm)
            infos[table] = release.info()
        expectation = reconcile_expectation(incidents, summary, "summary")
        # The incidents reach Spark as a file, or are read where they lie; the summary through Arrow.
        with chosen.readable(con, {"incidents": None}):
            validation = run_expectations(con, "incidents", incidents, [expectation], chosen)
        for confirm in unchanged:
            confirm()
    info = infos["incidents"]
    info.reconciled_with = {"dataset": summary.name, **infos["summary"].to_dict()}
    unrun, unrun_findings = _not_run_in_place(validation, len(validation.findings))
    if chosen is not DUCKDB:
        info.engines = (validation.gx_result.meta or {}).get("engines")
    return Report(incidents.name, info, validation.findings + unrun_findings,
                  expectations=validation.expectations + unrun)
