"""What ingest changed in an incoming file to read it, so that nothing is changed silently.

Each fix a data office could reasonably make by hand (a byte-order mark, Windows-1252 text,
mixed line endings, title rows above the header, a header over two rows, note rows and
a total row below the table, thousands separators, padding, footnote marks on numbers,
missing-value markers, whole numbers written as 1960.0) is applied, counted and recorded
as a Normalisation: in the report, in the change log with the release, and in the
package README.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Normalisation:
    kind: str               # stable code, e.g. "thousands-separators"
    description: str        # what was done, in plain language
    column: str | None = None
    count: int = 1          # how many cells (or rows) it touched
    example: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = f"column {self.column!r}: " if self.column else ""
        example = f" (e.g. {clip(self.example)!r})" if self.example is not None else ""
        return f"{where}{self.description}{example}" + (f", {self.count:,} cells" if self.column else "")


def normalisation_text(n: dict[str, Any]) -> str:
    """A recorded normalisation (`Normalisation.to_dict`, as the report and the log keep it) in plain words."""
    return str(Normalisation(**n))


def clip(text: str | None, limit: int = 60) -> str | None:
    """A value short enough to quote in a message."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + f"… ({len(text):,} characters)"
