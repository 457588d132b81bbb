"""Dataset names and release labels: plain labels, since each becomes a folder, a file name and a table name.

A label is refused (exit 2) unless it is letters, digits, '.', '_', '-' or '+', starts with a letter or digit,
holds no '..' and is at most 100 characters: no path separator, no control character, nothing that could
lead a write out of the workspace. Labels that differ only in case, or only in how Unicode writes the same
letters (a fullwidth ｖ１ is v1), are one label (DuckDB's table names and some file systems ignore case, and a
reader cannot tell them apart), so the log refuses a second one: they are compared by `label_key`.
"""

from __future__ import annotations

import re
import unicodedata

from audit.errors import ConfigError

PLAIN = re.compile(r"[^\W_][\w.+-]{0,99}")


def plain_label(label: str, what: str) -> str:
    """`label` if it is a plain label; otherwise a ConfigError naming `what` it was for."""
    if not isinstance(label, str) or not PLAIN.fullmatch(label) or ".." in label or not label.isprintable():
        raise ConfigError(f"{what} {label!r} is not a plain label: use letters, digits, '.', '_', '-' or '+', "
                          "starting with a letter or digit, no '..', at most 100 characters")
    return label


def label_key(label: str) -> str:
    """What two labels are compared by: compatibility-normalised (NFKC) and case-folded."""
    return unicodedata.normalize("NFKC", label).casefold()
