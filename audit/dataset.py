"""A dataset's definition, read from its Frictionless descriptor (YAML).

The descriptor names one tabular resource; its Table Schema types every field
and gives the primary key. Incoming files are matched to fields by name, title
or any of the field's `aliases` (an extension property), ignoring case, spaces
and punctuation, because published tables rarely use our column names.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from audit.errors import ConfigError

# Frictionless field types we ingest, and the DuckDB type each becomes.
DUCKDB_TYPES = {
    "integer": "BIGINT",
    "number": "DOUBLE",
    "string": "VARCHAR",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "time": "TIME",
    "year": "INTEGER",
}


def safe_package_path(path: object) -> bool:
    """A resource path a package may be written to: relative, inside the package, not a URL."""
    from pathlib import PurePosixPath, PureWindowsPath

    if not isinstance(path, str) or not path.strip() or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", path):
        return False  # URLs (http:, file:) and Windows drives (C:)
    posix, windows = PurePosixPath(path), PureWindowsPath(path)
    return not (posix.is_absolute() or windows.is_absolute() or path.startswith(("\\", "/"))
                or ".." in posix.parts or ".." in windows.parts)


def header_key(text: str) -> str:
    """How two headers are compared: 'Violent Crime' == 'violent_crime' == 'VIOLENT-CRIME'."""
    return re.sub(r"[^0-9a-z]+", "", str(text).lower())


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    descriptor: dict[str, Any]

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]

    @property
    def header_names(self) -> list[str]:
        names = [self.name, self.descriptor.get("title", "")]
        names += self.descriptor.get("aliases", [])
        return [n for n in names if n]

    @property
    def group_char(self) -> str:
        default = "." if self.descriptor.get("decimalChar") == "," else ","
        return self.descriptor.get("groupChar", default)

    @property
    def categories(self) -> dict[str, str]:
        """Code -> category (homicide, rape, ...), for an offence-code field of incident data."""
        return {str(k): str(v) for k, v in (self.descriptor.get("categories") or {}).items()}

    @property
    def decimal_char(self) -> str:
        return self.descriptor.get("decimalChar", ".")


@dataclass(frozen=True)
class Dataset:
    name: str
    descriptor_path: Path
    suite_path: Path
    descriptor: dict[str, Any]

    @classmethod
    def load(cls, name: str, descriptor_path: Path, suite_path: Path) -> "Dataset":
        from audit.officefile import read_office_file

        # Every property the tool knows is in audit/schemas/descriptor.schema.json; a misspelt one is refused.
        descriptor = read_office_file(descriptor_path, "descriptor")
        dataset = cls(name, descriptor_path, suite_path, descriptor or {})
        dataset._check()
        return dataset

    def _check(self) -> None:
        where = str(self.descriptor_path)
        resources = self.descriptor.get("resources") or []
        if len(resources) != 1:
            raise ConfigError(f"{where}: a dataset descriptor must have exactly one resource")
        schema = self.resource.get("schema") or {}
        if not schema.get("fields"):
            raise ConfigError(f"{where}: the resource has no schema fields")
        for f in schema["fields"]:
            if f.get("type", "string") not in DUCKDB_TYPES:
                raise ConfigError(
                    f"{where}: field {f.get('name')!r} has type {f.get('type')!r}; "
                    f"supported: {', '.join(DUCKDB_TYPES)}"
                )
        names = {f["name"] for f in schema["fields"]}
        missing = [k for k in self.primary_key if k not in names]
        if not self.primary_key or missing:
            raise ConfigError(f"{where}: primaryKey (or matchKey, for rows that may repeat) must name schema fields "
                              f"(missing: {missing})")
        window = self.descriptor.get("window")
        if window is not None:
            field = next((f for f in schema["fields"] if f["name"] == window.get("field")), None)
            if field is None or field.get("type") not in ("date", "datetime"):
                raise ConfigError(f"{where}: window: field {window.get('field')!r} must name a date or datetime field")
            start = window.get("start")
            if start not in (None, "year"):
                try:
                    datetime.date.fromisoformat(str(start))
                except ValueError:
                    raise ConfigError(f"{where}: window: start {start!r} is no date (year, or a date: "
                                      "2025-01-01)") from None
        path = self.resource.get("path")
        if path is not None and not safe_package_path(path):
            raise ConfigError(f"{where}: resource path {path!r} must be a relative path inside the package "
                              "(no '..', no absolute path, no URL): the package is written there")
        self._check_with_frictionless(where)

    def _check_with_frictionless(self, where: str) -> None:
        """Frictionless's own rules for a descriptor (field types, constraint values, names, licences), checked by
        Frictionless itself. A resource's `path` is given at ingest time, so a stand-in is used when it has none."""
        import frictionless

        resource = {**self.resource, "path": self.resource.get("path") or "data.csv"}
        report = frictionless.Package.validate_descriptor({**self.descriptor, "resources": [resource]})
        if not report.valid:
            raise ConfigError(f"{where}: Frictionless: {report.errors[0].message}"
                              + (f" (and {len(report.errors) - 1} more)" if len(report.errors) > 1 else ""))

    @property
    def claims_path(self) -> Path:
        """Published statements about this dataset, checked with every release (see audit.claims)."""
        from audit.claims import FILE_NAME

        return self.descriptor_path.parent / FILE_NAME

    @property
    def resource(self) -> dict[str, Any]:
        return self.descriptor["resources"][0]

    @property
    def skip_columns(self) -> list[str]:
        """The file's columns that are not data (`skipColumns`: a row number an export writes), by header."""
        return [str(c) for c in self.resource.get("skipColumns") or []]

    @property
    def resource_name(self) -> str:
        return self.resource.get("name", self.name)

    @property
    def data_path(self) -> str:
        """Where the data goes in a published package: the resource's path, else data/<resource>.csv."""
        return self.resource.get("path") or f"data/{self.resource_name}.csv"

    @property
    def title(self) -> str:
        return self.descriptor.get("title", self.name)

    @property
    def schema(self) -> dict[str, Any]:
        return self.resource["schema"]

    @property
    def fields(self) -> list[Field]:
        return [Field(f["name"], f.get("type", "string"), f) for f in self.schema["fields"]]

    def with_fields(self, removed: Sequence[str] = (), added: Sequence[dict[str, Any]] = ()) -> "Dataset":
        """This dataset as a release that changed its columns has it: without the fields `removed`, with the
        fields `added` (descriptors) after the rest. The office's files are untouched."""
        fields = [f for f in self.schema["fields"] if f["name"] not in removed] + list(added)
        resource = {**self.resource, "schema": {**self.schema, "fields": fields}}
        return replace(self, descriptor={**self.descriptor, "resources": [resource]})

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def primary_key(self) -> list[str]:
        """The fields that identify a row: the schema's primaryKey, or its matchKey when rows may repeat."""
        key = self.schema.get("primaryKey") or self.schema.get("matchKey") or []
        return [key] if isinstance(key, str) else list(key)

    @property
    def key_is_unique(self) -> bool:
        """Whether the key is a primaryKey (every row unique, checked) rather than a matchKey: the fields that
        match rows between releases in a table where some rows repeat (incidents with no id; two victims of one
        incident). Rows that repeat a matchKey are matched in their order in the file."""
        return bool(self.schema.get("primaryKey"))

    @property
    def blank_key_parts(self) -> list[str]:
        """Key fields declared `constraints: {required: false}`: a blank there is one value of the key (the
        national row of a table keyed by state and year), not a missing key. Every other key part is required."""
        return [f.name for f in self.fields if f.name in self.primary_key
                and (f.descriptor.get("constraints") or {}).get("required") is False]

    @property
    def window(self) -> dict[str, Any] | None:
        """`window: {field, length}`: each release holds the rows whose `field` lies in a rolling window (the last
        `length`, such as "28 days"; without it, the dates the release itself covers)."""
        return self.descriptor.get("window")

    @property
    def population_source(self) -> dict[str, Any] | None:
        """The source of the population figures rates are computed from: a `sources` entry with
        `kind: population` (and its `vintage`: which estimates, of which year)."""
        return next((s for s in self.descriptor.get("sources", []) if s.get("kind") == "population"), None)

    @property
    def temporal_field(self) -> Field | None:
        """The field that places each row in time, for the coverage a portal lists: `temporal: {field: NAME}`
        in the descriptor, else the first field typed year, date or datetime, else the incident period field,
        else the period the suite's series checks run over."""
        names = {f.name for f in self.fields}
        explicit = (self.descriptor.get("temporal") or {}).get("field")
        if explicit:
            if explicit not in names:
                raise ConfigError(f"{self.descriptor_path}: temporal field {explicit!r} is not a field of the dataset")
            return self.field(explicit)
        typed = next((f for f in self.fields if f.type in ("year", "date", "datetime")), None)
        periods = [(self.descriptor.get("reclassification") or {}).get("period"), *self._suite_periods()]
        return typed or next((self.field(p) for p in periods if p in names), None)

    def _suite_periods(self) -> list[str]:
        import json

        try:
            expectations = json.loads(self.suite_path.read_text(encoding="utf-8")).get("expectations", [])
        except (OSError, ValueError, AttributeError):
            return []
        return [e["kwargs"]["period"] for e in expectations
                if isinstance(e, dict) and isinstance(e.get("kwargs"), dict) and isinstance(e["kwargs"].get("period"), str)]

    def label(self, column: str) -> str:
        """A column's title for messages ('Violent Crime'), or its name if it has none."""
        return self._titles.get(column, column)

    @cached_property
    def _titles(self) -> dict[str, str]:
        # Looked up once per finding message: a dict, not a walk over the fields each time.
        return {f.name: f.descriptor.get("title", f.name) for f in self.fields}

    @property
    def missing_values(self) -> list[str]:
        return list(self.schema.get("missingValues", [""]))
