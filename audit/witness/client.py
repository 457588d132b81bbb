"""Talking to witnesses: the office asking for cosignatures before it publishes, and a reader asking a witness
for the latest checkpoint it cosigned of a log.
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from audit.log.note import NoteError, SignedNote, cosignature_time, parse_signature_line
from audit.witness.keys import WitnessKey

TIMEOUT = 10.0


@dataclass(frozen=True)
class Cosigned:
    """A witness's answer: its cosignature line and its time, or why it gave none."""

    witness: WitnessKey
    line: str | None = None
    time: int | None = None
    refusal: str | None = None


def request_cosignature(url: str, witness: WitnessKey, note: SignedNote, old_size: int,
                        proof_from: Callable[[int], list[bytes]]) -> Cosigned:
    """Ask the witness at `url` to cosign `note`, proving consistency from the size it holds: first from
    `old_size` (what the office expects it to hold), and once more from the size it answers with. `proof_from(m)`
    is the consistency proof from size m to the note's size."""
    for _ in range(2):
        try:
            proof = proof_from(old_size)
        except ValueError:
            return Cosigned(witness, refusal=f"it has cosigned this log at size {old_size}, larger than the log is now: "
                                             "the log was rebuilt or cut since")
        body = f"old {old_size}\n" + "".join(base64.b64encode(h).decode("ascii") + "\n" for h in proof)
        status, text = _post(url.rstrip("/") + "/add-checkpoint", (body + "\n" + note.render()).encode("utf-8"))
        if status == 409 and text.strip().isdigit() and int(text.strip()) != old_size:
            old_size = int(text.strip())
            continue
        if status != 200:
            why = {403: "it does not accept the office's signature", 404: "it does not know this log or the office's key",
                   409: "it holds another checkpoint of this size (a fork of the log)",
                   422: "the log is not consistent with the checkpoint it cosigned last"}.get(status, text.strip()[:200])
            return Cosigned(witness, refusal=f"{why} (HTTP {status})" if status else why)
        for line in text.splitlines(keepends=True):
            try:
                signature = parse_signature_line(line)
            except NoteError:
                continue  # not a line of ours to read
            when = cosignature_time(note.text, signature, witness.name, witness.public)
            if when is not None:
                return Cosigned(witness, line, when)
        return Cosigned(witness, refusal="its answer holds no cosignature by its key")
    return Cosigned(witness, refusal="it answered twice with a size the log cannot be proven from")


def latest_checkpoint(url: str, origin: str) -> tuple[int, str]:
    """(HTTP status, body): the latest checkpoint the witness at `url` cosigned for `origin`."""
    return _get(url.rstrip("/") + "/checkpoint/" + urllib.parse.quote(origin, safe=""))


def _post(url: str, data: bytes) -> tuple[int, str]:
    return _open(urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "text/plain"}))


def _get(url: str) -> tuple[int, str]:
    return _open(urllib.request.Request(url, method="GET"))


def _open(request: urllib.request.Request) -> tuple[int, str]:
    """(status, body), or (0, why) when the witness cannot be reached."""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.read(1 << 20).decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(1 << 16).decode("utf-8", errors="replace")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return 0, f"it cannot be reached ({reason})"
