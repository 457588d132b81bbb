"""The hash chain: one entry -> one byte string -> one sha256, and the walk that checks a chain.

An entry is a flat JSON object: the name of its table, its dataset, `seq` (its
position, from 1), `recorded_at`, `prev_hash` (the hash of the entry before it,
or GENESIS for the first), its table's own columns, and `hash`. The hash is
sha256 of the canonical JSON (sorted keys, no spaces, UTF-8) of every key except
`hash`. Anyone can recompute it from a published log extract with a few lines of
code in any language, which is the point.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable

GENESIS = "0" * 64
TABLE_KEY = "table"


def canonical(entry: dict[str, Any]) -> bytes:
    content = {k: v for k, v in entry.items() if k != "hash"}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """Where a chain stops being what was recorded: the first entry that does not fit."""

    dataset: str
    table: str
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"{self.dataset}: the chain breaks at {self.table} entry seq {self.seq}: {self.problem}"


@dataclass
class ChainWalk:
    """The result of walking one dataset's chain in `seq` order."""

    dataset: str
    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    broken: ChainBreak | None = None


def walk(dataset: str, entries: Iterable[dict[str, Any]], start_seq: int = 0, start_hash: str = GENESIS) -> ChainWalk:
    """Check entries (sorted by seq) link up: seq 1, 2, 3 ..., each `prev_hash` the hash before it,
    each `hash` its own content's. Stops at the first break, which names the entry.

    A part of a chain (a package's extract) starts after entry `start_seq`, whose hash is `start_hash`."""
    result = ChainWalk(dataset, head_seq=start_seq, head_hash=start_hash)
    for entry in entries:
        table, seq = entry.get(TABLE_KEY, "?"), entry.get("seq")
        expected_seq = result.head_seq + 1
        problem = None
        if seq == result.head_seq and (result.entries or start_seq):
            problem = f"a second entry at seq {seq} (an entry was inserted)"
        elif seq != expected_seq:
            problem = (f"entries {expected_seq} to {seq - 1} are missing (deleted or moved)"
                       if isinstance(seq, int) and seq > expected_seq else f"seq {seq!r} is out of order")
        elif entry.get("prev_hash") != result.head_hash:
            problem = "it does not link to the entry before it (an entry before it was changed, deleted or inserted)"
        elif entry_hash(entry) != entry.get("hash"):
            problem = "its content does not match its hash (it was changed after it was recorded)"
        if problem:
            result.broken = ChainBreak(dataset, table, seq if isinstance(seq, int) else -1, problem)
            return result
        result.entries += 1
        result.head_seq, result.head_hash = expected_seq, entry["hash"]  # the seq it has
    return result
