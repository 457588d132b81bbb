"""Reading the YAML files a data office writes (descriptors, waivers, claims): one place for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from audit.errors import ConfigError


MAX_EXPANDED_NODES = 1_000_000  # an office's file has thousands of values; an alias bomb, billions


class _GuardedLoader(yaml.SafeLoader):
    """A safe loader that refuses a document whose aliases (*name) expand it beyond any office file's size:
    a "billion laughs" alias bomb is a few lines that expand into billions of values."""

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None and _expanded_size(node, {}) > MAX_EXPANDED_NODES:
            raise yaml.YAMLError(f"its aliases expand it to more than {MAX_EXPANDED_NODES:,} values: refused as "
                                 "a possible alias bomb")
        return node


def _expanded_size(node, sizes: dict[int, int]) -> int:
    """How many values `node` stands for once every alias is expanded (each shared node counted once per use)."""
    if id(node) in sizes:
        return sizes[id(node)]
    sizes[id(node)] = 1  # a cycle counts once
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    else:
        size = 1
    sizes[id(node)] = size
    return size


def read_yaml(path: Path) -> Any:
    """The document in `path`, or a ConfigError naming the file."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_GuardedLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text") from exc


def read_yaml_list(path: Path, key: str) -> list[Any]:
    """The list under `key` of the mapping in `path` (waivers:, claims:, ...)."""
    data = read_yaml(path) or {}
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ConfigError(f"{path}: expected a mapping with a list under '{key}'")
    return items
