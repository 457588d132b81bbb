"""The period a release covers, read from its data at publication (for the README and the portal feed)."""

from __future__ import annotations

from typing import Any

import duckdb

from audit.dataset import Dataset
from audit.sql import ident


def temporal_coverage(con: duckdb.DuckDBPyConnection, table: str, dataset: Dataset) -> dict[str, Any] | None:
    """{"field", "start", "end"} as ISO 8601 text (a year as 2017), or None when no field places rows in time."""
    field = dataset.temporal_field
    if field is None:
        return None
    start, end = con.execute(f"SELECT min({ident(field.name)}), max({ident(field.name)}) FROM {table}").fetchall()[0]
    if start is None:
        return None
    as_text = (lambda v: v.isoformat()) if hasattr(start, "isoformat") else str
    return {"field": field.name, "start": as_text(start), "end": as_text(end)}


def iso_interval(coverage: dict[str, Any]) -> str:
    """DCAT-US `temporal`: start/end; a bare year becomes its first and last day."""
    start, end = coverage["start"], coverage["end"]
    if start.lstrip("-").isdigit() and end.lstrip("-").isdigit():
        return f"{int(start):04d}-01-01/{int(end):04d}-12-31"
    return f"{start}/{end}"
