"""The office's log checked against itself: every dataset's chain walked from its first entry to its head, every
stored release held to its digest, and every recorded diff recomputed from the two stored releases. A release kept
where it lies (audit.log.copies) is read there by a Spark engine; otherwise, as this machine cannot read it, it is
named as not checked, never passed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from audit.dataset import Dataset
from audit.diff import RevisionNote, diff_releases
from audit.engine import DUCKDB, Engine
from audit.errors import TamperError
from audit.files import HeldFiles
from audit.log import ChangeLog
from audit.log.chain import ChainWalk, walk
from audit.log.copies import kept_where_it_lies, where_it_lies
from audit.log.entries import Release, change_identity
from audit.log.store import ALIAS
from audit.progress import step


@dataclass
class LogCheck:
    """One dataset's chain in the office's log, its stored releases and its recorded diffs."""

    walk: ChainWalk
    data_problems: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)  # what this machine could not check, and why

    @property
    def ok(self) -> bool:
        return self.walk.broken is None and not self.data_problems

    @property
    def problems(self) -> list[str]:
        return ([str(self.walk.broken)] if self.walk.broken else []) + self.data_problems


def verify_log(log: ChangeLog, engine: Engine | None = None) -> tuple[list[LogCheck], list[str]]:
    """Walk every dataset's chain; recompute each stored release's digest and each recorded diff. Returns the
    checks and the problems that belong to no dataset. A release kept where it lies is read there by a Spark
    `engine` (and the diffs with it recomputed there); with none, it is named as not checked."""
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
            intact: dict[str, str] = {}  # release id: the SQL of its rows, held to their recorded digest
            held: dict[str, HeldFiles] = {}  # release id: its copy beside the log, from its digest to the diffs
            releases = {r.release_id: r for r in log.releases(dataset)}
            for release in releases.values():
                if kept_where_it_lies(release.data_table):  # not this machine's to read
                    _read_kept(log, release, engine, check, intact)
                    continue
                file = log.data_file(release.data_table)
                if file is not None:
                    held[release.release_id] = HeldFiles.of(file)
                with step(f"checking the stored rows of {dataset} release {release.version}"):
                    problem = log.stored_rows_problem(release)
                if problem:
                    check.data_problems.append(problem)
                else:
                    intact[release.release_id] = log.data_table(release.data_table)
            check.data_problems.extend(_diff_problems(log, dataset, releases, intact, engine))
            # A copy swapped after its digest matched makes the diffs recomputed with it differ: say which it was.
            check.data_problems.extend(
                f"release {release_id}: its stored rows ({copy.path.name}) were changed while verify read them, "
                "after their digest matched: a diff recomputed with them above says nothing of the recorded changes"
                for release_id, copy in held.items() if release_id in intact and copy.changed())
        except (ValueError, KeyError, TypeError, AttributeError, duckdb.Error, TamperError) as exc:
            # A record altered into something the tool never writes (JSON that does not parse, a reshaped
            # table): the chain walk names the entry; this says what could not be recomputed because of it.
            check.data_problems.append(f"its records cannot all be read as the tool wrote them, so its stored rows "
                                       f"and diffs were not all recomputed ({type(exc).__name__}: {exc})")
        checks.append(check)
    stray = [f"stored data table {t!r} belongs to no recorded release (added behind the tool's back)"
             for t in sorted(stored - referenced)]
    return checks, problems + stray


def _read_kept(log: ChangeLog, release: Release, engine: Engine | None, check: LogCheck,
               intact: dict[str, str]) -> None:
    """A release the log keeps where it lies: read there and held to its recorded digest by a Spark `engine`
    (audit.ingest.in_place.read_kept), its rows then `intact`; otherwise named in `check` as not checked."""
    uri = release.data_table
    if engine is None or engine.name != "spark":
        check.caveats.append(f"release {release.release_id}: its rows are {where_it_lies(uri)}; verify read none "
                             "of them, so neither they nor a diff with them was recomputed (`audit verify --engine "
                             "spark` reads them there)")
        return
    from audit.ingest.in_place import read_kept

    table = f"kept_rows_{hashlib.sha256(release.release_id.encode()).hexdigest()[:16]}"  # one per release, any dataset
    with step(f"reading the rows of {release.dataset} release {release.version} where they lie"):
        kept = read_kept(log.con, release, engine, table)
    if kept.differ:
        check.data_problems.append(f"release {release.release_id} (seq {release.seq}): its rows kept at {uri} "
                                   f"{kept.differ}")
    elif kept.unreadable:
        check.caveats.append(f"release {release.release_id}: its rows kept at {uri} {kept.unreadable}; neither they "
                             "nor a diff with them was recomputed")
    else:
        intact[release.release_id] = table


def _diff_problems(log: ChangeLog, dataset: str, releases: dict[str, Release], intact: dict[str, str],
                   engine: Engine | None) -> list[str]:
    """Compare each release with its baseline again, as ingest did, and hold the result to what was recorded:
    the same changes (each with the same note) and the same counts. Where either was read where it lies, the
    comparison runs on the Spark `engine` that read it."""
    problems = []
    for release in (releases[i] for i in intact):
        summary = log.revision_summary(release.release_id)
        recorded = log.changes(release.release_id)
        if summary is None:
            if recorded:
                problems.append(f"release {release.release_id}: {len(recorded)} change(s) are recorded with no diff")
            continue
        baseline = releases.get(str(summary.baseline.release_id))
        if baseline is None or baseline.release_id not in intact:
            continue  # its baseline's rows are missing or altered, or kept where they lie unread: said already
        definition = Dataset(dataset, Path(f"(recorded with {release.release_id})"), Path(""), release.definition)
        notes = [RevisionNote.from_dict(n) for n in log.notes(release.release_id)]
        try:
            baseline_info = {**baseline.info().to_dict(), "release_id": baseline.release_id}
            old, new = intact[baseline.release_id], intact[release.release_id]
            read_there = any(kept_where_it_lies(r.data_table) for r in (baseline, release))
            on = engine if read_there and engine is not None else DUCKDB
            with on.readable(log.con, {old: log.data_file(baseline.data_table), new: log.data_file(release.data_table)}):
                diff = diff_releases(log.con, definition, old, new, baseline_info, notes, engine=on)
            again = Counter(change_identity(r) for r in diff.records(log.con, definition.primary_key))
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
        elif diff.counts != summary.counts:
            problems.append(f"release {release.release_id}: its recorded revision counts {summary.counts} are "
                            f"not the recomputed {diff.counts}")
    return problems
