"""A published package checked on its own, as an outsider can: its extract's chain, its head, its files against
its publication entry, its signature; given several versions, each must continue the one before; and, where the
office's log is at hand, whether the log still holds the package's head.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.errors import InputError
from audit.jsonfile import strict_loads
from audit.log import ChangeLog
from audit.log.chain import GENESIS, TABLE_KEY, walk
from audit.log.manifest import EXTRACT_FILE, HEAD_FILE, file_problems, read_head, sums_problems
from audit.progress import step

# Every field the head file may hold: the chain head and its signature, the version before, the checkpoint block.
HEAD_FIELDS = {"dataset", "version", "seq", "head", "previous", "signature", "checkpoint", "frontier", "consistency"}


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
    checkpoint: Any = None         # audit.log.note.Checkpoint its head carries, checked against its extract
    checkpoint_note: str | None = None   # that checkpoint as a signed note, with every cosignature
    recorded_at: str | None = None # when its publication entry says it was recorded
    cosigned: dict[str, int] = field(default_factory=dict)  # witness name -> time, of the witnesses given
    data_checked: bool = False     # its data file was held to the digest recorded with its release

    @property
    def ok(self) -> bool:
        return not self.problems


def read_extract(folder: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The package's extract, one entry a line, and what in it could not be read as entries."""
    path = folder / EXTRACT_FILE
    entries, problems = [], []
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    entry = strict_loads(line)
                except ValueError as exc:
                    problems.append(f"{EXTRACT_FILE} line {number} is not JSON as the tool writes it ({exc})")
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
        descriptor = strict_loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
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
        check.problems.append(why or f"{HEAD_FILE} cannot be read")
        return check
    check.head_seq, check.head_hash = head["seq"], head["head"]
    unknown = sorted(set(head) - HEAD_FIELDS)
    if unknown:
        check.problems.append(f"{HEAD_FILE} holds what the tool never writes there ({', '.join(unknown)}), which "
                              "nothing signed covers")
    if (head.get("dataset"), head.get("version")) != (check.dataset, check.version):
        check.problems.append(f"{HEAD_FILE} names {head.get('dataset')} version {head.get('version')}, but the "
                              f"package is {check.dataset} version {check.version}")
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
            recorded = strict_loads(last.get("files") or "{}")
        except ValueError:
            recorded = None
        if not isinstance(recorded, dict):
            check.problems.append("its publication entry does not list its files")
        else:
            check.problems += file_problems(folder, recorded)
            check.problems += sums_problems(folder, recorded, _signing_key(head.get("signature"), trusted_key))
            check.files_checked = True
            _check_data(check, folder, descriptor, entries, last)
    stated = head.get("previous")
    if isinstance(stated, dict) and (stated.get("seq"), stated.get("head")) != (check.previous_seq, check.previous_hash):
        check.problems.append(f"{HEAD_FILE} names a previous version (seq {stated.get('seq')}) that its extract "
                              f"does not continue (it starts after seq {check.previous_seq})")
    _check_signature(check, head.get("signature"), trusted_key)
    check.recorded_at = last.get("recorded_at")
    if "checkpoint" in head:
        _check_checkpoint(check, head, entries)
    elif check.signed_by:
        check.caveats.append("it carries no checkpoint (published before checkpoints were), so no witness can have "
                             "seen it")
    return check


def _check_data(check: PackageCheck, folder: Path, descriptor: dict[str, Any], entries: list[dict[str, Any]],
                publication: dict[str, Any]) -> None:
    """The package's data file against the digest recorded with the release it publishes, when its extract holds
    that release's entry (the office's verify checks the others against its log)."""
    release = next((e for e in entries if e.get(TABLE_KEY) == "releases"
                    and e.get("release_id") == publication.get("release_id")), None)
    if release is None:
        check.caveats.append("the release it publishes was recorded before its extract starts, so that its data are "
                             "the recorded rows is shown by an earlier package or the office's log, not here")
        return
    with step(f"checking the data file of {folder.name}"):
        problem = data_file_problem(folder, descriptor, release)
    if problem:
        check.problems.append(problem)
    check.data_checked = True


def data_file_problem(folder: Path, descriptor: dict[str, Any], release: dict[str, Any]) -> str | None:
    """Why the package's data file is not the rows recorded with `release` (a release entry): its resource must be
    the data file the release's definition names, and its rows must have the recorded digest."""
    import duckdb

    from audit.dataset import Dataset
    from audit.publish.publication import data_path_problem
    from audit.publish.readback import data_problem

    definition = release.get("definition")
    if isinstance(definition, str):
        definition = json.loads(definition)
    dataset = Dataset(str(release.get("dataset")), Path("(recorded)"), Path(""), definition or {})
    wrong = data_path_problem(dataset.data_path)
    if wrong:
        return f"its data resource cannot be a data file: {wrong}"
    listed = descriptor.get("resources")
    resources: list[Any] = listed if isinstance(listed, list) else []
    named = [r for r in resources if isinstance(r, dict) and r.get("name") == dataset.resource_name]
    if len(named) != 1 or named[0].get("path") != dataset.data_path:
        return (f"its descriptor does not name {dataset.data_path} as the data of resource {dataset.resource_name!r} "
                "(the data a reader is pointed at is not the release's)")
    with duckdb.connect() as con:
        return data_problem(con, folder / dataset.data_path, definition or {}, str(release.get("data_digest")))


def _signing_key(signature: Any, trusted_key: bytes | None) -> bytes | None:
    """The key a package's SHA256SUMS must be signed by: the trusted key given, else the one its head names (whose
    signature of the head is checked on its own)."""
    return trusted_key if trusted_key is not None else _head_key(signature)


def _head_key(signature: Any) -> bytes | None:
    """The public key a head's signature block names, or None when it names none that can be read."""
    try:
        return base64.b64decode(signature["publicKey"], validate=True) if isinstance(signature, dict) else None
    except (KeyError, ValueError, TypeError):
        return None


def _check_checkpoint(check: PackageCheck, head: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    from audit.verify.checkpoint import check_checkpoint

    found = check_checkpoint(head, check.dataset, check.previous_seq, entries, _head_key(head.get("signature")))
    check.problems += found.problems
    check.checkpoint, check.checkpoint_note = found.checkpoint, str(head.get("checkpoint"))


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


def checked_package(folder: Path, trusted_key: bytes | None) -> PackageCheck:
    """One package's check; whatever goes wrong in it is a problem of that package, so one malformed package
    never stops the others from being checked."""
    try:
        return verify_package(folder, trusted_key)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 -- reported as what it is, a failure of the tool, not hidden
        failure = f"it could not be checked: the tool failed ({type(exc).__name__}: {exc})"
        return PackageCheck(folder, "?", None, problems=[failure], failed=failure)
