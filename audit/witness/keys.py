"""A witness's keys: an Ed25519 private key (PEM, readable by its owner only) and its public verifier key, written
as C2SP's vkey text (c2sp.org/signed-note: `<name>+<key ID in hex>+<base64 of 0x04 || public key>`), which carries
the witness's name with its key, so that whoever checks a cosignature needs that one line."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from audit.errors import ConfigError
from audit.log.note import COSIGNATURE, SignedNote, cosignature_time, key_id

VKEY_SUFFIX = ".vkey"


@dataclass(frozen=True)
class WitnessKey:
    """Who a witness is, as a verifier knows it: its name and its Ed25519 public key."""

    name: str
    public: bytes

    def vkey(self) -> str:
        kid = key_id(self.name, COSIGNATURE, self.public).hex()
        return f"{self.name}+{kid}+{base64.b64encode(bytes([COSIGNATURE]) + self.public).decode('ascii')}"

    @classmethod
    def parse(cls, text: str, source: str) -> "WitnessKey":
        parts = text.strip().split("+", 2)  # the base64 key may itself hold a +
        if len(parts) != 3 or not parts[0] or any(c.isspace() for c in parts[0]):
            raise ConfigError(f"{source}: a witness key is one line, <name>+<key id>+<base64 key>")
        name, kid, encoded = parts
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise ConfigError(f"{source}: the witness key is not base64") from exc
        if len(raw) != 33 or raw[0] != COSIGNATURE:
            raise ConfigError(f"{source}: not a timestamped Ed25519 cosigner key (type 0x04, 32 bytes)")
        key = cls(name, raw[1:])
        if key_id(name, COSIGNATURE, key.public).hex() != kid.lower():
            raise ConfigError(f"{source}: the key ID {kid} does not belong to this name and key")
        return key


def read_witness_key(path: Path) -> WitnessKey:
    try:
        return WitnessKey.parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the witness key ({exc})") from exc


def generate_witness_key(name: str, path: Path) -> WitnessKey:
    """Write a new private key to `path` (mode 600, never over an existing file) and its vkey to `path`.vkey."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not name or any(c.isspace() or c == "+" for c in name):
        raise ConfigError(f"a witness name has no spaces and no '+': {name!r} (say board.example/witness)")
    if path.exists() or vkey_path(path).exists():
        raise ConfigError(f"{path} already exists; a witness key is never overwritten")
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    witness = WitnessKey(name, public)
    vkey_path(path).write_text(witness.vkey() + "\n", encoding="utf-8")
    return witness


def vkey_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.name + VKEY_SUFFIX)


def read_private_key(path: Path):
    from audit.log.signing import load_private_key

    return load_private_key(path, "witness key")


def cosigned_by(note: SignedNote, keys: Iterable[WitnessKey]) -> dict[str, int]:
    """Which of `keys` cosigned `note`'s checkpoint, and when (POSIX seconds): the one count of cosignatures that
    publish, verify and the site hold to a quorum."""
    found = {}
    for key in keys:
        for signature in note.signatures:
            when = cosignature_time(note.text, signature, key.name, key.public)
            if when is not None:
                found[key.name] = when
    return found
