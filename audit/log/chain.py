"""The hash chain's canonical form: one entry -> one byte string -> one sha256.

Canonical JSON (sorted keys, no spaces, UTF-8) of every column except `hash`.
Anyone can recompute it from a published log extract with a few lines of code
in any language, which is the point.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS = "0" * 64


def canonical(entry: dict[str, Any]) -> bytes:
    content = {k: v for k, v in entry.items() if k != "hash"}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()
