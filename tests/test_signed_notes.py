"""Checkpoints and cosignatures in the C2SP formats: the Go reference's published note verifies with our code, our
notes and cosignatures verify and fail as the specifications say, and malformed notes are refused."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.log import merkle, note

# golang.org/x/mod/sumdb/note's example: a verifier key (type byte 0x01, then the Ed25519 public key), and a note it
# signed.
NEUMANN_VKEY = "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
NEUMANN_NOTE = ("If you think cryptography is the answer to your problem,\n"
                "then you don't know what your problem is.\n\n"
                "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpR"
                "Zb6KE6RyyBwJnAM=\n")


def raw_public(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_the_reference_implementations_note_verifies_and_its_key_id_is_the_same():
    public = base64.b64decode(NEUMANN_VKEY)[1:]
    signed = note.SignedNote.parse(NEUMANN_NOTE)

    assert note.key_id("PeterNeumann", note.ED25519, public).hex() == "c74f20a3"
    assert note.note_signature_holds(signed.text, signed.signatures[0], "PeterNeumann", public)
    assert not note.note_signature_holds(signed.text.replace("problem", "solution"), signed.signatures[0],
                                         "PeterNeumann", public)
    assert signed.render() == NEUMANN_NOTE


def test_a_checkpoint_signed_by_the_office_and_cosigned_by_a_witness_verifies_for_each_key_only():
    office, witness, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(5)]
    checkpoint = note.Checkpoint("city.example/crime-audit/robberies", 5, merkle.root(leaves))
    signed = note.SignedNote(checkpoint.text(), (note.sign_note(checkpoint.text(), checkpoint.origin, office),))

    cosigned = signed.with_signatures([note.cosign(checkpoint.text(), "board.example/w1", witness, 1765000000)])
    again = note.SignedNote.parse(cosigned.render())

    assert note.Checkpoint.parse(again.text) == checkpoint
    office_line, witness_line = again.signatures
    assert note.note_signature_holds(again.text, office_line, checkpoint.origin, raw_public(office))
    assert not note.note_signature_holds(again.text, office_line, checkpoint.origin, raw_public(other))
    assert note.cosignature_time(again.text, witness_line, "board.example/w1", raw_public(witness)) == 1765000000
    assert note.cosignature_time(again.text, witness_line, "board.example/w1", raw_public(other)) is None
    assert note.cosignature_time(again.text, office_line, checkpoint.origin, raw_public(office)) is None
    forged = note.Checkpoint(checkpoint.origin, 5, merkle.root(leaves[:4] + [merkle.leaf_hash(b"x")])).text()
    assert note.cosignature_time(forged, witness_line, "board.example/w1", raw_public(witness)) is None


@pytest.mark.parametrize("text, why", [
    ("origin\n5\nAAAA\n\n\u2014 k AAAAAAA=\n", "32 bytes"),
    ("origin\n05\n" + "A" * 43 + "=\n\n\u2014 k AAAAAAA=\n", "size in decimal"),
    ("origin\n5\n" + "A" * 43 + "=\n", "blank line"),
    ("origin\n5\n" + "A" * 43 + "=\n\n- k AAAAAAA=\n", "not a signature line"),
    ("origin\n5\n" + "A" * 43 + "=\n\n\u2014 k+x AAAAAAA=\n", "key name"),
    ("origin\x07\n5\n" + "A" * 43 + "=\n\n\u2014 k AAAAAAA=\n", "control characters"),
])
def test_a_malformed_checkpoint_or_note_is_refused(text, why):
    with pytest.raises(note.NoteError, match=why):
        note.Checkpoint.parse(note.SignedNote.parse(text).text)
