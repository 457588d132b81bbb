"""JSON read strictly wherever verification reads what a package or the log holds: a key given twice in one object
is refused, since JSON readers disagree on which one they keep (Python keeps the last, others the first), and a
file that means two things to two readers proves nothing."""

from __future__ import annotations

import json
from typing import Any


class DuplicateKey(ValueError):
    pass


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKey(f"the key {key!r} is given twice in one object")
        found[key] = value
    return found


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def strict_loads(text: str, non_finite: bool = True) -> Any:
    """`json.loads`, refusing (DuplicateKey, a ValueError) an object that gives a key twice; and, without
    `non_finite`, the `NaN`, `Infinity` and `-Infinity` that Python's reader accepts and JSON does not have."""
    if non_finite:
        return json.loads(text, object_pairs_hook=_unique)
    return json.loads(text, object_pairs_hook=_unique, parse_constant=_not_json)
