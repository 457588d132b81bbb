"""Where a data office keeps its datasets: descriptors, suites and the log.

A workspace is any folder with `datapackages/<dataset>/datapackage.yaml` and
`expectations/<dataset>.json`; the change log lives beside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from audit.dataset import Dataset
from audit.errors import ConfigError

LOG_FILE = "audit.duckdb"
PUBLISH_DIR = "published"


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def at(cls, root: str | Path) -> "Workspace":
        path = Path(root).resolve()
        if not path.is_dir():
            raise ConfigError(f"workspace {root} is not a folder")
        return cls(path)

    @property
    def log_path(self) -> Path:
        return self.root / LOG_FILE

    @property
    def publish_root(self) -> Path:
        return self.root / PUBLISH_DIR

    def dataset(self, name: str) -> Dataset:
        descriptor = self.root / "datapackages" / name / "datapackage.yaml"
        suite = self.root / "expectations" / f"{name}.json"
        if not descriptor.is_file():
            known = sorted(p.parent.name for p in (self.root / "datapackages").glob("*/datapackage.yaml"))
            hint = f" (known: {', '.join(known)})" if known else ""
            raise ConfigError(f"no dataset {name!r} in {self.root}: {descriptor} is missing{hint}")
        if not suite.is_file():
            raise ConfigError(f"dataset {name!r} has no suite: {suite} is missing")
        return Dataset.load(name, descriptor, suite)
