"""Reading the YAML files a data office writes (descriptors, waivers, claims): one place for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from audit.errors import ConfigError


def read_yaml(path: Path) -> Any:
    """The document in `path`, or a ConfigError naming the file."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc


def read_yaml_list(path: Path, key: str) -> list[Any]:
    """The list under `key` of the mapping in `path` (waivers:, claims:, ...)."""
    data = read_yaml(path) or {}
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ConfigError(f"{path}: expected a mapping with a list under '{key}'")
    return items
