"""What "nothing lost, nothing half-done" means for a workspace, checked from the outside.

Shared by the crash tests and `make stress`: after any crash, and after anything else,
a workspace must pass all of these.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from audit import pipeline
from audit.log import copies
from audit.workspace import Workspace


def inconsistencies(root: Path) -> list[str]:
    """Everything wrong with the workspace at `root` (empty when all is well):
    - the log verifies, with every complete package in published/ checked against it;
    - every recorded release is whole: its data, its validation, one of each;
    - published/ holds only whole packages (hidden staging and pending folders aside),
      and every publication in the log has its package in place or pending."""
    workspace = Workspace.at(root)
    if not workspace.log_path.exists():
        return [f"{p} exists but no log does" for p in packages(workspace)]
    problems = [f"{p} is a half-written package" for p in half_written(workspace)]
    result = pipeline.verify(workspace, packages(workspace))
    result.pending = []  # a publication a crash left pending is finished by the next command (checked below)
    problems += [] if result.ok else [json.dumps(result.to_dict())]
    with duckdb.connect(str(workspace.log_path), read_only=True) as con:
        rows = con.execute(
            "SELECT r.release_id, r.data_table, (SELECT count(*) FROM validations v WHERE v.release_id = r.release_id) "
            "FROM releases r").fetchall()
        stored = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'release_data'").fetchall()}
        # Releases kept as Parquet beside the log (a pending file an entry names counts: the next writer renames it).
        stored |= set(copies.present(workspace.log_path, {table for _, table, _ in rows}))
        publications = con.execute("SELECT path, hash FROM publications").fetchall()
    for release_id, table, validations in rows:
        if validations != 1 or table not in stored:
            problems.append(f"release {release_id} is half-recorded: {validations} validations, data stored: "
                            f"{table in stored}")
    for path, head in publications:
        path = workspace.root / path
        pending = path.with_name(f".{path.name}.pending-{head[:16]}")
        if not path.is_dir() and not pending.is_dir():
            problems.append(f"publication to {path} has no package, not even a pending one")
    return problems


def packages(workspace: Workspace) -> list[Path]:
    """Every visible package folder under published/."""
    return sorted(p.parent for p in workspace.publish_root.glob("*/*/datapackage.json")
                  if not p.parent.name.startswith("."))


def half_written(workspace: Workspace) -> list[Path]:
    """Visible folders under published/ that are not whole packages."""
    return sorted(p for p in workspace.publish_root.glob("*/*")
                  if p.is_dir() and not p.name.startswith(".") and not (p / "datapackage.json").is_file())
