"""A package's checkpoint: the dataset's log as a Merkle tree at the package's publication entry, signed by the
office and cosigned by its witnesses before the package is put in place.

Witnesses are asked after the publication entry is committed, never before: a witness that cosigned a checkpoint
the log then never recorded (the quorum not reached, a crash) would hold a history the office can no longer extend,
and refuse it ever after as a fork. So a package whose quorum is not reached stays pending, hidden, with its
publication recorded; the next `audit publish` asks again for the same checkpoint, which a witness that cosigned it
cosigns again, and puts the package in place once the quorum has.

The head file of a package carries, besides the chain head and its signature:
    checkpoint    the signed note (c2sp.org/tlog-checkpoint) of the log at the publication entry, with the office's
                  signature and each witness's cosignature
    frontier      the tree's frontier at the previous package's size (audit.log.tree), so that the root can be
                  recomputed from the package's own extract
    consistency   the consistency proof from the previous package's checkpoint to this one (RFC 9162)
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.errors import StateError
from audit.log import merkle
from audit.log.note import Checkpoint, SignedNote
from audit.log.tree import Frontier, leaf
from audit.witness.client import Cosigned, request_cosignature
from audit.witness.keys import WitnessKey, cosigned_by, read_witness_key

DEFAULT_ORIGIN = "crime-data-audit"


@dataclass(frozen=True)
class Cosigner:
    url: str
    key: WitnessKey


@dataclass(frozen=True)
class WitnessPolicy:
    """The witnesses a package must be cosigned by: `quorum` of `cosigners`."""

    quorum: int
    cosigners: tuple[Cosigner, ...]

    @classmethod
    def from_settings(cls, settings: dict[str, Any] | None, root: Path, source: str) -> "WitnessPolicy | None":
        from audit.errors import ConfigError

        if not settings:
            return None
        cosigners = tuple(Cosigner(c["url"], read_witness_key(root / c["key"])) for c in settings["cosigners"])
        if settings["quorum"] > len(cosigners):
            raise ConfigError(f"{source}: witnesses: a quorum of {settings['quorum']} needs as many cosigners, "
                              f"not {len(cosigners)}")
        return cls(settings["quorum"], cosigners)


def origin_of(settings_origin: str | None, dataset: str) -> str:
    return f"{settings_origin or DEFAULT_ORIGIN}/{dataset}"


def b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode("ascii") for h in hashes]


def attach_checkpoint(package: Path, entry_hashes: list[str], previous_size: int, signer, origin: str,
                      policy: WitnessPolicy | None) -> None:
    """Write the checkpoint block into the head file of `package` (pending, not yet in place): the log through its
    publication entry (`entry_hashes`, the publication's last), signed, and cosigned by `policy`'s witnesses; or
    StateError (exit 2) naming each witness that did not cosign when fewer than the quorum did. A head that already
    carries the quorum's cosignatures is left as it is."""
    from audit.log.manifest import read_head, write_head

    head, why = read_head(package)
    if head is None:
        raise StateError(f"{package}: {why}")
    if "checkpoint" in head and (policy is None or _quorum_in(head["checkpoint"], policy)):
        return
    head.update(checkpoint_block(signer, origin, entry_hashes, previous_size, policy))
    write_head(package, head)


def _quorum_in(note_text: str, policy: WitnessPolicy) -> bool:
    from audit.log.note import NoteError

    try:
        note = SignedNote.parse(note_text)
    except NoteError:
        return False
    return len(cosigned_by(note, (c.key for c in policy.cosigners))) >= policy.quorum


def checkpoint_block(signer, origin: str, entry_hashes: list[str], previous_size: int,
                     policy: WitnessPolicy | None) -> dict[str, Any]:
    """The head file's checkpoint, frontier and consistency proof for a log whose entries (through the publication
    entry) have `entry_hashes`; cosigned by `policy`'s witnesses, or StateError naming those that did not."""
    leaves = [leaf(h) for h in entry_hashes]
    checkpoint = Checkpoint(origin, len(leaves), merkle.root(leaves))
    note = SignedNote(checkpoint.text(), (signer.sign_note(checkpoint.text(), origin),))

    # Each proof is made once, though the package and every witness ask for it (each is O(entries) hashes).
    @functools.lru_cache(maxsize=None)
    def proof_from(size: int) -> list[bytes]:
        return merkle.consistency_proof(size, leaves)

    if policy is not None:
        note = _cosigned(note, proof_from, previous_size, policy)
    return {"checkpoint": note.render(),
            "frontier": b64(Frontier().extend(leaves[:previous_size]).hashes()),
            "consistency": b64(proof_from(previous_size))}


def _cosigned(note: SignedNote, proof_from: Callable[[int], list[bytes]], expected_old: int,
              policy: WitnessPolicy) -> SignedNote:
    answers: list[Cosigned] = [request_cosignature(c.url, c.key, note, expected_old, proof_from)
                               for c in policy.cosigners]
    signed = [a for a in answers if a.line is not None]
    if len(signed) < policy.quorum:
        refused = "; ".join(f"{a.witness.name} at {c.url}: {a.refusal}" for a, c in zip(answers, policy.cosigners,
                                                                                        strict=True) if a.refusal)
        raise StateError(f"{len(signed)} of the {policy.quorum} witness cosignatures needed: {refused}; the package "
                         "stays hidden, not published (its publication is recorded as pending: run `audit publish` "
                         "again once the witnesses answer)")
    from audit.log.note import parse_signature_line

    return note.with_signatures([parse_signature_line(a.line) for a in signed if a.line])
