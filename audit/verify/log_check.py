"""The office's log checked against itself: every dataset's chain walked from its first entry to its head, every
stored release held to its digest, and every recorded diff recomputed from the two stored releases. A release kept
where it lies (audit.log.copies) is not this machine's to read: each is named as not checked, never passed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from audit.dataset import Dataset
from audit.diff import RevisionNote, diff_releases
from audit.errors import TamperError
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
                if kept_where_it_lies(release.data_table):  # not this machine's to read
                    check.caveats.append(f"release {release.release_id}: its rows are "
                                         f"{where_it_lies(release.data_table)}; verify read none of them, so neither "
                                         "they nor a diff with them was recomputed")
                    continue
                with step(f"checking the stored rows of {dataset} release {release.version}"):
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
    problems = []
    for release in intact.values():
        summary = log.revision_summary(release.release_id)
        recorded = log.changes(release.release_id)
        if summary is None:
            if recorded:
                problems.append(f"release {release.release_id}: {len(recorded)} change(s) are recorded with no diff")
            continue
        baseline = intact.get(str(summary.baseline.release_id))
        if baseline is None:
            continue  # its baseline's rows are missing or altered, or kept where they lie: said already
        definition = Dataset(dataset, Path(f"(recorded with {release.release_id})"), Path(""), release.definition)
        notes = [RevisionNote.from_dict(n) for n in log.notes(release.release_id)]
        try:
            baseline_info = {**baseline.info().to_dict(), "release_id": baseline.release_id}
            diff = diff_releases(log.con, definition, log.data_table(baseline.data_table),
                                 log.data_table(release.data_table), baseline_info, notes)
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
