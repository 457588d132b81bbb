"""Optional Ed25519 signatures on the chain head a package carries.

A hash chain shows that nothing in a log extract was changed after the fact, but
whoever rewrites the whole log can recompute every hash. A signature by the
office's key on each published head closes that: only the key holder can make a
head that verifies against the office's published public key.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from audit.errors import ConfigError

ALGORITHM = "Ed25519"


def _raw_public(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(raw_public: bytes) -> str:
    return "ed25519:" + hashlib.sha256(raw_public).hexdigest()[:32]


def generate_key(path: Path) -> str:
    """Write a new private key to `path` (readable by its owner only) and its public key to `path`.pub;
    return the public key's fingerprint."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if path.exists():
        raise ConfigError(f"{path} already exists; a signing key is never overwritten")
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private)
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    public_path(path).write_bytes(public)
    return fingerprint(_raw_public(key.public_key()))


def public_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.name + ".pub")


def load_private_key(path: Path, what: str = "signing key"):
    """The Ed25519 private key in a PEM file (an office's signing key, a witness's key), or a ConfigError naming
    `what` it was for."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"{what} {path}: cannot read it as an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{what} {path}: not an Ed25519 key")
    return key


class Signer:
    """Signs chain heads with a private key read from a PEM file."""

    def __init__(self, path: Path) -> None:
        key = load_private_key(path)
        self._key = key
        self.raw_public = _raw_public(key.public_key())
        self.fingerprint = fingerprint(self.raw_public)

    def sign_note(self, text: str, name: str):
        """The office's signed-note signature on `text` under key name `name` (a checkpoint, audit.log.note)."""
        from audit.log.note import sign_note

        return sign_note(text, name, self._key)

    def sign_bytes(self, data: bytes) -> bytes:
        """The raw Ed25519 signature of `data` (a package's SHA256SUMS, as openssl checks it)."""
        return self._key.sign(data)

    def sign(self, head: str) -> dict[str, str]:
        """The signature block a package carries: algorithm, public key, its fingerprint, signature (base64)."""
        return {
            "algorithm": ALGORITHM,
            "publicKey": base64.b64encode(self.raw_public).decode("ascii"),
            "keyFingerprint": self.fingerprint,
            "signature": base64.b64encode(self._key.sign(head.encode("ascii"))).decode("ascii"),
        }


def load_public_key(path: Path) -> bytes:
    """The raw Ed25519 public key in a PEM file (as `audit keygen` writes beside the private key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"public key {path}: cannot read it as a PEM public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"public key {path}: not an Ed25519 key")
    return _raw_public(key)


def signature_problem(head: str, block: dict, trusted: bytes | None) -> str | None:
    """Why the signature `block` on `head` does not hold (None when it does). With `trusted`, the
    signature must also be by that key, not merely by the key the package ships."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if block.get("algorithm") != ALGORITHM:
        return f"unknown signature algorithm {block.get('algorithm')!r}"
    try:
        raw = base64.b64decode(block["publicKey"], validate=True)
        signature = base64.b64decode(block["signature"], validate=True)
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, head.encode("ascii"))
    except (KeyError, ValueError, TypeError):
        return "the signature block is malformed"
    except InvalidSignature:
        return "the signature on the chain head does not verify (the head or the signature was changed)"
    if trusted is not None and raw != trusted:
        return f"signed by {fingerprint(raw)}, not by the trusted key {fingerprint(trusted)}"
    return None
