"""`audit verify`: recompute what the change log claims, and check published packages against it.

Each question is answered from what is on disk, and every answer is recomputed, not read:
- the log file: does it hold only what the tool put there (its tables with their columns, the stored
  releases, one format row), does every dataset's chain link up from its first entry to its head, do the
  stored rows still match each release's digest, and does each recorded diff (the `changes` and the
  `revisions` summary) come out the same when the release is compared with its baseline again?
- the published folders (with a workspace): is every publication the log records in place (not pending,
  not missing, not replaced by another package), with exactly the files it lists, and does each dataset's
  index.json list exactly the published versions?
- a package alone: does its log extract link up to the head it carries, does that head's publication entry
  list exactly the package's files by their hashes, and is the head's signature (if any) good? This needs
  nothing from the office, so anyone can ask it; given several versions, each must continue the one before.
- a package and the log: does the log still hold the package's head? If not, entries were removed from
  its end (truncation), which the log alone cannot show.
"""

from __future__ import annotations

import json
import os
from collections import Counter

import duckdb
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.errors import InputError, TamperError
from audit.log.chain import GENESIS, TABLE_KEY, ChainWalk, walk
from audit.log.manifest import EXTRACT_FILE, HEAD_FILE, file_problems, read_head
from audit.log.records import Release, change_identity
from audit.log.store import ALIAS, ChangeLog


@dataclass
class LogCheck:
    """One dataset's chain in the office's log, its stored releases and its recorded diffs."""

    walk: ChainWalk
    data_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.walk.broken is None and not self.data_problems

    @property
    def problems(self) -> list[str]:
        return ([str(self.walk.broken)] if self.walk.broken else []) + self.data_problems


@dataclass
class PackageCheck:
    path: Path
    dataset: str
    version: str | None
    head_seq: int = 0
    head_hash: str = ""
    previous_seq: int = 0          # the extract starts after this entry ...
    previous_hash: str = GENESIS   # ... whose hash its first entry names
    signed_by: str | None = None
    problems: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)  # what this check could not show, said plainly
    files_checked: bool = False    # its files were held to its publication entry's list
    failed: str | None = None      # the tool failed while checking it: not a finding about the package

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Verification:
    logs: list[LogCheck] = field(default_factory=list)
    packages: list[PackageCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # not tied to one chain (objects in the file, a stray table)
    publications: list[str] = field(default_factory=list)  # published folders and indexes that differ from the log
    pending: list[str] = field(default_factory=list)  # publications a crash left half-done
    failures: list[str] = field(default_factory=list)  # published packages the tool failed to check

    @property
    def ok(self) -> bool:
        return not (self.problems or self.publications or self.pending or self.failures) \
            and all(c.ok for c in self.logs) and all(p.ok for p in self.packages)

    @property
    def tool_failed(self) -> bool:
        """Nothing was found altered, but the tool failed on some package: not verified, and no finding either."""
        failed = [p for p in self.packages if not p.ok]
        return bool(self.failures or failed) and all(p.failed and p.problems == [p.failed] for p in failed) \
            and not (self.problems or self.publications or self.pending) and all(c.ok for c in self.logs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "publications": self.publications,
            "pending": self.pending,
            "failures": self.failures,
            "datasets": [{
                "dataset": c.walk.dataset, "ok": c.ok, "entries": c.walk.entries, "head_seq": c.walk.head_seq,
                "head": c.walk.head_hash, "problems": c.problems,
                "broken_at": None if c.walk.broken is None else {"table": c.walk.broken.table, "seq": c.walk.broken.seq},
            } for c in self.logs],
            "packages": [{
                "path": str(p.path), "dataset": p.dataset, "version": p.version, "ok": p.ok, "head_seq": p.head_seq,
                "head": p.head_hash, "extract_starts_after_seq": p.previous_seq, "signed_by": p.signed_by,
                "problems": p.problems, "caveats": p.caveats,
            } for p in self.packages],
        }


# -- the log -----------------------------------------------------------------


def verify_log(log: ChangeLog) -> tuple[list[LogCheck], list[str]]:
    """Walk every dataset's chain; recompute each stored release's digest and each recorded diff. Returns the
    checks and the problems that belong to no dataset."""
    problems = log.unexpected_objects()
    missing = log.missing_tables()
    if missing:
        return [], problems + [f"table {t} is missing from the log (dropped behind the tool's back)" for t in missing]
    checks = []
    stored, referenced = set(log.data_tables()), set()
    for dataset in log.datasets():
        check = LogCheck(walk(dataset, log.entries(dataset)))
        # Every release entry, even past a break in the chain: its rows are checked all the same.
        referenced |= {t for (t,) in log.con.execute(
            f"SELECT data_table FROM {ALIAS}.releases WHERE dataset = ?", [dataset]).fetchall()}
        try:
            intact: dict[str, Release] = {}
            for release in log.releases(dataset):
                problem = log.stored_rows_problem(release)
                if problem:
                    check.data_problems.append(problem)
                else:
                    intact[release.release_id] = release
            check.data_problems.extend(_diff_problems(log, dataset, intact))
        except (ValueError, KeyError, TypeError, AttributeError, duckdb.Error, TamperError) as exc:
            # A record altered into something the tool never writes (JSON that does not parse, a reshaped
            # table): the chain walk names the entry; this says what could not be recomputed because of it.
            check.data_problems.append(f"its records cannot all be read as the tool wrote them, so its stored rows "
                                       f"and diffs were not all recomputed ({type(exc).__name__}: {exc})")
        checks.append(check)
    stray = [f"stored data table {t!r} belongs to no recorded release (added behind the tool's back)"
             for t in sorted(stored - referenced)]
    return checks, problems + stray


def _diff_problems(log: ChangeLog, dataset: str, intact: dict[str, Release]) -> list[str]:
    """Compare each release with its baseline again, as ingest did, and hold the result to what was recorded:
    the same changes (each with the same note) and the same counts."""
    from audit.dataset import Dataset
    from audit.diff import RevisionNote, diff_releases
    from audit.diff.records import revision_records

    problems = []
    for release in intact.values():
        summary = log.revision_summary(release.release_id)
        recorded = log.changes(release.release_id)
        if summary is None:
            if recorded:
                problems.append(f"release {release.release_id}: {len(recorded)} change(s) are recorded with no diff")
            continue
        baseline = intact.get(summary.get("baseline", {}).get("release_id"))
        if baseline is None:
            continue  # its baseline's rows are missing or altered, which is reported already
        definition = Dataset(dataset, Path(f"(recorded with {release.release_id})"), Path(""), release.definition)
        notes = [RevisionNote.from_dict(n) for n in log.notes(release.release_id)]
        try:
            diff = diff_releases(log.con, definition, log.data_table(baseline.data_table),
                                 log.data_table(release.data_table), {**baseline.info(), "release_id": baseline.release_id},
                                 notes)
            again = Counter(change_identity(r) for r in revision_records(log.con, definition.primary_key))
        except Exception as exc:  # a definition or notes the tool can no longer read: say so, do not crash
            problems.append(f"release {release.release_id}: its diff against {baseline.release_id} could not be "
                            f"recomputed ({type(exc).__name__}: {exc})")
            continue
        logged = Counter(c.identity() for c in recorded)
        if again != logged:
            missing, extra = again - logged, logged - again
            problems.append(
                f"release {release.release_id}: its recorded changes against {baseline.release_id} are not what "
                f"comparing the two stored releases gives ({sum(missing.values())} change(s) not recorded, "
                f"{sum(extra.values())} recorded that the data do not show)")
        elif diff.counts != summary.get("counts"):
            problems.append(f"release {release.release_id}: its recorded revision counts {summary.get('counts')} are "
                            f"not the recomputed {diff.counts}")
    return problems


# -- published folders, from the log ------------------------------------------


def verify_published(root: Path, log: ChangeLog, checked: dict[Path, PackageCheck] | None = None
                     ) -> tuple[list[str], list[str], list[str]]:
    """Every publication the log records against the folders on disk and the indexes. Returns the problems,
    the publications a crash left pending and the packages the tool failed to check. `checked`: packages already checked on their own (with no
    trusted key), by absolute path, so none is read twice."""
    from audit.publish.folder import pending_folder
    from audit.publish.index import by_folder, index_is_current

    problems, pending, failures = [], [], []
    for dataset in log.datasets():
        publications = log.publications(dataset)
        unfinished = set()  # folders with a version still pending: their index is rewritten when it is finished
        for publication in publications:
            target = root / publication.path
            label = f"{dataset} version {publication.package_version}"
            if not target.is_dir():
                if pending_folder(target, publication.hash).is_dir():
                    unfinished.add(target.parent)
                    pending.append(f"{label} is half-published: the log records it but its package is still hidden "
                                   f"at {pending_folder(target, publication.hash).name}; run `audit publish {dataset}` "
                                   "to finish it")
                else:
                    problems.append(f"{label} is missing: the log published it to {target}, which is gone")
                continue
            head, why = read_head(target)
            if head is None or (head.get("seq"), head.get("head")) != (publication.seq, publication.hash):
                problems.append(f"{label} at {target} is not the package that was published: "
                                + (why or f"its head is seq {head.get('seq')}, the log's publication is seq {publication.seq}"))
                continue
            # The package as an outsider checks it (its extract too), and its files against the log's entry.
            alone = (checked or {}).get(Path(os.path.abspath(target)))
            if alone is None:
                try:
                    alone = _checked_package(target, None)
                except InputError:  # no descriptor at all: the file comparison below names what is missing
                    alone = PackageCheck(target, dataset, publication.package_version)
            if alone.failed:
                failures.append(f"{label}: {alone.failed}")
                continue
            problems += [f"{label}: {p}" for p in alone.problems]
            if not alone.files_checked:  # its extract did not lead to its entry: hold the files to the log's
                problems += [f"{label}: {p}" for p in file_problems(target, publication.files) if p not in alone.problems]
        for folder, here in by_folder(root, publications).items():
            if folder in unfinished:
                continue
            if not index_is_current(folder, dataset, here):
                problems.append(f"{folder / 'index.json'} does not list exactly the versions the log published "
                                f"({', '.join(p.package_version for p in here)}, latest {here[-1].package_version})")
            listed = {p.package_version for p in here}
            for other in sorted(folder.iterdir()) if folder.is_dir() else []:
                if other.is_dir() and not other.name.startswith(".") and other.name not in listed:
                    problems.append(f"{other} is a folder the log never published as a version of {dataset}")
    return problems, pending, failures


# -- packages ----------------------------------------------------------------


def read_extract(folder: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The package's extract, one entry a line, and what in it could not be read as entries."""
    path = folder / EXTRACT_FILE
    entries, problems = [], []
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError as exc:
                    problems.append(f"{EXTRACT_FILE} line {number} is not JSON ({exc.msg})")
                    continue
                if not isinstance(entry, dict):
                    problems.append(f"{EXTRACT_FILE} line {number} is not a log entry (a JSON object)")
                    continue
                entries.append(entry)
    except FileNotFoundError:
        problems.append(f"{EXTRACT_FILE} is missing")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{EXTRACT_FILE} cannot be read ({exc})")
    return entries, problems


def _read_descriptor(folder: Path) -> dict[str, Any] | str:
    path = folder / "datapackage.json"
    if not path.is_file():
        raise InputError("there is no datapackage.json here: this is not a data package", str(path))
    try:
        descriptor = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"datapackage.json cannot be read as JSON ({exc})"
    return descriptor if isinstance(descriptor, dict) else "datapackage.json is not a JSON object"


def verify_package(folder: Path, trusted_key: bytes | None = None) -> PackageCheck:
    """Check a package on its own: its extract's chain, its head, its files, its signature. Never raises for
    a malformed package (that is a finding about it), only for a folder that is no package at all."""
    descriptor = _read_descriptor(folder)
    if isinstance(descriptor, str):
        return PackageCheck(folder, "?", None, problems=[descriptor])
    check = PackageCheck(folder, str(descriptor.get("name", "?")), descriptor.get("version"))
    head, why = read_head(folder)
    if head is None:
        check.problems.append(why)
        return check
    check.head_seq, check.head_hash = head["seq"], head["head"]
    entries, unreadable = read_extract(folder)
    check.problems += unreadable
    if not entries and not unreadable:
        check.problems.append(f"{EXTRACT_FILE} holds no entries")
    if unreadable or not entries:
        return check
    last = entries[-1]
    previous_seq = last.get("previous_seq")
    if last.get(TABLE_KEY) != "publications" or not isinstance(previous_seq, int):
        check.problems.append(f"the last entry of {EXTRACT_FILE} is not a publication")
        return check
    check.previous_seq = previous_seq
    check.previous_hash = GENESIS if previous_seq == 0 else str(entries[0].get("prev_hash"))
    chain = walk(check.dataset, entries, check.previous_seq, check.previous_hash)
    if chain.broken:
        check.problems.append(f"its change log extract: {chain.broken}")
    elif (chain.head_seq, chain.head_hash) != (check.head_seq, check.head_hash):
        check.problems.append(f"its change log extract ends at seq {chain.head_seq} ({chain.head_hash[:12]}…), "
                              f"not at the head its {HEAD_FILE} names, seq {check.head_seq} ({check.head_hash[:12]}…)")
    elif last.get("package_version") != check.version or last.get("dataset") != check.dataset:
        check.problems.append(f"its head (seq {check.head_seq}) is the publication of {last.get('dataset')} version "
                              f"{last.get('package_version')}, not of {check.dataset} version {check.version}")
    else:
        try:
            recorded = json.loads(last.get("files") or "{}")
        except json.JSONDecodeError:
            recorded = None
        if not isinstance(recorded, dict):
            check.problems.append("its publication entry does not list its files")
        else:
            check.problems += file_problems(folder, recorded)
            check.files_checked = True
    stated = head.get("previous")
    if isinstance(stated, dict) and (stated.get("seq"), stated.get("head")) != (check.previous_seq, check.previous_hash):
        check.problems.append(f"{HEAD_FILE} names a previous version (seq {stated.get('seq')}) that its extract "
                              f"does not continue (it starts after seq {check.previous_seq})")
    _check_signature(check, head.get("signature"), trusted_key)
    return check


def _check_signature(check: PackageCheck, signature: Any, trusted_key: bytes | None) -> None:
    from audit.log.signing import signature_problem

    if signature is None:
        if trusted_key is not None:
            check.problems.append("its chain head is not signed, but a trusted key was given")
        return
    if not isinstance(signature, dict):
        check.problems.append("the signature block is malformed")
        return
    problem = signature_problem(check.head_hash, signature, trusted_key)
    if problem:
        check.problems.append(problem)
    else:
        check.signed_by = signature.get("keyFingerprint")


def compare_with_log(check: PackageCheck, log: ChangeLog) -> None:
    """The log must still hold the package's head at the same position; chains being cumulative,
    that one hash vouches for every entry before it."""
    if log.missing_tables():
        check.problems.append("the log is missing tables, so it cannot vouch for this package")
        return
    at_head = log.entry_at(check.dataset, check.head_seq)
    if not at_head:
        seq, _ = log.head(check.dataset)
        check.problems.append(f"the log has lost entries: this package was published at seq {check.head_seq} "
                              f"but the log of {check.dataset} ends at seq {seq} (truncated)")
    elif all(e["hash"] != check.head_hash for e in at_head):
        check.problems.append(f"the log's entry at seq {check.head_seq} is not the one this package was published "
                              f"with (the log was rewritten from there or earlier)")


def compare_packages(checks: list[PackageCheck], with_log: bool) -> None:
    """Each later package of a dataset must continue the one before it: its extract starts right after that
    package's head and links to it. Where versions in between were not given (and no log vouches), say so."""
    by_dataset: dict[str, list[PackageCheck]] = {}
    for check in checks:
        if check.head_seq:
            by_dataset.setdefault(check.dataset, []).append(check)
    for items in by_dataset.values():
        items.sort(key=lambda c: c.head_seq)
        first = items[0]
        if first.previous_seq and not with_log:
            first.caveats.append(f"its extract starts after seq {first.previous_seq}: the history before that is "
                                 f"vouched for by the earlier versions' packages, not given here")
        for earlier, later in zip(items, items[1:]):
            if (later.head_seq, later.head_hash) == (earlier.head_seq, earlier.head_hash):
                continue  # the same package given twice
            if later.previous_seq == earlier.head_seq:
                if later.previous_hash != earlier.head_hash:
                    later.problems.append(f"it does not continue version {earlier.version}: its extract links to "
                                          f"another entry at seq {earlier.head_seq} than that version's head")
            elif later.previous_seq < earlier.head_seq:
                later.problems.append(f"it does not continue version {earlier.version}: its extract starts after seq "
                                      f"{later.previous_seq}, before that version's head at seq {earlier.head_seq}")
            elif not with_log:
                later.caveats.append(f"that it continues version {earlier.version} is not shown: the versions "
                                     f"published between seq {earlier.head_seq} and {later.previous_seq} were not given")


def _checked_package(folder: Path, trusted_key: bytes | None) -> PackageCheck:
    """One package's check; whatever goes wrong in it is a problem of that package, so one malformed package
    never stops the others from being checked."""
    try:
        return verify_package(folder, trusted_key)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001: reported as what it is, a failure of the tool, not hidden
        failure = f"it could not be checked: the tool failed ({type(exc).__name__}: {exc})"
        return PackageCheck(folder, "?", None, problems=[failure], failed=failure)


def verify(log: ChangeLog | None, packages: list[Path], trusted_key: bytes | None = None,
           root: Path | None = None) -> Verification:
    result = Verification()
    checked = [_checked_package(p, trusted_key) for p in packages]
    # Checked on their own just as verify_published would check them (no trusted key): reused there.
    reusable = {} if trusted_key is not None else {Path(os.path.abspath(c.path)): c for c in checked}
    if log is not None:
        try:
            result.logs, result.problems = verify_log(log)
            if root is not None and not log.missing_tables():
                result.publications, result.pending, result.failures = verify_published(root, log, reusable)
        except (duckdb.Error, ValueError, KeyError, TypeError, TamperError) as exc:  # a table reshaped behind the tool's back, say
            result.problems.append(f"the log cannot be read as the tool wrote it ({type(exc).__name__}: {exc})")
    compare_packages(checked, log is not None)
    for check in checked:
        if log is not None and check.head_seq:
            try:
                compare_with_log(check, log)
            except duckdb.Error as exc:
                check.problems.append(f"the log cannot be read to vouch for it: {exc}")
        result.packages.append(check)
    return result
