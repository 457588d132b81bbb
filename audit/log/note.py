"""Checkpoints as signed notes, and witnesses' cosignatures on them, in the C2SP formats (c2sp.org/signed-note,
c2sp.org/tlog-checkpoint, c2sp.org/tlog-cosignature), so that any implementation of those specifications can check
what this tool signs, and this tool can check what a witness of theirs cosigns.

A checkpoint commits to one dataset's log at one size: its origin (the log's name), the number of entries, and the
Merkle root over them (audit.log.merkle), each on a line of its own:

    crime-data-audit/baltimore-violent-crime
    12
    aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd28=

A signed note is that text, a blank line, and one line per signature: an em dash, a space, the key's name, a space,
and base64 of the key's 4-byte ID and the signature. The office signs with Ed25519 (signature type 0x01) under the
log's origin; a witness cosigns with a timestamped Ed25519 cosignature (type 0x04): it signs
"cosignature/v1\\ntime <seconds>\\n" followed by the checkpoint text, and its signature carries those seconds.

Written here rather than taken from a library: no maintained Python package implements these formats (the
reference implementations are Go), and each is a few lines over `cryptography`'s Ed25519.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

ED25519 = 0x01
COSIGNATURE = 0x04
DASH = "\u2014 "
MAX_SIGNATURES = 64


class NoteError(ValueError):
    """A note, checkpoint or signature that is not in the format, or does not verify."""


def key_id(name: str, kind: int, public: bytes) -> bytes:
    """The 4-byte ID of a key: SHA-256(name || 0x0A || type || public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([kind]) + public).digest()[:4]


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes        # for a cosignature: its 8-byte timestamp, then the Ed25519 signature

    def line(self) -> str:
        return f"{DASH}{self.name} {base64.b64encode(self.key_id + self.signature).decode('ascii')}\n"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        """The note text: origin, size, base64 root, any extension lines; each line ends in a newline."""
        return "".join(f"{line}\n" for line in (self.origin, str(self.size),
                                                base64.b64encode(self.root).decode("ascii"), *self.extensions))

    @classmethod
    def parse(cls, text: str) -> "Checkpoint":
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint is at least three lines, each ending in a newline")
        origin, size, root, *extensions = lines[:-1]
        if not origin or not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError("a checkpoint starts with its origin and its size in decimal")
        try:
            digest = base64.b64decode(root, validate=True)
        except binascii.Error as exc:
            raise NoteError("a checkpoint's third line is its root hash in base64") from exc
        if len(digest) != 32:
            raise NoteError("a checkpoint's root hash is 32 bytes")
        return cls(origin, int(size), digest, tuple(extensions))


@dataclass(frozen=True)
class SignedNote:
    text: str
    signatures: tuple[Signature, ...]

    def render(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    def with_signatures(self, more: list[Signature]) -> "SignedNote":
        known = {(s.name, s.key_id) for s in self.signatures}
        return SignedNote(self.text, self.signatures + tuple(s for s in more if (s.name, s.key_id) not in known))

    @classmethod
    def parse(cls, note: str) -> "SignedNote":
        """A note as the format defines it: text, the last blank line, signature lines. Refused (NoteError) when it
        is not exactly that."""
        if any(ord(c) < 0x20 and c != "\n" for c in note):
            raise NoteError("a signed note holds no control characters but newlines")
        split = note.rfind("\n\n")
        if split < 0 or not note.endswith("\n"):
            raise NoteError("a signed note is text, a blank line and signature lines, each ending in a newline")
        text, lines = note[:split + 1], note[split + 2:].split("\n")[:-1]
        if not lines or len(lines) > MAX_SIGNATURES:
            raise NoteError(f"a signed note carries 1 to {MAX_SIGNATURES} signatures")
        return cls(text, tuple(parse_signature_line(line + "\n") for line in lines))


def parse_signature_line(line: str) -> Signature:
    if not line.startswith(DASH) or not line.endswith("\n"):
        raise NoteError(f"not a signature line: {line[:60]!r}")
    parts = line[len(DASH):-1].split(" ")
    if len(parts) != 2 or not parts[0] or "+" in parts[0]:
        raise NoteError(f"a signature line is a key name and a base64 signature: {line[:60]!r}")
    try:
        raw = base64.b64decode(parts[1], validate=True)
    except binascii.Error as exc:
        raise NoteError(f"a signature is base64: {line[:60]!r}") from exc
    if len(raw) < 5:
        raise NoteError(f"a signature is a 4-byte key ID and the signature: {line[:60]!r}")
    return Signature(parts[0], raw[:4], raw[4:])


def sign_note(text: str, name: str, private_key) -> Signature:
    """The office's signature on `text` (an Ed25519 private key of `cryptography`), under key name `name`."""
    public = _raw(private_key.public_key())
    return Signature(name, key_id(name, ED25519, public), private_key.sign(text.encode("utf-8")))


def note_signature_holds(text: str, signature: Signature, name: str, public: bytes) -> bool:
    """Whether `signature` is `name`'s Ed25519 signature (key `public`) on `text`."""
    if (signature.name, signature.key_id) != (name, key_id(name, ED25519, public)):
        return False
    return _verifies(public, signature.signature, text.encode("utf-8"))


def cosign(checkpoint_text: str, name: str, private_key, timestamp: int) -> Signature:
    """A witness's timestamped cosignature on a checkpoint (c2sp.org/tlog-cosignature, Ed25519)."""
    public = _raw(private_key.public_key())
    signed = private_key.sign(_cosigned_message(checkpoint_text, timestamp))
    return Signature(name, key_id(name, COSIGNATURE, public), struct.pack(">Q", timestamp) + signed)


def cosignature_time(checkpoint_text: str, signature: Signature, name: str, public: bytes) -> int | None:
    """The time (POSIX seconds) of `name`'s cosignature on the checkpoint, or None when it is not one that
    verifies with `public`."""
    if (signature.name, signature.key_id) != (name, key_id(name, COSIGNATURE, public)):
        return None
    if len(signature.signature) != 8 + 64:
        return None
    (timestamp,) = struct.unpack(">Q", signature.signature[:8])
    if timestamp >= 2**63:
        return None
    ok = _verifies(public, signature.signature[8:], _cosigned_message(checkpoint_text, timestamp))
    return timestamp if ok else None


def _cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode("utf-8")


def _raw(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _verifies(public: bytes, signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
