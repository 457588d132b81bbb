"""Which of a file's columns holds which field of the descriptor, and how the release's columns differ from it.

A release is read even when its columns are not the descriptor's: a column it adds is typed as `audit init`
would type it (audit.ingest.infer) and kept; a field it has no column for is left out of the release as read.
Both are `schema-change` findings (the descriptor no longer describes the data) and, against the baseline, the
diff's `column-added` and `column-removed` revisions. Only a file that lacks what identifies its rows (the key,
the window's date) is refused: without those it cannot be compared with anything.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from audit.dataset import Dataset, Field, header_key
from audit.errors import InputError
from audit.findings import ERROR, RENAMED_COLUMN, SCHEMA_CHANGE, Finding

RENAME_SIMILARITY = 0.75


@dataclass(frozen=True)
class ColumnMatch:
    """The file's columns against the descriptor's fields."""

    mapping: dict[str, str]                           # field -> the file column read as it
    added: list[str] = field(default_factory=list)     # file columns no field describes (headers)
    removed: list[str] = field(default_factory=list)   # fields with no column in the file
    findings: list[Finding] = field(default_factory=list)   # columns read as a field under another name
    # Field -> (the header it was read from, why it was taken for the field), for each field found under a name the
    # descriptor does not give.
    renamed: dict[str, tuple[str, str]] = field(default_factory=dict)


def match_columns(
    file_columns: list[str], dataset: Dataset, source: Path | str, header_row: int | None = 1
) -> ColumnMatch:
    """Map each schema field to the file column that holds it; raise InputError only when a column the rows are
    identified by (the key, the window's date) is missing.

    A field with no column and a column with no field whose names are alike (Population / Popilation)
    are taken to be one column renamed between releases: it is read, and reported as a finding that
    blocks publication until the office confirms it with an alias."""
    by_key: dict[str, str] = {}
    for column in file_columns:
        by_key.setdefault(header_key(column), column)
    mapping: dict[str, str] = {}
    missing = []
    for f in dataset.fields:
        found = [by_key[k] for k in dict.fromkeys(header_key(n) for n in f.header_names) if k in by_key]
        if found:
            mapping[f.name] = found[0]
        else:
            missing.append(f)
    # Columns the descriptor says are not data (`skipColumns`) are read past, neither a field nor an error.
    skipped = {header_key(c) for c in dataset.skip_columns}
    extra = [c for c in file_columns if c not in mapping.values() and header_key(c) not in skipped]
    findings = []
    position = {f.name: i for i, f in enumerate(dataset.fields)}

    renames: dict[str, tuple[str, str]] = {}

    def renamed(f: Field, column: str, how: str) -> None:
        mapping[f.name] = column
        renames[f.name] = (column, how)
        missing.remove(f)
        extra.remove(column)
        findings.append(Finding(
            RENAMED_COLUMN, ERROR, {}, [f.name], f.header_names, column,
            RENAMED_COLUMN.say(names=" or ".join(map(repr, f.header_names)), column=column, how=how, field=f.name)))

    for f in list(missing):
        keys = [header_key(c) for c in extra]
        alike = difflib.get_close_matches(header_key(f.name), keys, 1, RENAME_SIMILARITY) or \
            difflib.get_close_matches(header_key(f.header_names[-1]), keys, 1, RENAME_SIMILARITY)
        if alike:
            renamed(f, next(c for c in extra if header_key(c) == alike[0]), "is alike")
    # The one column left where the one field left stood (JURISDICTION -> County, first both times); with a column
    # added as well, a column in a dropped one's place is no more than that.
    if len(missing) == 1 and len(extra) == 1:
        f = missing[0]
        here = file_columns[position[f.name]] if position[f.name] < len(file_columns) else None
        if here in extra:
            renamed(f, here, "stands where it stood")
    needed = [*dataset.primary_key, *([dataset.window["field"]] if dataset.window else [])]
    lost = next((f for f in missing if f.name in needed), None)
    if lost is not None:
        what = "the window's date" if lost.name not in dataset.primary_key else "a part of the key"
        raise InputError(
            f"no column for field {lost.name!r}, {what} (looked for {', '.join(map(repr, lost.header_names))}; "
            f"the file has {listed(file_columns)}): rows cannot be identified without it",
            file=str(source),
            row=header_row,
        )
    return ColumnMatch(mapping, extra, [f.name for f in missing], findings, renames)


def listed(names: list[str], shown: int = 20) -> str:
    """Names for a one-line message: the first `shown`, then how many more."""
    more = f" and {len(names) - shown:,} more" if len(names) > shown else ""
    return ", ".join(map(repr, names[:shown])) + more


def as_read(con: duckdb.DuckDBPyConnection, source: str | None, dataset: Dataset, match: ColumnMatch,
            types: dict[str, str] | None = None) -> tuple[Dataset, dict[str, str]]:
    """The dataset as this release has it (its fields without a column left out, a field for each column it adds)
    and the mapping of every such field to its column. An added column is typed from `types` (a Parquet column's
    own type) or, for text, as `audit init` would type it, over the table or view `source` (the file's cells); with
    no `source` (a release this machine holds none of), text is read as text."""
    if not match.added and not match.removed:
        return dataset, match.mapping
    from audit.ingest.cast import KNOWN_MISSING
    from audit.ingest.infer import field_format, field_name, narrowest_type

    taken = {f.name for f in dataset.fields}
    mapping = dict(match.mapping)
    added: list[dict[str, Any]] = []
    for column in match.added:
        given = (types or {}).get(column, "VARCHAR")
        # A Parquet column keeps its own type (a DECIMAL is a number; a list or a struct is read as its text);
        # only text is typed by its values.
        kind, fmt = PARQUET_TYPES.get(given, ("number", None) if given.startswith("DECIMAL") else ("string", None))
        if kind is None and source is None:
            kind = "string"
        elif kind is None and source is not None:
            kind, fmt = narrowest_type(con, source, column, list(dict.fromkeys([*dataset.missing_values,
                                                                                *KNOWN_MISSING])))
        name = field_name(column, taken)
        mapping[name] = column
        added.append({"name": name, "title": column, "type": kind, **field_format(fmt),
                      "description": f"Not in the descriptor: this release added column {column!r}, read as {kind}."})
    return dataset.with_fields(removed=match.removed, added=added), mapping


def every_field(described: Dataset, read_as: Dataset) -> Dataset:
    """The descriptor's fields and those a release adds (`read_as`, from `as_read`): every field a revision note
    or a waiver about that release may name."""
    known = {f.name for f in described.fields}
    return described.with_fields(added=[f.descriptor for f in read_as.fields if f.name not in known])


# A Parquet column's own type, as the field an added column of it is read as (text is typed by its values).
PARQUET_TYPES: dict[str, tuple[str | None, str | None]] = {
    **{t: ("integer", None) for t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
                                       "UINTEGER", "UBIGINT", "HUGEINT")},
    **{t: ("number", None) for t in ("FLOAT", "DOUBLE")},
    "DATE": ("date", None), "TIMESTAMP": ("datetime", None), "TIME": ("time", None), "BOOLEAN": ("boolean", None),
    "VARCHAR": (None, None),
}


def schema_findings(dataset: Dataset, match: ColumnMatch, added_as: Dataset,
                    not_run: dict[str, list[str]] | None = None) -> list[Finding]:
    """One `schema-change` finding per column the release adds and per field it has no column for (with the checks
    that use the field, which could not run: `not_run`, field -> what each check is)."""
    out = []
    described = {f.name for f in dataset.fields}
    added = {f.descriptor["title"]: f for f in added_as.fields if f.name not in described}
    for column in match.added:
        f = added[column]
        out.append(Finding(SCHEMA_CHANGE, ERROR, {}, [f.name], None, column,
                           SCHEMA_CHANGE.say(column=column, type=f.type, field=f.name)))
    for name in match.removed:
        checks = (not_run or {}).get(name, [])
        unchecked = SCHEMA_CHANGE.say("not run", count=len(checks), checks="; ".join(checks)) if checks else ""
        out.append(Finding(SCHEMA_CHANGE, ERROR, {}, [name], dataset.field(name).header_names, None,
                           SCHEMA_CHANGE.say("removed", field=name, names=" or ".join(
                               map(repr, dataset.field(name).header_names)), unchecked=unchecked)))
    return out
