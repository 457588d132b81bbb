"""Names that look alike: a dataset folder named with a Cyrillic о where the office's has a Latin o reads the same
to a person, and a site or a feed would list it beside the real one.

Two names are confusable when their skeletons are equal (Unicode's UTS #39 idea): each name after compatibility
normalisation (NFKC) and case folding, with every character that has a Latin look-alike replaced by it. The
look-alikes come from Unicode's confusables data through `confusable-homoglyphs`.
"""

from __future__ import annotations

import unicodedata


def skeleton(name: str) -> str:
    from confusable_homoglyphs import confusables

    text = unicodedata.normalize("NFKC", name).casefold()
    found = confusables.is_confusable(text, greedy=True, preferred_aliases=["latin"]) or []
    swap = {f["character"]: f["homoglyphs"][0]["c"] for f in found if f.get("homoglyphs")}
    return "".join(swap.get(c, c) for c in text).casefold()


def looks_like(name: str, known: list[str]) -> str | None:
    """The known name `name` would be taken for, though it is not that name (None when there is none)."""
    mine = skeleton(name)
    return next((k for k in known if k != name and skeleton(k) == mine), None)
