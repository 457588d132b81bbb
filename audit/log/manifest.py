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
# A signed package also lists its files as `sha256sum -c` reads them, signed by the office's key (raw Ed25519, as
# `openssl pkeyutl -verify -rawin` checks it): a reader with no install of this tool checks the files are the
# office's. Both are files of the package, covered by its publication entry like the others.
SUMS_FILE, SUMS_SIGNATURE = "SHA256SUMS", "SHA256SUMS.sig"


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


def sums_text(files: dict[str, str]) -> str:
    """`files` (path -> sha256) as `sha256sum -c` reads them, in path order, the sums file and its signature left
    out."""
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(files.items())
                   if name not in (SUMS_FILE, SUMS_SIGNATURE))


def sums_problems(folder: Path, recorded: dict[str, str], public_key: bytes | None) -> list[str]:
    """Why the package's SHA256SUMS (when its publication lists one) is not what a reader with only sha256sum and
    openssl may rely on: it must list exactly the other files the publication lists, with their digests, and its
    signature must be by `public_key` (the key the package is signed with)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if SUMS_FILE not in recorded:
        return []
    try:
        text = (folder / SUMS_FILE).read_text(encoding="utf-8")
        signature = (folder / SUMS_SIGNATURE).read_bytes() if SUMS_SIGNATURE in recorded else None
    except (OSError, UnicodeDecodeError):
        return []  # missing or unreadable: file_problems says so
    problems = []
    if text != sums_text(recorded):
        problems.append(f"its {SUMS_FILE} does not list the files its publication lists, with their digests")
    if signature is None:
        problems.append(f"its {SUMS_FILE} is not signed ({SUMS_SIGNATURE} is not in the package)")
    elif public_key is not None:
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, text.encode("utf-8"))
        except (InvalidSignature, ValueError):
            problems.append(f"its {SUMS_SIGNATURE} is not a signature of its {SUMS_FILE} by the key it is signed with")
    return problems
