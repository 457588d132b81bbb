"""The files a data office writes (audit.yaml, waivers, revision notes, claims, a dataset's descriptor), read
strictly: each against a JSON Schema kept in `audit/schemas/` (an editor's YAML extension can use the same
file), so a misspelt or unknown entry is an input error naming the file, the line and the nearest valid name,
never an entry silently ignored.

    datapackages/x/waivers.yaml, line 4, entry 'kye': not an entry of a waiver; did you mean 'key'?

The schemas say what an entry may be; what it must mean (a field the dataset has, a value of the field's type)
is checked by the module that reads the file. jsonschema does the validating; only finding the line of an
error in the YAML is ours, since no library maps a JSON Schema error back to YAML source positions.
"""

from __future__ import annotations

import difflib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import yaml

from audit.errors import ConfigError
from audit.yamlfile import read_yaml_nodes

SCHEMAS = Path(__file__).parent / "schemas"

# file kind -> (schema file, what one item of it is called in messages)
KINDS = {
    "settings": ("audit-yaml.schema.json", "the workspace settings"),
    "waivers": ("waivers.schema.json", "a waiver"),
    "notes": ("revision-notes.schema.json", "a revision note"),
    "claims": ("claims.schema.json", "a claim"),
    "descriptor": ("descriptor.schema.json", "the descriptor"),
    "suite": ("suite.schema.json", "an expectation"),
}


@lru_cache(maxsize=None)
def _validator(kind: str):
    from jsonschema import Draft202012Validator

    schema = json.loads((SCHEMAS / KINDS[kind][0]).read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def read_office_file(path: Path, kind: str) -> Any:
    """The document in `path`, checked against the schema of `kind`; a ConfigError (exit 2) naming the file,
    the line and the entry of the first problem (and how many more there are) if it does not fit."""
    data, node = read_yaml_nodes(path)
    return _checked(path, {} if data is None else _plain(data), lambda: node, kind)


def read_office_json(path: Path, kind: str, text: str | None = None) -> Any:
    """As read_office_file, for a JSON file (a GX suite): read strictly, as one meaning only. A key given twice,
    `NaN` or `Infinity` (which Python's reader accepts and JSON does not have) and text that is not UTF-8 are
    refused with the file named. `text`: the file's, already read."""
    from audit.jsonfile import strict_loads
    from audit.yamlfile import office_text

    text = office_text(path) if text is None else text
    try:
        data = strict_loads(text, non_finite=False)
    except RecursionError as exc:
        raise ConfigError(f"{path}: nested too deeply to be an office file") from exc
    except ValueError as exc:  # json.JSONDecodeError, a key given twice, NaN or Infinity
        raise ConfigError(f"{path}: not valid JSON: {exc}") from exc
    return _checked(path, data, lambda: _json_lines(text), kind)


def _json_lines(text: str):
    """The YAML node tree of a JSON text, for the line of each value in messages (JSON is, near enough, YAML);
    None where YAML reads it otherwise, and the message then names the entry without its line."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return None


def _checked(path: Path, data: Any, node_of: Callable[[], Any], kind: str) -> Any:
    """`data`, if it fits its schema; else a ConfigError at the line of the first problem. The file's node tree
    (`node_of`) is only made for a message: for a JSON file it is a second parse."""
    at = _non_finite(data, [])
    if at is not None:  # YAML's .nan and .inf: no office file means one, and SQL has no literal for them
        entry = f", entry {'.'.join(str(p) for p in at)!r}" if at else ""
        raise ConfigError(f"{_where(path, _line(node_of(), at))}{entry}: not a number a file can give (NaN or "
                          "infinity); write the number itself")
    errors = list(_validator(kind).iter_errors(data))
    if errors:
        node = node_of()
        errors.sort(key=lambda e: _line(node, list(e.absolute_path)) or 0)
        more = f" (and {len(errors) - 1} more problem(s) in the file)" if len(errors) > 1 else ""
        raise ConfigError(_describe(path, node, errors[0], kind) + more)
    return data


def _plain(value: Any) -> Any:
    """YAML reads 2024-03-01 as a date; the tool treats every office value as JSON does (dates as ISO text), so
    the value can be logged, reported and published as it was written."""
    import datetime

    if isinstance(value, dict):
        return {_plain(k) if isinstance(k, (datetime.date, datetime.datetime)) else k: _plain(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def _non_finite(value: Any, at: list) -> list | None:
    """The path to the first NaN or infinite number in a document, or None."""
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return at
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        found = _non_finite(child, [*at, key])
        if found is not None:
            return found
    return None


def _describe(path: Path, node, error, kind: str) -> str:
    at = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list((error.schema.get("properties") or {}).keys())
        extra = [k for k in error.instance if k not in allowed]
        if extra:
            key = extra[0]
            line = _line(node, [*at, key], key_line=True)
            near = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = f"; did you mean {near[0]!r}?" if near else f" (entries: {', '.join(allowed)})"
            return f"{_where(path, line)}, entry {key!r}: not an entry of {_item(at, kind)}{hint}"
    line = _line(node, at)
    entry = f", entry {'.'.join(str(p) for p in at)!r}" if at else ""
    return f"{_where(path, line)}{entry}: {_message(error)}"


def _message(error) -> str:
    if error.validator == "oneOf" and error.schema.get("oneOf") == [{"required": ["key"]}, {"required": ["all"]}]:
        return ("a waiver must say which findings it covers: their `key`, or `all: true` for every finding of the "
                "check (not both)")
    if error.validator == "required":
        return error.message.replace("is a required property", "is required here")
    return error.message


def _item(at: list, kind: str) -> str:
    """What the mapping at `at` is, for the message: the file's item for a list entry, else the mapping's name."""
    return KINDS[kind][1] if not at or isinstance(at[-1], int) else f"`{at[-1]}`"


def _where(path: Path, line: int | None) -> str:
    return f"{path}, line {line}" if line else str(path)


def _line(node, at: list, key_line: bool = False) -> int | None:
    """The 1-based line of the YAML node at the path `at` (of its key, with `key_line`)."""
    current, line = node, (node.start_mark.line + 1 if node is not None else None)
    for number, step in enumerate(at, 1):
        if isinstance(current, yaml.MappingNode):
            match = next(((k, v) for k, v in current.value if str(k.value) == str(step)), None)
            if match is None:
                return line
            line = match[0].start_mark.line + 1
            current = match[1]
            if key_line and number == len(at):
                return line
        elif isinstance(current, yaml.SequenceNode) and isinstance(step, int) and step < len(current.value):
            current = current.value[step]
            line = current.start_mark.line + 1
        else:
            return line
    return current.start_mark.line + 1 if current is not None else line
