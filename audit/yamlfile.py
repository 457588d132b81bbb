"""Reading the YAML files a data office writes, safely and with each value's line (audit.officefile checks them
against their schemas): one place for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from audit.errors import ConfigError

MAX_EXPANDED_NODES = 1_000_000  # an office's file has thousands of values; an alias bomb, billions
ALIAS_GROWTH = 10               # ... which aliases multiply from a few: a plain long file grows by none
MAX_FILE_BYTES = 64 << 20       # an office file of 64 MB is no office file


MAX_DEPTH = 64  # an office file nests a few levels; thousands is an attack on the reader's recursion


class _GuardedLoader(yaml.SafeLoader):
    """A safe loader that refuses a document whose aliases (*name) expand it beyond any office file's size
    (a "billion laughs" alias bomb is a few lines that expand into billions of values), that refers to itself,
    or that nests deeper than any office file does."""

    def get_single_node(self) -> Any:
        node = super().get_single_node()
        if node is None:
            return node
        sizes: dict[int, int] = {}
        expanded = _expanded_size(node, sizes, set(), 0)
        # An alias bomb is a few values that aliases multiply; a long file of plain values is only long.
        if expanded > MAX_EXPANDED_NODES and expanded > ALIAS_GROWTH * len(sizes):
            raise yaml.YAMLError(f"its aliases expand it to more than {MAX_EXPANDED_NODES:,} values: refused as "
                                 "a possible alias bomb")
        _refuse_duplicate_keys(node, set())
        return node


def _refuse_duplicate_keys(node, seen: set[int]) -> None:
    """A key given twice in one mapping is refused: YAML readers keep one or the other, so the office's file would
    say two things (a second `recorded_by:`, a `where:` given twice in a note)."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                line = key.start_mark.line + 1
                if key.value in first:
                    raise yaml.YAMLError(f"line {line}: the key {key.value!r} is given twice in one mapping (first on "
                                         f"line {first[key.value]}); give each key once")
                first[key.value] = line
            _refuse_duplicate_keys(value, seen)
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            _refuse_duplicate_keys(child, seen)


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
    text = office_text(path)
    try:
        loader = _GuardedLoader(text)  # a SafeLoader: parsed once, the nodes kept for their lines
        try:
            node = loader.get_single_node()
            return (loader.construct_document(node) if node is not None else None), node
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path}: nested too deeply to be an office file") from exc


def office_text(path: Path) -> str:
    """The text of an office file (YAML or JSON), or a ConfigError naming the file: too large, unreadable, or not
    UTF-8."""
    return office_decoded(path, office_bytes(path))


def office_bytes(path: Path) -> bytes:
    """The bytes of an office file, read once (what is parsed is what a digest of them names), or a ConfigError
    naming the file: too large or unreadable."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: too large for an office file ({path.stat().st_size:,} bytes; at most "
                          f"{MAX_FILE_BYTES:,})")
    return raw


def office_decoded(path: Path, raw: bytes) -> str:
    """`raw` as text, its line breaks read as text mode reads them (\\r\\n and \\r as \\n), or a ConfigError: not UTF-8."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text") from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")
