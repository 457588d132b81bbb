"""`<publication root>/<dataset>/index.json`: every published version of a dataset, and which is latest.

Rebuilt from the change log's publications each time (never edited in place) and
replaced atomically, so a portal or a person always reads a whole, true index.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audit.files import write_atomically
from audit.log.entries import Publication

INDEX_FILE = "index.json"


def index_versions(publications: list[Publication]) -> list[dict[str, Any]]:
    """The index's `versions`: one object per publication, oldest first."""
    return [{
        "version": p.package_version, "release": p.release_label, "published": p.recorded_at,
        "path": f"{p.package_version}/", "changeLogHead": p.hash,
    } for p in publications]


def index_document(dataset: str, publications: list[Publication]) -> dict[str, Any]:
    """What the index of a folder holding `publications` (the log's entries, oldest first) says."""
    versions = index_versions(publications)
    return {"dataset": dataset, "latest": versions[-1]["version"] if versions else None, "versions": versions}


def by_folder(root: Path, publications: list[Publication]) -> dict[Path, list[Publication]]:
    """A dataset's publications (oldest first) grouped by the folder their packages are in."""
    folders: dict[Path, list[Publication]] = {}
    for p in publications:
        folders.setdefault((root / p.path).parent, []).append(p)
    return dict(sorted(folders.items()))


def write_index(dataset_folder: Path, dataset: str, publications: list[Publication]) -> Path:
    """`publications`: the log's entries for this dataset's packages in this folder, oldest first."""
    return write_atomically(dataset_folder / INDEX_FILE,
                            json.dumps(index_document(dataset, publications), indent=2) + "\n")


def index_is_current(dataset_folder: Path, dataset: str, publications: list[Publication]) -> bool:
    """Whether the folder's index says exactly what `index_document` would (a missing or unreadable one does not)."""
    try:
        return read_index(dataset_folder) == index_document(dataset, publications)
    except (OSError, ValueError):
        return False


def read_index(dataset_folder: Path) -> dict[str, Any] | None:
    path = dataset_folder / INDEX_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
