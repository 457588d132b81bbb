"""A package's checkpoint checked as an outsider can: that it is the log the package's own extract leads to, that
the office signed it, that it continues the previous package's, and which witnesses cosigned it, when.

What each level proves (docs/verification.md says it in full):
- no witness: the office's key signed this history; whoever holds the key could sign another;
- a witness's cosignature: that witness saw this checkpoint, at the time it states, and had seen no other history
  of this log before it; a rebuilt history is refused by it;
- a quorum: so many independent witnesses saw the same history, each by its own clock.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from dataclasses import dataclass, field
from typing import Any

from audit.log import merkle
from audit.log.note import Checkpoint, NoteError, SignedNote, note_signature_holds
from audit.log.tree import Frontier, leaf

# A publication is cosigned as it is recorded; one recorded long before any witness saw it was backdated.
BACKDATING_TOLERANCE = datetime.timedelta(hours=24)


@dataclass
class CheckpointCheck:
    checkpoint: Checkpoint | None = None
    previous_root: bytes | None = None          # the root at the previous package's size, from the frontier
    problems: list[str] = field(default_factory=list)


def check_checkpoint(head: dict[str, Any], dataset: str, previous_seq: int, extract: list[dict[str, Any]],
                     office_public: bytes | None) -> CheckpointCheck:
    """`head`'s checkpoint block against the package's extract (the entries after `previous_seq`) and the office's
    key (the witnesses' cosignatures are held to a quorum apart: audit.verify.witnessed)."""
    result = CheckpointCheck()
    try:
        signed = SignedNote.parse(str(head["checkpoint"]))
        checkpoint = Checkpoint.parse(signed.text)
        frontier = Frontier.of(previous_seq, [base64.b64decode(h, validate=True) for h in head.get("frontier", [])])
        proof = [base64.b64decode(h, validate=True) for h in head.get("consistency", [])]
    except (NoteError, ValueError, binascii.Error, TypeError) as exc:
        result.problems.append(f"its checkpoint cannot be read ({exc})")
        return result
    result.checkpoint, result.previous_root = checkpoint, frontier.root()
    if not checkpoint.origin.endswith("/" + dataset):
        result.problems.append(f"its checkpoint is of the log {checkpoint.origin!r}, not of {dataset}'s")
    if checkpoint.size != head.get("seq"):
        result.problems.append(f"its checkpoint is of size {checkpoint.size}, not of its head at seq {head.get('seq')}")
    root = frontier.extend(leaf(str(e.get("hash"))) for e in extract).root()
    if root != checkpoint.root:
        result.problems.append("its checkpoint's root is not the tree its extract and frontier make: the history it "
                               "vouches for is not the one the package carries")
    if previous_seq and not merkle.consistent(previous_seq, checkpoint.size, result.previous_root, checkpoint.root,
                                              proof):
        result.problems.append(f"its consistency proof does not show the log at seq {previous_seq} is a prefix of "
                               f"the one at seq {checkpoint.size}")
    if office_public is None or not any(note_signature_holds(signed.text, s, checkpoint.origin, office_public)
                                        for s in signed.signatures):
        result.problems.append("its checkpoint is not signed by the key that signed its head")
    return result


def backdating(recorded_at: Any, cosigned: dict[str, int]) -> str | None:
    """Why the publication's own time cannot be true given when the witnesses first saw it (None if it can)."""
    if not cosigned or not isinstance(recorded_at, str):
        return None
    try:
        recorded = datetime.datetime.fromisoformat(recorded_at.replace("Z", "+00:00"))
    except ValueError:
        return f"its publication entry's time {recorded_at!r} cannot be read"
    if recorded.tzinfo is None:
        recorded = recorded.replace(tzinfo=datetime.timezone.utc)
    first = datetime.datetime.fromtimestamp(min(cosigned.values()), datetime.timezone.utc)
    if recorded < first - BACKDATING_TOLERANCE:
        return (f"its publication entry says it was recorded at {recorded_at}, but no witness saw it before "
                f"{first.isoformat()} (the log's times were set back)")
    return None
