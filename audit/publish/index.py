"""`<publication root>/<dataset>/index.json`: every published version of a dataset, and which is latest.

Rebuilt from the change log's publications each time (never edited in place) and
replaced atomically, so a portal or a person always reads a whole, true index.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audit.files import write_atomically
from audit.log.records import Publication

INDEX_FILE = "index.json"


def index_versions(publications: list[Publication]) -> list[dict[str, Any]]:
    """The index's `versions`: one object per publication, oldest first."""
    return [{
        "version": p.package_version, "release": p.release_label, "published": p.recorded_at,
        "path": f"{p.package_version}/", "changeLogHead": p.hash,
    } for p in publications]


def write_index(dataset_folder: Path, dataset: str, publications: list[Publication]) -> Path:
    """`publications`: the log's entries for this dataset's packages in this folder, oldest first."""
    versions = index_versions(publications)
    index = {"dataset": dataset, "latest": versions[-1]["version"] if versions else None, "versions": versions}
    return write_atomically(dataset_folder / INDEX_FILE, json.dumps(index, indent=2) + "\n")


def read_index(dataset_folder: Path) -> dict[str, Any] | None:
    path = dataset_folder / INDEX_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
