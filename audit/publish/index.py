"""`<publication root>/<dataset>/index.json`: every published version of a dataset, and which is latest.

Rebuilt from the change log's publications each time (never edited in place) and
replaced atomically, so a portal or a person always reads a whole, true index.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audit.files import write_atomically

INDEX_FILE = "index.json"


def write_index(dataset_folder: Path, dataset: str, publications: list[dict[str, Any]]) -> Path:
    """`publications`: the log's entries for this dataset's packages in this folder, oldest first."""
    versions = [{
        "version": p["package_version"], "release": p["release_id"].split("@", 1)[1], "published": p["recorded_at"],
        "path": f"{p['package_version']}/", "changeLogHead": p["hash"],
    } for p in publications]
    index = {"dataset": dataset, "latest": versions[-1]["version"] if versions else None, "versions": versions}
    return write_atomically(dataset_folder / INDEX_FILE, json.dumps(index, indent=2) + "\n")


def read_index(dataset_folder: Path) -> dict[str, Any] | None:
    path = dataset_folder / INDEX_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
