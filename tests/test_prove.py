"""`audit prove`: the inclusion proof of any recorded entry in the tree a published package's checkpoint names, which
a reader checks against that checkpoint alone (RFC 9162), for an old figure as for the newest publication."""

from __future__ import annotations

import base64
import hashlib
import json

from audit import pipeline
from audit.log import merkle
from audit.log.chain import canonical
from audit.log.note import Checkpoint, SignedNote
from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, publish_both_example_releases
from tests.witnesses import audit


def test_an_early_entry_is_proven_in_the_newest_packages_checkpoint(workspace):
    assert audit("keygen", workspace.root / "keys" / "office.pem")[0] == 0
    (workspace.root / "audit.yaml").write_text("signing_key: keys/office.pem\n")
    package = publish_both_example_releases(workspace)
    head = json.loads((package / "changelog-head.json").read_text())
    checkpoint = Checkpoint.parse(SignedNote.parse(head["checkpoint"]).text)

    code, out = audit("prove", EXAMPLE, "--seq", "2", "--format", "json", "--workspace", workspace.root)

    assert code == 0, out
    proof = json.loads(out)
    entry = proof["entry"]
    # What a reader does: the entry is its hash, the hash is leaf 1 of the tree the package's checkpoint names.
    assert hashlib.sha256(canonical(entry)).hexdigest() == entry["hash"]
    leaf = merkle.leaf_hash(bytes.fromhex(entry["hash"]))
    hashes = [base64.b64decode(h) for h in proof["proof"]]
    assert proof["size"] == checkpoint.size and base64.b64decode(proof["root"]) == checkpoint.root
    assert merkle.included(1, checkpoint.size, leaf, hashes, checkpoint.root)
    # An entry altered after the fact is not the one proven.
    entry["recorded_by"] = "someone else"
    altered = merkle.leaf_hash(hashlib.sha256(canonical(entry)).digest())
    assert not merkle.included(1, checkpoint.size, altered, hashes, checkpoint.root)


def test_a_proof_asked_beyond_the_log_is_one_line_and_exit_2(workspace):
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")

    code, out = audit("prove", EXAMPLE, "--seq", "99", "--workspace", workspace.root)

    assert code == 2 and "give 1 <= --seq <= --size <=" in out
