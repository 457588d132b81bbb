"""`audit verify`: recompute the change log's chains, and check published packages against them.

Three questions, each answered from what is on disk:
- the log: does every dataset's chain link up from its first entry to its head, and do the
  stored release rows still match the digest recorded with each release?
- a package: does the log extract it ships link up to the head it carries, does that head's
  publication entry name the package's own files by their hashes, and is the head's signature
  (if any) good? This needs nothing from the office, so anyone can ask it.
- a package and the log: does the log still hold the package's head? If not, entries were
  removed from its end (truncation), which the log alone cannot show.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.errors import InputError
from audit.files import file_sha256
from audit.log.chain import TABLE_KEY, ChainWalk, walk
from audit.log.store import ChangeLog

EXTRACT_FILE = "changelog.jsonl"


@dataclass
class LogCheck:
    """One dataset's chain in the office's log, and its stored releases."""

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
    head_seq: int
    head_hash: str
    signed_by: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Verification:
    logs: list[LogCheck] = field(default_factory=list)
    packages: list[PackageCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # not tied to one dataset (e.g. a stray data table)

    @property
    def ok(self) -> bool:
        return not self.problems and all(c.ok for c in self.logs) and all(p.ok for p in self.packages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "datasets": [{
                "dataset": c.walk.dataset, "ok": c.ok, "entries": c.walk.entries, "head_seq": c.walk.head_seq,
                "head": c.walk.head_hash, "problems": c.problems,
                "broken_at": None if c.walk.broken is None else {"table": c.walk.broken.table, "seq": c.walk.broken.seq},
            } for c in self.logs],
            "packages": [{
                "path": str(p.path), "dataset": p.dataset, "version": p.version, "ok": p.ok, "head_seq": p.head_seq,
                "head": p.head_hash, "signed_by": p.signed_by, "problems": p.problems,
            } for p in self.packages],
        }


# -- the log -----------------------------------------------------------------


def verify_log(log: ChangeLog) -> tuple[list[LogCheck], list[str]]:
    """Walk every dataset's chain; recompute each stored release's digest. Returns the checks and
    the problems that belong to no dataset."""
    missing = log.missing_tables()
    if missing:
        return [], [f"table {t} is missing from the log (dropped behind the tool's back)" for t in missing]
    checks = []
    stored, referenced = set(log.data_tables()), set()
    for dataset in log.datasets():
        check = LogCheck(walk(dataset, log.entries(dataset)))
        # Every release entry, even past a break in the chain: its rows are checked all the same.
        for release in log.releases(dataset):
            referenced.add(release["data_table"])
            check.data_problems.extend(_data_problems(log, release, stored))
        checks.append(check)
    stray = [f"stored data table {t!r} belongs to no recorded release (added behind the tool's back)"
             for t in sorted(stored - referenced)]
    return checks, stray


def _data_problems(log: ChangeLog, release: dict[str, Any], stored: set[str]) -> list[str]:
    name, label = release["data_table"], f"release {release['release_id']} (seq {release['seq']})"
    if name not in stored:
        return [f"{label}: its stored rows (table {name!r}) are missing"]
    digest = log.data_digest(name)
    if digest != release["data_digest"]:
        return [f"{label}: its stored rows differ from those recorded (digest {digest}, "
                f"recorded {release['data_digest']})"]
    return []


# -- packages ----------------------------------------------------------------


def read_extract(folder: Path) -> list[dict[str, Any]]:
    path = folder / EXTRACT_FILE
    entries = []
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise InputError(f"not a JSON object per line ({exc.msg})", str(path), number) from exc
    except OSError as exc:
        raise InputError(f"cannot read the package's change log extract: {exc.strerror}", str(path)) from exc
    return entries


def _read_descriptor(folder: Path) -> dict[str, Any]:
    path = folder / "datapackage.json"
    try:
        descriptor = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read a data package descriptor here ({exc})", str(path)) from exc
    if not isinstance(descriptor.get("audit", {}).get("changeLog"), dict):
        raise InputError("this package carries no change log head (audit.changeLog): it was not published by audit",
                         str(path))
    return descriptor


def verify_package(folder: Path, trusted_key: bytes | None = None) -> tuple[PackageCheck, list[dict[str, Any]]]:
    """Check a package on its own: its extract's chain, its head, its files, its signature.
    Returns the check and the extract (for comparing packages with each other and with the log)."""
    from audit.log.signing import signature_problem

    descriptor = _read_descriptor(folder)
    head = descriptor["audit"]["changeLog"]
    check = PackageCheck(folder, descriptor.get("name", "?"), descriptor.get("version"), head.get("seq", 0),
                         head.get("head", ""))
    entries = read_extract(folder)
    chain = walk(check.dataset, entries)
    if chain.broken:
        check.problems.append(f"its change log extract: {chain.broken}")
    elif (chain.head_seq, chain.head_hash) != (check.head_seq, check.head_hash):
        check.problems.append(f"its change log extract ends at seq {chain.head_seq} ({chain.head_hash[:12]}…), "
                              f"not at the head it carries, seq {check.head_seq} ({check.head_hash[:12]}…)")
    else:
        check.problems.extend(_publication_problems(folder, entries[-1], check))
    signature = head.get("signature")
    if signature is not None:
        problem = signature_problem(check.head_hash, signature, trusted_key)
        if problem:
            check.problems.append(problem)
        else:
            check.signed_by = signature.get("keyFingerprint")
    elif trusted_key is not None:
        check.problems.append("its chain head is not signed, but a trusted key was given")
    return check, entries


def _publication_problems(folder: Path, last: dict[str, Any], check: PackageCheck) -> list[str]:
    """The head entry must be this package's publication, naming each of its files by hash."""
    if last.get(TABLE_KEY) != "publications" or last.get("package_version") != check.version:
        return [f"its head (seq {check.head_seq}) is not the publication of version {check.version}"]
    problems = []
    for name, expected in sorted(json.loads(last.get("files") or "{}").items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif file_sha256(path) != expected:
            problems.append(f"{name} is not the file that was published (its sha256 differs from the log's)")
    return problems


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


def compare_packages(checks: list[tuple[PackageCheck, list[dict[str, Any]]]]) -> None:
    """Each later package of a dataset must continue the earlier one: its extract holds the earlier head."""
    by_dataset: dict[str, list[tuple[PackageCheck, list[dict[str, Any]]]]] = {}
    for item in checks:
        by_dataset.setdefault(item[0].dataset, []).append(item)
    for items in by_dataset.values():
        items.sort(key=lambda item: item[0].head_seq)
        for (earlier, _), (later, entries) in zip(items, items[1:]):
            at = next((e for e in entries if e.get("seq") == earlier.head_seq), None)
            if at is None or at.get("hash") != earlier.head_hash:
                later.problems.append(f"it does not continue version {earlier.version}: its extract does not hold "
                                      f"that version's head at seq {earlier.head_seq}")


def verify(log: ChangeLog | None, packages: list[Path], trusted_key: bytes | None = None) -> Verification:
    import duckdb

    result = Verification()
    if log is not None:
        try:
            result.logs, result.problems = verify_log(log)
        except duckdb.Error as exc:  # a table reshaped behind the tool's back, say
            result.problems = [f"the log cannot be read as the tool wrote it: {exc}"]
    checked = [verify_package(p, trusted_key) for p in packages]
    compare_packages(checked)
    for check, _ in checked:
        if log is not None:
            compare_with_log(check, log)
        result.packages.append(check)
    return result
