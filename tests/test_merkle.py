"""The log's Merkle tree hashes as RFC 6962/9162 do: the published test vectors' roots, and inclusion and
consistency proofs that check for every size and position, and fail for any other root, position or size."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.log import merkle
from tests.conftest import examples

# Certificate Transparency's test leaves and the root of the first n of them (RFC 6962 reference test data).
LEAVES = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                      "606162636465666768696a6b6c6d6e6f"]]
ROOTS = ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
         "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
         "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
         "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
         "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
         "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
         "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
         "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]


def hashes(n: int) -> list[bytes]:
    return [merkle.leaf_hash(str(i).encode()) for i in range(n)]


@pytest.mark.parametrize("n", range(1, 9))
def test_the_root_is_the_rfcs_for_its_test_vectors(n):
    assert merkle.root([merkle.leaf_hash(x) for x in LEAVES[:n]]).hex() == ROOTS[n - 1]


def test_the_empty_tree_is_the_hash_of_nothing():
    assert merkle.root([]) == hashlib.sha256(b"").digest()


@settings(max_examples=examples(60), deadline=None)
@given(st.integers(1, 70).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_an_inclusion_proof_checks_for_its_entry_only(case):
    n, index = case
    leaves = hashes(n)
    head = merkle.root(leaves)
    proof = merkle.inclusion_proof(index, leaves)

    assert merkle.included(index, n, leaves[index], proof, head)
    assert len(proof) <= max(1, (n - 1).bit_length())
    assert not merkle.included(index, n, merkle.leaf_hash(b"a figure never recorded"), proof, head)
    if n > 1:
        assert not merkle.included((index + 1) % n, n, leaves[index], proof, head)
        assert not merkle.included(index, n, leaves[index], proof, merkle.root(leaves[:-1]))


@settings(max_examples=examples(60), deadline=None)
@given(st.integers(1, 70).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))))
def test_a_consistency_proof_shows_an_old_tree_is_a_prefix_of_the_new(case):
    n, m = case
    leaves = hashes(n)
    old, new = merkle.root(leaves[:m]), merkle.root(leaves)
    proof = merkle.consistency_proof(m, leaves)

    assert merkle.consistent(m, n, old, new, proof)
    if 0 < m < n:
        # A history rewritten at any entry before m is not a continuation of the old tree.
        forged = list(leaves)
        forged[m - 1] = merkle.leaf_hash(b"rewritten")
        assert not merkle.consistent(m, n, old, merkle.root(forged), merkle.consistency_proof(m, forged))
        assert not merkle.consistent(m, n, merkle.root(forged[:m]), new, proof)


def test_a_frontier_and_the_entries_after_it_give_the_root_of_the_whole_log():
    from audit.log.tree import Frontier

    for n in range(0, 40):
        leaves = hashes(n)
        for m in range(n + 1):
            carried = Frontier().extend(leaves[:m]).hashes()  # what a package carries for the size before it
            assert len(carried) == bin(m).count("1")
            frontier = Frontier.of(m, carried)
            assert frontier.root() == merkle.root(leaves[:m])
            assert frontier.extend(leaves[m:]).root() == merkle.root(leaves)
    with pytest.raises(ValueError):
        Frontier.of(5, hashes(1))
