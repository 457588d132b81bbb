"""What a published package's log entry covers: every file an outsider receives.

A package folder holds its files, its log extract (`changelog.jsonl`) and its head file
(`changelog-head.json`). The publication entry lists every file but those two by its sha256, the
descriptor and README included; the extract is covered by its own hash chain, whose last entry is
that publication entry; the head file names that entry's hash (and carries the signature of it), so
it is the one file no hash can cover, and it is checked against the chain instead. Nothing else may
be in the folder: an added file is reported like a changed or a missing one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from audit.files import file_sha256
from audit.jsonfile import strict_loads

EXTRACT_FILE = "changelog.jsonl"
HEAD_FILE = "changelog-head.json"
UNCOVERED = (EXTRACT_FILE, HEAD_FILE)


def package_files(folder: Path, known: dict[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """Every file in `folder` (below it too) but the extract and the head file -> sha256, by its path in
    the package ('/' separated); and what is there but is no plain file (a link, a device...). A digest in
    `known` (by path) is taken as it is: a file the caller digested moments before is not read again."""
    known = known or {}
    files, odd = {}, []
    for parent, folders, names in os.walk(folder):
        for name in sorted(folders):
            if (Path(parent) / name).is_symlink():
                odd.append(_relative(folder, Path(parent) / name))
        for name in sorted(names):
            path = Path(parent) / name
            relative = _relative(folder, path)
            if path.is_symlink() or not path.is_file():
                odd.append(relative)
            elif relative not in UNCOVERED:
                files[relative] = known.get(relative) or file_sha256(path)
    return files, odd


def _relative(folder: Path, path: Path) -> str:
    return path.relative_to(folder).as_posix()


def file_problems(folder: Path, recorded: dict[str, str]) -> list[str]:
    """How the package's files differ from the publication entry's list: each changed, missing or added
    file by name."""
    found, odd = package_files(folder)
    problems = [f"{name} is not a plain file (a link or a device): a package holds files only" for name in odd]
    for name in sorted(set(recorded) | set(found)):
        if name not in found:
            if name not in odd:
                problems.append(f"{name} is missing")
        elif name not in recorded:
            problems.append(f"{name} was added: the publication does not list it")
        elif found[name] != recorded[name]:
            problems.append(f"{name} is not the file that was published (its sha256 differs from the log's)")
    return problems


def write_head(folder: Path, head: dict[str, Any]) -> None:
    (folder / HEAD_FILE).write_text(json.dumps(head, indent=2) + "\n", encoding="utf-8")


def read_head(folder: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The package's head file as a mapping, or None and why it cannot be read as one."""
    path = folder / HEAD_FILE
    try:
        head = strict_loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"{HEAD_FILE} is missing"
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"{HEAD_FILE} cannot be read as JSON ({exc})"
    if not isinstance(head, dict) or not isinstance(head.get("seq"), int) or not isinstance(head.get("head"), str):
        return None, f"{HEAD_FILE} does not name a chain head (an object with an integer seq and a head hash)"
    return head, None
