"""One dataset's change log as a Merkle tree (audit.log.merkle), so that a checkpoint of it can be signed,
cosigned by witnesses, and every entry proven to be in it.

The hashing rules, to recompute in any language:
- leaf i (from 0) is the entry at seq i + 1; its leaf input is the 32 bytes of that entry's hash (the hex `hash` of
  the entry, which is sha256 of its canonical JSON, audit.log.chain), so leaf hash = SHA-256(0x00 || those bytes);
- the tree over n leaves is RFC 9162's: SHA-256(0x01 || left || right), split at the largest power of two below n;
- a checkpoint of size n commits to the root over the first n leaves.

A package carries the tree's *frontier* at the previous package's size m: the roots of the perfect subtrees that
cover leaves [0, m), largest first (one for each 1 bit of m). With the entries after m, which the package's extract
holds, anyone recomputes the root at the package's size without the rest of the log, and the root at m, which must
be the previous package's checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from audit.log import merkle


def leaf(entry_hash: str) -> bytes:
    """The leaf hash of an entry, from its hex hash."""
    return merkle.leaf_hash(bytes.fromhex(entry_hash))


class Frontier:
    """The perfect subtrees covering leaves [0, size), as (height, root) pairs, largest first; leaves are added at
    the right, as the log grows."""

    def __init__(self, roots: Sequence[tuple[int, bytes]] = ()) -> None:
        self.roots: list[tuple[int, bytes]] = list(roots)

    @property
    def size(self) -> int:
        return sum(1 << height for height, _ in self.roots)

    @classmethod
    def of(cls, size: int, hashes: Sequence[bytes]) -> "Frontier":
        """The frontier at `size` from the subtree roots a package carries (largest first): their heights are the
        1 bits of `size`. Refused (ValueError) when their number does not fit the size."""
        heights = [h for h in range(size.bit_length() - 1, -1, -1) if size >> h & 1]
        if len(heights) != len(hashes) or any(len(h) != 32 for h in hashes):
            raise ValueError(f"a frontier at size {size} is {len(heights)} hashes of 32 bytes")
        return cls(list(zip(heights, hashes, strict=True)))

    def add(self, leaf_hash: bytes) -> None:
        height, node = 0, leaf_hash
        while self.roots and self.roots[-1][0] == height:
            _, left = self.roots.pop()
            node, height = merkle.node_hash(left, node), height + 1
        self.roots.append((height, node))

    def extend(self, leaf_hashes: Iterable[bytes]) -> "Frontier":
        for h in leaf_hashes:
            self.add(h)
        return self

    def root(self) -> bytes:
        """The root over leaves [0, size): the subtrees folded from the right, as RFC 9162 splits a tree."""
        if not self.roots:
            return merkle.EMPTY_ROOT
        node = self.roots[-1][1]
        for _, left in reversed(self.roots[:-1]):
            node = merkle.node_hash(left, node)
        return node

    def hashes(self) -> list[bytes]:
        return [h for _, h in self.roots]
