"""That a release's files are the ones digested, until the last time they are read.

A release is read more than once: its digest, then DuckDB's read (or the first scan of a Parquet view, the checks and
the log's copy). Someone with write access beside the office could rewrite a file between two of these reads, so
that what is recorded or reported as checked is not what the recorded digest names, or a cell that became invalid
in between is stored without a finding. The identity of every file (audit.files.file_identity) is taken before the
digest, and confirmed once nothing reads the files again: a file rewritten, replaced, added or removed in between
stops the command as an input error (exit 2), with nothing recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from audit.errors import InputError
from audit.files import file_identity


@dataclass(frozen=True)
class SourceState:
    """The release's files (one file, or a folder's) and each one's identity when they were first read."""

    path: Path
    list_files: Callable[[Path], list[Path]]     # the release's files under `path` (a file: itself)
    files: tuple[tuple[str, tuple[int, ...]], ...]

    @classmethod
    def of(cls, path: Path, list_files: Callable[[Path], list[Path]] = lambda path: [path]) -> SourceState:
        return cls(path, list_files, _identities(path, list_files(path)))

    def confirm(self) -> None:
        """Raise InputError unless the release's files, listed again, are the ones first read, unchanged."""
        try:
            now = _identities(self.path, self.list_files(self.path))
        except OSError as exc:  # removed, or no longer readable
            raise InputError(f"changed while it was read: {exc.strerror}", file=str(self.path)) from exc
        if now != self.files:
            raise InputError("changed while it was read: its files are not the ones digested (rewritten, replaced, "
                             "added or removed); nothing was recorded", file=str(self.path))


def _identities(path: Path, files: list[Path]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    return tuple((f.relative_to(path).as_posix() if f != path else "", file_identity(f)) for f in files)
