"""Verify, the last stage: `audit verify` recomputes what the change log claims and checks published packages
against it.

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

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from audit.engine import Engine
from audit.errors import TamperError
from audit.log import ChangeLog
from audit.verify.log_check import LogCheck, verify_log
from audit.verify.package import (
    PackageCheck,
    checked_package,
    compare_packages,
    compare_with_log,
)
from audit.verify.published import verify_published
from audit.verify.witnessed import WitnessRequirement, hold_to_witnesses

__all__ = ["LogCheck", "PackageCheck", "Verification", "WitnessRequirement", "verify"]


@dataclass
class Verification:
    logs: list[LogCheck] = field(default_factory=list)
    packages: list[PackageCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # not tied to one chain (objects in the file, a stray table)
    publications: list[str] = field(default_factory=list)  # published folders and indexes that differ from the log
    pending: list[str] = field(default_factory=list)  # publications a crash left half-done
    failures: list[str] = field(default_factory=list)  # published packages the tool failed to check
    site: list[str] = field(default_factory=list)      # what a public site shows that its packages do not
    site_caveats: list[str] = field(default_factory=list)  # what about a site could not be shown

    @property
    def ok(self) -> bool:
        return not (self.problems or self.publications or self.pending or self.failures or self.site) \
            and all(c.ok for c in self.logs) and all(p.ok for p in self.packages)

    @property
    def tool_failed(self) -> bool:
        """Nothing was found altered, but the tool failed on some package: not verified, and no finding either."""
        failed = [p for p in self.packages if not p.ok]
        return bool(self.failures or failed) and all(p.failed and p.problems == [p.failed] for p in failed) \
            and not (self.problems or self.publications or self.pending or self.site) and all(c.ok for c in self.logs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "publications": self.publications,
            "pending": self.pending,
            "failures": self.failures,
            "site": self.site,
            "site_caveats": self.site_caveats,
            "datasets": [{
                "dataset": c.walk.dataset, "ok": c.ok, "entries": c.walk.entries, "head_seq": c.walk.head_seq,
                "head": c.walk.head_hash, "problems": c.problems, "caveats": c.caveats,
                "broken_at": None if c.walk.broken is None else {"table": c.walk.broken.table, "seq": c.walk.broken.seq},
            } for c in self.logs],
            "packages": [{
                "path": str(p.path), "dataset": p.dataset, "version": p.version, "ok": p.ok, "head_seq": p.head_seq,
                "head": p.head_hash, "extract_starts_after_seq": p.previous_seq, "signed_by": p.signed_by,
                "problems": p.problems, "caveats": p.caveats,
                "checkpoint": None if p.checkpoint is None else {"origin": p.checkpoint.origin, "size": p.checkpoint.size},
                "cosigned": {name: when for name, when in sorted(p.cosigned.items())},
            } for p in self.packages],
        }


def verify(log: ChangeLog | None, packages: list[Path], trusted_key: bytes | None = None,
           root: Path | None = None, witnesses: WitnessRequirement | None = None,
           site: Path | None = None, engine: Engine | None = None) -> Verification:
    """`engine`: a Spark engine reads the releases the log keeps where they lie (audit.verify.log_check)."""
    result = Verification()
    if site is not None:
        from audit.verify.site import verify_site

        offered, result.site, result.site_caveats = verify_site(site, trusted_key, witnesses)
        result.packages += offered
    checked = [checked_package(p, trusted_key) for p in packages]
    # Checked on their own just as verify_published would check them (no trusted key): reused there.
    reusable = {} if trusted_key is not None else {Path(os.path.abspath(c.path)): c for c in checked}
    if log is not None:
        try:
            result.logs, result.problems = verify_log(log, engine)
            if root is not None and not log.missing_tables():
                result.publications, result.pending, result.failures = verify_published(root, log, reusable)
        # A table reshaped behind the tool's back, say.
        except (duckdb.Error, ValueError, KeyError, TypeError, TamperError) as exc:
            result.problems.append(f"the log cannot be read as the tool wrote it ({type(exc).__name__}: {exc})")
    compare_packages(checked, log is not None)
    if witnesses is not None:
        hold_to_witnesses(checked, witnesses)
    for check in checked:
        if log is not None and check.head_seq:
            try:
                compare_with_log(check, log)
            except duckdb.Error as exc:
                check.problems.append(f"the log cannot be read to vouch for it: {exc}")
        result.packages.append(check)
    return result
