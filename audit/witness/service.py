"""What a witness does with a checkpoint it is shown (c2sp.org/tlog-witness), apart from HTTP: it cosigns a
checkpoint only when an office it trusts signed it and it is consistent with the last one it cosigned for that log;
it keeps only checkpoints, never data; it signs with its own clock; and it keeps both signed checkpoints of any fork
it is shown, as evidence.

State, one folder: `logs/<sha256 of the origin>.json` holds the latest checkpoint cosigned for each log (its signed
note as shown, and the cosignature), replaced atomically and flushed before the answer goes out;
`evidence/` holds one file per inconsistency shown: the checkpoint the witness had cosigned, the one it was shown,
and the proof that came with it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from audit.log import merkle
from audit.log.note import ED25519, Checkpoint, NoteError, SignedNote, cosign, key_id, note_signature_holds
from audit.witness.keys import WitnessKey

MAX_PROOF = 63
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """An HTTP status, a body, and its type, as the protocol gives them."""

    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


class Witness:
    def __init__(self, name: str, private_key, state: Path, office_keys: list[bytes]) -> None:
        self.name, self._key, self.state = name, private_key, state
        self.office_keys = office_keys
        from cryptography.hazmat.primitives import serialization

        self.key = WitnessKey(name, private_key.public_key().public_bytes(serialization.Encoding.Raw,
                                                                         serialization.PublicFormat.Raw))
        (state / "logs").mkdir(parents=True, exist_ok=True)
        (state / "evidence").mkdir(parents=True, exist_ok=True)
        # Checking a checkpoint against the stored one and storing the next happen as one step: two requests for
        # one log must not both pass the check and roll the stored size back (the protocol's race).
        self._lock = threading.Lock()

    def add_checkpoint(self, body: bytes) -> Answer:
        try:
            old_size, proof, signed = _parse_request(body)
            checkpoint = Checkpoint.parse(signed.text)
        except (NoteError, UnicodeDecodeError) as exc:
            return Answer(400, f"{exc}\n")
        office = self._trusted_signer(signed, checkpoint.origin)
        if office is None:
            return Answer(404, f"unknown log: no office this witness trusts signs {checkpoint.origin!r}\n")
        if office is False:
            return Answer(403, "the office's signature on the checkpoint does not verify\n")
        if old_size > checkpoint.size:
            return Answer(400, "the old size is larger than the checkpoint's\n")
        with self._lock:
            latest = self._latest(checkpoint.origin)
            latest_size = latest[0].size if latest else 0
            if old_size != latest_size:
                return Answer(409, f"{latest_size}\n", "text/x.tlog.size")
            if latest is not None:
                before, before_note = latest
                if before.size == checkpoint.size and before.root != checkpoint.root:
                    self._keep_evidence(before_note, signed, old_size, proof, "same size, another root")
                    return Answer(409, f"{latest_size}\n", "text/x.tlog.size")
                if not merkle.consistent(before.size, checkpoint.size, before.root, checkpoint.root, proof):
                    self._keep_evidence(before_note, signed, old_size, proof, "the consistency proof fails")
                    return Answer(422, "the checkpoint is not consistent with the one this witness cosigned\n")
            elif proof:
                return Answer(422, "a checkpoint of a log new to this witness comes with no proof\n")
            cosignature = cosign(checkpoint.text(), self.name, self._key, int(time.time()))
            self._store(checkpoint.origin, signed.with_signatures([cosignature]))
        return Answer(200, cosignature.line())

    def latest_note(self, origin: str) -> str | None:
        """The latest checkpoint this witness cosigned for `origin`, with the office's signature and its own."""
        latest = self._latest(origin)
        return latest[1].render() if latest else None

    def _trusted_signer(self, signed: SignedNote, origin: str) -> bytes | None | bool:
        """The trusted office key that signed (None: no trusted key names this origin; False: it does, but the
        signature does not verify)."""
        known = False
        for public in self.office_keys:
            kid = key_id(origin, ED25519, public)
            for signature in signed.signatures:
                if (signature.name, signature.key_id) == (origin, kid):
                    known = True
                    if note_signature_holds(signed.text, signature, origin, public):
                        return public
        return False if known else None

    def _path(self, origin: str) -> Path:
        return self.state / "logs" / f"{hashlib.sha256(origin.encode('utf-8')).hexdigest()}.json"

    def _latest(self, origin: str) -> tuple[Checkpoint, SignedNote] | None:
        path = self._path(origin)
        if not path.is_file():
            return None
        note = SignedNote.parse(json.loads(path.read_text(encoding="utf-8"))["note"])
        return Checkpoint.parse(note.text), note

    def _store(self, origin: str, note: SignedNote) -> None:
        _write_durably(self._path(origin), json.dumps({"origin": origin, "note": note.render()}) + "\n")

    def _keep_evidence(self, cosigned: SignedNote, shown: SignedNote, old_size: int, proof: list[bytes],
                       why: str) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        digest = hashlib.sha256(shown.render().encode("utf-8")).hexdigest()[:16]
        text = (f"# {why}, seen {stamp} by {self.name}\n# the checkpoint this witness had cosigned:\n"
                f"{cosigned.render()}\n# the checkpoint it was shown, with old size {old_size} and this proof:\n"
                + "".join(base64.b64encode(p).decode("ascii") + "\n" for p in proof) + "\n" + shown.render())
        _write_durably(self.state / "evidence" / f"{stamp}-{digest}.txt", text)


def _parse_request(body: bytes) -> tuple[int, list[bytes], SignedNote]:
    if len(body) > MAX_BODY:
        raise NoteError("the request is too large")
    text = body.decode("utf-8")
    head, blank, rest = text.partition("\n\n")
    if not blank:
        raise NoteError("the request is an old size line, proof lines, a blank line and a checkpoint")
    lines = head.split("\n")
    words = lines[0].split(" ")
    if len(words) != 2 or words[0] != "old" or not words[1].isdigit() or (words[1] != "0" and words[1][0] == "0"):
        raise NoteError("the request starts with 'old <size>'")
    if len(lines) - 1 > MAX_PROOF:
        raise NoteError(f"a consistency proof has at most {MAX_PROOF} hashes")
    try:
        proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
    except binascii.Error as exc:
        raise NoteError("each proof line is a hash in base64") from exc
    if any(len(p) != 32 for p in proof):
        raise NoteError("each proof hash is 32 bytes")
    return int(words[1]), proof, SignedNote.parse(rest)


def _write_durably(path: Path, text: str) -> None:
    """Write beside, flush to disk, rename over: the state is whole after a crash, old or new."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
