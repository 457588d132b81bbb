"""Profile an unknown table in DuckDB: each column's narrowest type, missing markers, candidate keys.

Typing reuses ingest's own parsers (`audit.ingest.cast.parse_sql`), so a column
inferred as integer here is one ingest will read as integer.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import duckdb

from audit.dataset import Field
from audit.ingest.cast import parse_sql
from audit.sql import ident, literal

# Markers published tables use for "no value"; only those found in a file are declared.
MISSING_MARKERS = ("", "NA", "N/A", "n/a", "-", "--", "*", "(X)", "NULL", "null", "None")
# Narrowest first: the first (type, format) every present cell parses as wins.
# US tables often print dates month first (5/31/2026); a day-first file that
# happens to fit stays a question for the office, which the TODOs ask anyway.
TYPE_ORDER = (
    ("integer", None), ("number", None),
    ("date", None), ("date", "%m/%d/%Y"), ("date", "%Y/%m/%d"),
    ("datetime", None), ("datetime", "%m/%d/%Y %H:%M:%S"), ("datetime", "%m/%d/%Y %H:%M"),
    ("boolean", None), ("string", None),
)
YEAR_RANGE = (1800, 2200)


@dataclass
class Column:
    header: str
    name: str
    type: str
    distinct: int
    nulls: int
    minimum: float | None = None
    maximum: float | None = None
    format: str | None = None

    def field(self) -> Field:
        return Field(self.name, self.type, {"format": self.format} if self.format else {})

    @property
    def year_like(self) -> bool:
        """An integer period column: a year (or month/quarter number) rather than a count."""
        return self.type == "integer" and self.minimum is not None and YEAR_RANGE[0] <= self.minimum <= self.maximum <= YEAR_RANGE[1]


@dataclass
class Profile:
    table: str
    rows: int
    columns: list[Column]
    missing_values: list[str]
    keys: list[list[str]] = field(default_factory=list)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def field_name(header: str, taken: set[str]) -> str:
    """A snake_case name for a header: 'AGG. ASSAULT' -> 'agg_assault'."""
    base = re.sub(r"[^0-9a-z]+", "_", header.lower()).strip("_") or "column"
    if base[0].isdigit():
        base = f"c_{base}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def profile_table(con: duckdb.DuckDBPyConnection, raw: str) -> Profile:
    """Profile the text table `raw` (as `audit.ingest.read.read_raw` leaves it)."""
    headers = [r[0] for r in con.execute(f"DESCRIBE {ident(raw)}").fetchall()]
    (rows,) = con.execute(f"SELECT count(*) FROM {ident(raw)}").fetchone()
    markers = _markers_found(con, raw, headers)
    taken: set[str] = set()
    columns = []
    for header in headers:
        kind, fmt = _narrowest_type(con, raw, header, markers)
        columns.append(_describe(con, raw, header, field_name(header, taken), Field(header, kind, {"format": fmt} if fmt else {}), markers))
    profile = Profile(raw, rows, columns, markers)
    profile.keys = candidate_keys(con, raw, profile)
    return profile


def _is_missing(header: str, markers: list[str]) -> str:
    return f"({ident(header)} IS NULL OR trim({ident(header)}) IN ({', '.join(map(literal, markers))}))"


def _markers_found(con, raw: str, headers: list[str]) -> list[str]:
    found = set()
    for header in headers:
        cells = con.execute(
            f"SELECT DISTINCT trim({ident(header)}) FROM {ident(raw)} WHERE trim({ident(header)}) IN "
            f"({', '.join(map(literal, MISSING_MARKERS))})"
        ).fetchall()
        found |= {c[0] for c in cells}
    return [m for m in MISSING_MARKERS if m in found or m == ""]


def _narrowest_type(con, raw: str, header: str, markers: list[str]) -> tuple[str, str | None]:
    present = f"NOT {_is_missing(header, markers)}"
    checks = []
    for kind, fmt in TYPE_ORDER[:-1]:
        _, ok = parse_sql(Field(header, kind, {"format": fmt} if fmt else {}), f"trim({ident(header)})")
        checks.append(f"count(*) FILTER (WHERE {present} AND NOT coalesce({ok}, false))")
    checks.append(f"count(*) FILTER (WHERE {present})")
    *bad, present_count = con.execute(f"SELECT {', '.join(checks)} FROM {ident(raw)}").fetchone()
    if present_count == 0:
        return "string", None
    return next((choice for choice, n in zip(TYPE_ORDER, bad) if n == 0), ("string", None))


def _describe(con, raw: str, header: str, name: str, parsed: Field, markers: list[str]) -> Column:
    kind = parsed.type
    typed, _ = parse_sql(parsed, f"trim({ident(header)})")
    value = f"CASE WHEN {_is_missing(header, markers)} THEN NULL ELSE {typed} END"
    numeric = kind in ("integer", "number")
    stats = f", min({value}), max({value})" if numeric else ", NULL, NULL"
    distinct, nulls, low, high = con.execute(
        f"SELECT count(DISTINCT {value}), count(*) FILTER (WHERE ({value}) IS NULL){stats} FROM {ident(raw)}"
    ).fetchone()
    return Column(header, name, kind, distinct, nulls, low, high, parsed.descriptor.get("format"))


def candidate_keys(con, raw: str, profile: Profile, limit: int = 3) -> list[list[str]]:
    """Smallest sets of columns that are non-null and unique in every row, places and periods first.

    Measures (counts, rates) can be unique by accident, so they are tried only if
    no set of identifying columns (text, dates, years) is unique.
    """
    complete = [c for c in profile.columns if c.nulls == 0]
    identifying = [c for c in complete if c.type in ("string", "date", "datetime") or c.year_like]
    for pool in (identifying, complete):
        for size in range(1, limit + 1):
            found = []
            for combo in itertools.combinations(pool, size):
                if any(c.distinct == profile.rows for c in combo) and size > 1:
                    continue  # a single unique column already covers it
                if _unique(con, raw, [c.header for c in combo], profile.rows):
                    found.append([c.name for c in combo])
            if found:
                return found
    return []


def _unique(con, raw: str, headers: list[str], rows: int) -> bool:
    cells = ", ".join(ident(h) for h in headers)
    (distinct,) = con.execute(f"SELECT count(*) FROM (SELECT DISTINCT {cells} FROM {ident(raw)})").fetchone()
    return distinct == rows


def create_typed(con: duckdb.DuckDBPyConnection, raw: str, profile: Profile, typed: str) -> None:
    """The raw table typed as profiled, under the proposed field names."""
    values = []
    for c in profile.columns:
        expr, _ = parse_sql(c.field(), f"trim({ident(c.header)})")
        values.append(f"CASE WHEN {_is_missing(c.header, profile.missing_values)} THEN NULL ELSE {expr} END AS {ident(c.name)}")
    con.execute(f"CREATE TABLE {ident(typed)} AS SELECT {', '.join(values)} FROM {ident(raw)} ORDER BY rowid")
