"""A key as a reader compares it (folded: small letters, trimmed, single spaces), and the condition of the pass that
keeps the rows whose folded key may repeat, which the key's checks share (audit.validate.fused).

Free of Great Expectations, so that the pass can run before GX is imported (audit.validate.ahead).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from audit.sql import ident


def fold_sql(c: str) -> str:
    """Text `c` as a reader compares it: in small letters, trimmed, each run of spaces or tabs one space."""
    # Collapsing inner spaces is a regex: only the few values with two spaces or a tab pay for it.
    spaced = f"contains({c}, '  ') OR contains({c}, chr(9))"
    return f"lower(CASE WHEN {spaced} THEN regexp_replace(trim({c}), '\\s+', ' ', 'g') ELSE trim({c}) END)"


def joined_sql(parts: list[str]) -> str:
    """One text per key: chr(30) marks a blank part, chr(31) separates the parts."""
    return f"concat_ws(chr(31), {', '.join(f'coalesce({p}, chr(30))' for p in parts)})"


def repeats_sql(columns: list[str], table: str) -> str:
    """The condition that a row's key (`columns` of `table`), folded, may occur more than once: its hash does.
    Every part is folded as text, whatever its type: folding more only keeps more rows."""
    number = f"hash({joined_sql([fold_sql(f'CAST({ident(c)} AS VARCHAR)') for c in columns])})"
    return f"{number} IN (SELECT {number} FROM {ident(table)} GROUP BY ALL HAVING count(*) > 1)"


def shared_keys(entries: list[dict[str, Any]]) -> list[list[str]]:
    """The keys (`columns`) two or more suite entries name: those whose checks may share a key pass. Read from the
    entries as written, without GX's classes; a key named here that no two checks share in the end only costs its
    pass, as its rows are used only by checks whose own condition is the same (audit.validate.ahead)."""
    named = ((entry.get("kwargs") or {}).get("columns") for entry in entries)
    counts = Counter(tuple(c) for c in named if isinstance(c, list) and c and all(isinstance(p, str) for p in c))
    return [list(key) for key, n in counts.items() if n >= 2]
