"""Reading the YAML files a data office writes, safely and with each value's line (audit.officefile checks them
against their schemas): one place for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from audit.errors import ConfigError

MAX_EXPANDED_NODES = 1_000_000  # an office's file has thousands of values; an alias bomb, billions


MAX_DEPTH = 64  # an office file nests a few levels; thousands is an attack on the reader's recursion


class _GuardedLoader(yaml.SafeLoader):
    """A safe loader that refuses a document whose aliases (*name) expand it beyond any office file's size
    (a "billion laughs" alias bomb is a few lines that expand into billions of values), that refers to itself,
    or that nests deeper than any office file does."""

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None and _expanded_size(node, {}, set(), 0) > MAX_EXPANDED_NODES:
            raise yaml.YAMLError(f"its aliases expand it to more than {MAX_EXPANDED_NODES:,} values: refused as "
                                 "a possible alias bomb")
        return node


def _expanded_size(node, sizes: dict[int, int], open_nodes: set[int], depth: int) -> int:
    """How many values `node` stands for once every alias is expanded (each shared node counted once per use)."""
    if id(node) in open_nodes:
        raise yaml.YAMLError("an alias refers to the value that contains it: an office file never refers to itself")
    if depth > MAX_DEPTH:
        raise yaml.YAMLError(f"it nests more than {MAX_DEPTH} levels deep")
    if id(node) in sizes:
        return sizes[id(node)]
    open_nodes.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(child, sizes, open_nodes, depth + 1) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, sizes, open_nodes, depth + 1) + _expanded_size(v, sizes, open_nodes, depth + 1)
                       for k, v in node.value)
    else:
        size = 1
    open_nodes.discard(id(node))
    sizes[id(node)] = size
    return size


def read_yaml_nodes(path: Path) -> tuple[Any, Any]:
    """The document in `path` and its node tree (which knows each value's line), or a ConfigError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
        loader = _GuardedLoader(text)  # a SafeLoader: parsed once, the nodes kept for their lines
        try:
            node = loader.get_single_node()
            return (loader.construct_document(node) if node is not None else None), node
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path}: nested too deeply to be an office file") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from exc
