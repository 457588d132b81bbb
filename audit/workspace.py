"""Where a data office keeps its datasets: descriptors, suites and the log.

A workspace is any folder with `datapackages/<dataset>/datapackage.yaml` and
`expectations/<dataset>.json`; the change log lives beside them. An optional
`audit.yaml` holds settings for the whole workspace:

    signing_key: ../keys/office-signing.pem   # Ed25519 key that signs each published chain head
    memory_limit: 2GB                         # DuckDB's working memory; beyond it, it spills to disk

(the environment variable AUDIT_SIGNING_KEY overrides the key, so it can stay off the repository).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from audit.dataset import Dataset
from audit.errors import ConfigError
from audit.files import inside, spill_folder
from audit.labels import plain_label
from audit.outputs import Output, Record, checked_output, refuse_links

LOG_FILE = "audit.duckdb"
PUBLISH_DIR = "published"
CONFIG_FILE = "audit.yaml"
SIGNING_KEY_ENV = "AUDIT_SIGNING_KEY"
RECORDER_ENV = "AUDIT_USER"
DEFAULT_LOCK_TIMEOUT = 60.0
# A city's ten million incidents fit in this with room to spare (DuckDB spills what does not); DuckDB's own
# default, 80% of the machine's memory, would let one audit crowd out everything else on an office machine.
DEFAULT_MEMORY_LIMIT = "2GB"


# Each workspace's settings as last read, by the identity of the file they were read from.
_SETTINGS: dict[Path, tuple[tuple[int, int, int], dict[str, Any]]] = {}


# What marks a folder as a workspace: its datasets, its settings or its change log.
MARKS = ("datapackages", "audit.yaml", "audit.duckdb")


def find_workspace(start: Path) -> Path:
    """The nearest folder from `start` up that is a workspace (holds one of MARKS), so that a command run in a
    subfolder (datapackages/x/, a release folder) works on its workspace; `start` itself when none is."""
    for folder in (start, *start.parents):
        if any((folder / mark).exists() for mark in MARKS):
            return folder
    return start


@dataclass(frozen=True)
class Workspace:
    root: Path
    # Seconds to wait for another audit process to release the change log before giving up.
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT

    @classmethod
    def at(cls, root: str | Path, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> "Workspace":
        path = Path(root).resolve()
        if not path.is_dir():
            raise ConfigError(f"workspace {root} is not a folder")
        return cls(path, lock_timeout)

    def data_docs_page(self, dataset: str, release_version: str) -> Path:
        """Where ingest leaves the GX Data Docs page of a release's validation (for the office: it is not
        published, see audit.publish.package)."""
        return self.inside(Path("data-docs") / dataset / f"{release_version}.html")

    def inside(self, path: Path) -> Path:
        """`path` in the workspace, refused if it would lead out of it (see audit.files.inside)."""
        return inside(self.root, path)

    def records(self) -> list[Record]:
        """The office's records: what no output may be, contain or lie inside (see audit.outputs)."""
        return [Record(self.log_path, "the change log"), *[Record(p, "a file of the change log")
                                                           for p in self.log_companions],
                Record(self.root / "datapackages", "the datasets' descriptors"),
                Record(self.root / "expectations", "the datasets' suites"),
                Record(self.root / CONFIG_FILE, "the workspace's settings"),
                Record(self.publish_root, "the folder of published packages", is_publication_root=True)]

    @property
    def log_companions(self) -> list[Path]:
        """The files DuckDB and the log keep beside the log file: its write-ahead log and its copies' folder."""
        from audit.log import copies

        return [self.log_path.with_name(LOG_FILE + ".wal"), copies.folder(self.log_path)]

    def output(self, kind: Output, out: Path | None, default: Path, reads: Path | None = None) -> Path:
        """Where a command writes `kind`: `out`, or `default` when the office gave none; refused (exit 2, nothing
        written) where it would write over the office's records, over `reads` (a publication root the command
        reads), through a link, or over files the tool did not write."""
        records = self.records() + ([Record(reads, "the publication root being read", is_publication_root=True)] if reads else [])
        return checked_output(out if out is not None else default, kind, records, default, self.root)

    def refuse_linked_log(self) -> None:
        """Before a command writes the log: neither it nor the files beside it may be a link (they would carry
        the office's records somewhere else)."""
        refuse_links([self.log_path, *self.log_companions])

    @property
    def config(self) -> dict[str, Any]:
        from audit.officefile import read_office_file

        path = self.root / CONFIG_FILE
        if not path.is_file():
            return {}
        # Read once while it stays the same file (a command asks for its settings many times; a large file took
        # minutes re-read on every access), and again when it changes.
        status = path.stat()
        identity = (status.st_ino, status.st_mtime_ns, status.st_size)
        cached = _SETTINGS.get(path)
        if cached is None or cached[0] != identity:
            # Its entries are checked against audit/schemas/audit-yaml.schema.json: `signing_kye:` is an error,
            # never a package published unsigned.
            cached = (identity, read_office_file(path, "settings"))
            _SETTINGS[path] = cached
        return cached[1]

    @contextmanager
    def work_database(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An in-memory DuckDB database for one command, within the configured memory limit; what does not
        fit spills to a temporary folder that is removed afterwards."""
        with spill_folder() as spill:
            config: dict[str, str | bool | int | float | list[str]] = {
                "memory_limit": str(self.config.get("memory_limit", DEFAULT_MEMORY_LIMIT)), "temp_directory": spill}
            try:
                con = duckdb.connect(config=config)
            except duckdb.Error as exc:
                raise ConfigError(f"{self.root / CONFIG_FILE}: memory_limit: {exc}") from exc
            with con:
                yield con

    @property
    def signing_key(self) -> Path | None:
        """The private key that signs published chain heads, if the office has configured one."""
        configured = os.environ.get(SIGNING_KEY_ENV) or self.config.get("signing_key")
        if not configured:
            return None
        path = (self.root / str(configured)).resolve()
        if not path.is_file():
            raise ConfigError(f"signing key {path} (from {SIGNING_KEY_ENV} or {CONFIG_FILE}) does not exist")
        return path

    @property
    def witnesses(self):
        """The witnesses every package needs cosignatures from (audit.yaml's `witnesses:`), or None."""
        from audit.publish.witnessing import WitnessPolicy

        return WitnessPolicy.from_settings(self.config.get("witnesses"), self.root, str(self.root / CONFIG_FILE))

    def log_origin(self, dataset: str) -> str:
        """The name of `dataset`'s log in its checkpoints."""
        from audit.publish.witnessing import origin_of

        return origin_of(self.config.get("log_origin"), dataset)

    @property
    def recorder(self) -> str | None:
        """Who the log names as recording: AUDIT_USER, else `recorded_by` in audit.yaml, else nobody; never the
        operating system's login, which would publish an employee's account name in every package."""
        return os.environ.get(RECORDER_ENV) or self.config.get("recorded_by") or None

    @property
    def log_path(self) -> Path:
        return self.root / LOG_FILE

    @property
    def publish_root(self) -> Path:
        return self.root / PUBLISH_DIR

    def published_datasets(self) -> list[str]:
        """The datasets with an index of published versions under the publication root."""
        from audit.publish.index import INDEX_FILE

        return sorted(p.parent.name for p in self.publish_root.glob(f"*/{INDEX_FILE}"))

    def dataset(self, name: str) -> Dataset:
        plain_label(name, "dataset name")
        descriptor = self.root / "datapackages" / name / "datapackage.yaml"
        suite = self.root / "expectations" / f"{name}.json"
        if not descriptor.is_file():
            known = sorted(p.parent.name for p in (self.root / "datapackages").glob("*/datapackage.yaml"))
            hint = f" (known: {', '.join(known)})" if known else ""
            raise ConfigError(f"no dataset {name!r} in {self.root}: {descriptor} is missing{hint}")
        if not suite.is_file():
            raise ConfigError(f"dataset {name!r} has no suite: {suite} is missing")
        return Dataset.load(name, descriptor, suite)
