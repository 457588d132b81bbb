"""Where a command may write: one rule for every output path, so that no command loses the office's records.

Every path a command writes to (a publication root, a site folder, a report page, a catalog) is checked here
before anything is written, and refused (OutputError, exit 2) when it
- is, contains or lies inside one of the workspace's records: the change log and the files beside it,
  `datapackages/`, `expectations/`, `audit.yaml`, or a dataset's published versions (only a publication root may
  hold those, and it adds new versions beside them, never into one);
- lies inside a published package or a dataset's published versions anywhere, in the workspace or not;
- is the root folder or the home folder, or contains the home folder;
- is a symbolic link, or (inside the workspace) is reached through one: the tool writes nothing through a link;
- is a folder that holds files the tool did not write, or a file the tool did not write. A folder the tool
  writes carries a small marker file naming what it holds; the workspace's own default folders are the tool's.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Iterator

from audit.errors import OutputError

MARKER = ".audit-output"
# A page the tool wrote says so in its head, so that `report --out` can tell its own page from someone's file.
PAGE_GENERATOR = '<meta name="generator" content="crime-data-audit">'
# What marks a published package, and a dataset's folder of published versions, wherever they lie.
PACKAGE_FILES = ("changelog-head.json", "datapackage.json")
DATASET_INDEX = "index.json"
CATALOG_FILE = "data.json"


class Output(Enum):
    """What a command writes; the value is how a message names it."""

    PUBLICATION_ROOT = "publication root"
    SITE = "site"
    PAGE = "report page"
    CATALOG = "catalog"

    @property
    def is_folder(self) -> bool:
        return self in (Output.PUBLICATION_ROOT, Output.SITE)


@dataclass(frozen=True)
class Record:
    """One of the office's records: a path no output may be, contain or lie inside."""

    path: Path
    what: str
    # A publication root is where new versions are published: a publication root may be this very folder, and
    # its catalog (data.json) sits at its top.
    is_publication_root: bool = False


def checked_output(path: Path, kind: Output, records: list[Record], default: Path, workspace_root: Path) -> Path:
    """`path` (the office's --out, or `default` when it gave none), if a command may write `kind` there;
    otherwise an OutputError naming the path and why, before anything is written."""
    given = Path(os.path.abspath(path))
    real = Path(os.path.realpath(given))
    _refuse_links(given, workspace_root, kind)
    _refuse_system_folders(given, real)
    is_default = real == Path(os.path.realpath(default))
    for record in records:
        _refuse_overlap(given, real, kind, record)
    _refuse_inside_publications(given, real)
    if kind.is_folder:
        _refuse_foreign_folder(given, kind, is_default)
    else:
        _refuse_foreign_file(given, kind, is_default)
    return given


def mark(folder: Path, kind: Output) -> None:
    """Note in `folder` that the tool writes `kind` there, so a later command may write there again."""
    marker = folder / MARKER
    if not marker.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps({"written_by": "crime-data-audit", "holds": kind.value}) + "\n", encoding="utf-8")


@contextmanager
def no_empty_folders_left(*paths: Path) -> Iterator[None]:
    """The folders `paths` need that do not exist yet are removed again if the block fails (a full disk, Ctrl-C),
    while they hold nothing but the tool's marker: a command that stops leaves no empty `reports/D/` or
    `published/D/` behind. A folder that existed before is never touched."""
    new: list[Path] = []
    for path in paths:
        step = Path(os.path.abspath(path))
        while not (step.exists() or step.is_symlink()) and step != step.parent:
            new.append(step)
            step = step.parent
    try:
        yield
    except BaseException:
        for folder in sorted(set(new), key=lambda p: len(p.parts), reverse=True):
            try:
                if folder.is_dir() and not folder.is_symlink():
                    if [e.name for e in folder.iterdir()] == [MARKER]:
                        (folder / MARKER).unlink()
                    folder.rmdir()  # only if empty: what else the block wrote there stays
            except OSError:
                pass
        raise


def refuse_links(paths: list[Path]) -> None:
    """Each of `paths` that exists must not be a symbolic link (the log and the files beside it, before a command
    writes them: a link would carry the office's records somewhere else)."""
    for path in paths:
        if path.is_symlink():
            raise OutputError(f"{path} is a symbolic link; the tool writes nothing through one (it could lead "
                              "outside the workspace)")


def _refuse_links(given: Path, workspace_root: Path, kind: Output) -> None:
    # The target itself and, inside the workspace, every folder on the way to it; outside the workspace the
    # folders above the target are the office's own choice (a mounted share, a system's /tmp).
    steps = [given, given.parent]
    if given.is_relative_to(workspace_root):
        step = workspace_root
        for part in given.relative_to(workspace_root).parts:
            step = step / part
            steps.append(step)
    for step in steps:
        if step.is_symlink():
            raise OutputError(f"{step} is a symbolic link; the tool writes no {kind.value} through one (it could "
                              "lead anywhere)")


def _refuse_system_folders(given: Path, real: Path) -> None:
    if real == Path(real.anchor):
        raise OutputError(f"{given} is the root folder; the tool writes nothing there")
    home = Path(os.path.realpath(Path.home()))
    if home.is_relative_to(real):
        which = "your home folder" if real == home else f"a folder holding your home folder {home}"
        raise OutputError(f"{given} is {which}; the tool writes nothing there")


def _refuse_overlap(given: Path, real: Path, kind: Output, record: Record) -> None:
    held = Path(os.path.realpath(record.path))
    if record.is_publication_root and ((kind is Output.PUBLICATION_ROOT and real == held) or (
            kind is Output.CATALOG and real.parent == held and real.name == CATALOG_FILE)):
        return
    if real == held:
        raise OutputError(f"{given} is {record.what}; the tool never writes a {kind.value} over it")
    if held.is_relative_to(real):
        raise OutputError(f"{given} holds {record.what} ({record.path}); the tool never writes a {kind.value} "
                          "over it")
    if real.is_relative_to(held):
        raise OutputError(f"{given} lies inside {record.what} ({record.path}); the tool never writes a "
                          f"{kind.value} there")


def _refuse_inside_publications(given: Path, real: Path) -> None:
    """No output inside a published package or a dataset's folder of published versions, wherever it is."""
    for folder in [real, *real.parents][:64]:
        if all((folder / name).is_file() for name in PACKAGE_FILES):
            raise OutputError(f"{given} lies inside the published package {folder}; a published package is never "
                              "changed")
        if _is_version_index(folder / DATASET_INDEX):
            raise OutputError(f"{given} lies inside {folder}, a dataset's published versions; a published "
                              "package is never changed")


def _is_version_index(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(index, dict) and "versions" in index and "dataset" in index


def _refuse_foreign_folder(given: Path, kind: Output, is_default: bool) -> None:
    if not given.exists():
        return
    if not given.is_dir():
        raise OutputError(f"{given} is not a folder; a {kind.value} is written to a folder")
    entries = [p for p in given.iterdir() if p.name != MARKER]
    if not entries or is_default or _holds_marker(given, kind):
        return
    if kind is Output.PUBLICATION_ROOT and all(_is_publication_entry(p) for p in entries):
        return  # a publication root written before folders carried the marker
    raise OutputError(f"{given} already holds files the tool did not write (such as {sorted(entries)[0].name}); "
                      f"give an empty or new folder for the {kind.value}")


def _holds_marker(folder: Path, kind: Output) -> bool:
    try:
        return json.loads((folder / MARKER).read_text(encoding="utf-8")).get("holds") == kind.value
    except (OSError, ValueError, AttributeError):
        return False


def _is_publication_entry(path: Path) -> bool:
    if path.name == CATALOG_FILE and path.is_file():
        return True
    return path.is_dir() and not path.is_symlink() and _is_version_index(path / DATASET_INDEX)


def _refuse_foreign_file(given: Path, kind: Output, is_default: bool) -> None:
    if not given.exists():
        return
    if given.is_dir():
        raise OutputError(f"{given} is a folder; a {kind.value} is written to a file")
    if not given.is_file():
        raise OutputError(f"{given} is not a regular file; the tool writes a {kind.value} only to one")
    if is_default or _written_by_tool(given, kind):
        return
    raise OutputError(f"{given} already exists and was not written by the tool; give a new file for the "
                      f"{kind.value}")


def _written_by_tool(path: Path, kind: Output) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 16).decode("utf-8", errors="replace")
    except OSError:
        return False
    if kind is Output.PAGE:
        return PAGE_GENERATOR in head
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("@type") == "dcat:Catalog"
    except (OSError, ValueError, AttributeError):
        return False
