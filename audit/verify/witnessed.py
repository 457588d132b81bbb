"""Packages held to witnesses: which of the given witnesses cosigned each package's checkpoint (a quorum must), whether
the publication's own time fits when they saw it, and, asking a witness for the latest checkpoint it cosigned of the
log, whether the host served an old version as the latest (rollback), or a history the witness never saw (a fork).
"""

from __future__ import annotations

from dataclasses import dataclass

from audit.log.note import Checkpoint, NoteError, SignedNote
from audit.verify.checkpoint import backdating
from audit.verify.package import PackageCheck
from audit.witness.client import latest_checkpoint
from audit.witness.keys import WitnessKey, cosigned_by


@dataclass(frozen=True)
class WitnessRequirement:
    """What a reader requires: cosignatures by `quorum` of `keys`; and the witnesses at `urls` to ask."""

    keys: tuple[WitnessKey, ...]
    quorum: int
    urls: tuple[str, ...] = ()


def hold_to_witnesses(checks: list[PackageCheck], required: WitnessRequirement) -> None:
    """Add to each package's problems what the witnesses do not vouch for."""
    latest: dict[str, PackageCheck] = {}
    for check in checks:
        if check.failed or check.head_seq == 0:
            continue
        if check.checkpoint is None or check.checkpoint_note is None:
            check.problems.append("it carries no checkpoint, so no witness vouches for it")
            continue
        check.cosigned.update(cosigned_by(SignedNote.parse(check.checkpoint_note), required.keys))
        if len(check.cosigned) < required.quorum:
            missing = [k.name for k in required.keys if k.name not in check.cosigned]
            check.problems.append(f"it is cosigned by {len(check.cosigned)} of the {required.quorum} witnesses "
                                  f"required (none by {', '.join(missing)}): no one independent vouches for this "
                                  "history")
        problem = backdating(check.recorded_at, check.cosigned)
        if problem:
            check.problems.append(problem)
        if check.dataset not in latest or check.head_seq > latest[check.dataset].head_seq:
            latest[check.dataset] = check
    for url in required.urls:
        for check in checks:
            if check.checkpoint is not None:
                _compare_with_witness(check, url, required.keys, check is latest.get(check.dataset))


def _compare_with_witness(check: PackageCheck, url: str, keys: tuple[WitnessKey, ...], newest: bool) -> None:
    mine: Checkpoint = check.checkpoint
    status, body = latest_checkpoint(url, mine.origin)
    if status == 0:  # not a finding about the package: what the witness would have shown is not shown
        check.caveats.append(f"whether a later or another history exists was not asked: the witness at {url} "
                             f"{body.strip().removeprefix('it ')}")
        return
    if status != 200:
        check.problems.append(f"the witness at {url} has no checkpoint of {mine.origin} ({body.strip()[:120]}): "
                              "it says it never saw this log")
        return
    try:
        note = SignedNote.parse(body)
        theirs = Checkpoint.parse(note.text)
    except NoteError as exc:
        check.problems.append(f"the witness at {url} answered with no checkpoint ({exc})")
        return
    vouched = list(cosigned_by(note, keys))
    if not vouched:
        check.problems.append(f"the checkpoint the witness at {url} gave is cosigned by none of the witness keys given")
        return
    who = f"witness {vouched[0]} ({url})"
    if theirs.origin != mine.origin:
        check.problems.append(f"{who} answered for another log ({theirs.origin})")
    elif theirs.size == mine.size and theirs.root != mine.root:
        check.problems.append(f"{who} cosigned another history of the same size {mine.size}: the log was forked, "
                              "and this package is on a branch the witness did not see")
    elif theirs.size < mine.size:
        check.problems.append(f"{who} has seen this log only up to seq {theirs.size}, before this package's "
                              f"{mine.size}: what it holds now does not vouch for this package (its state was "
                              "rolled back, or its key cosigned elsewhere)")
    elif theirs.size > mine.size and newest:
        check.problems.append(f"{who} has seen this log up to seq {theirs.size}, past this package's {mine.size}: "
                              "a later publication exists that was not given here (a rollback, or a frozen view)")
