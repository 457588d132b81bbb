"""What an undescribed text column holds: the narrowest type every present cell parses as, by ingest's own
parsers (`audit.ingest.cast.parse_sql`), so a column inferred as integer is one ingest reads as integer.

`audit init` types every column of a new table with it; ingest types a column a release has and its descriptor
does not (a schema change) the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from audit.dataset import Field
from audit.ingest.cast import PERCENT, Let, Steps, _plain_sql, parse_sql
from audit.sql import ident, literal, one_row

# Markers published tables use for "no value"; only those found in a file are declared.
MISSING_MARKERS = ("", "NA", "N/A", "n/a", "-", "--", "*", "(X)", "NULL", "null", "None")
# Narrowest first: the first (type, format) every present cell parses as wins.
# US tables often print dates month first (5/31/2026); a day-first file that
# happens to fit stays a question for the office, which the TODOs ask anyway.
TYPE_ORDER = (
    ("integer", None), ("number", None), ("number", PERCENT),
    ("date", None), ("date", "%m/%d/%Y"), ("date", "%Y/%m/%d"),
    ("datetime", "any"), ("datetime", "%m/%d/%Y %H:%M:%S"), ("datetime", "%m/%d/%Y %H:%M"),
    # A time or an ISO datetime is `any` form: 21:00:00 this week may be 9:00 p.m. the next (audit.ingest.cast).
    ("time", "any"), ("boolean", None), ("string", None),
)


def field_format(fmt: str | None) -> dict:
    """A field's descriptor properties for a profiled format (`PERCENT`: a number with a % sign)."""
    if fmt == PERCENT:
        return {"bareNumber": False}
    return {"format": fmt} if fmt else {}


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


def is_missing(header: str, markers: list[str]) -> str:
    return f"({ident(header)} IS NULL OR trim({ident(header)}) IN ({', '.join(map(literal, markers))}))"


def narrowest_type(con, raw: str, header: str, markers: list[str]) -> tuple[str, str | None]:
    """The narrowest type (TYPE_ORDER) every present value of the column parses as. Every type is tried on a
    sample first; only those the sample leaves are tried on every row, narrowest first, until one holds: one or
    two passes over a large table instead of one with twelve parses in it."""
    sample = f"(SELECT * FROM {ident(raw)} USING SAMPLE reservoir({TYPE_SAMPLE} ROWS) REPEATABLE (7))"
    *bad, present, zero_led = _type_counts(con, sample, header, markers, TYPE_ORDER[:-1])
    if not present:
        (present,) = one_row(con, f"SELECT count(*) FROM {ident(raw)} WHERE NOT {is_missing(header, markers)}")
        if not present:
            return "string", None
    for choice, n in zip(TYPE_ORDER[:-1], bad):
        if n or zero_led and choice[0] in ("integer", "number"):
            continue
        wrong, _, zero_led = _type_counts(con, ident(raw), header, markers, [choice])
        # A code written with leading zeros (zip 02134, FIPS 01001) is text: as a number it would lose them.
        if not wrong and not (zero_led and choice[0] in ("integer", "number")):
            return choice
    return "string", None


# Rows each type is first tried on (a type they refute is never tried on the whole column). Every row then
# confirms the choice (or the column is typed on its own), so the sample only saves work: at 20,000 rows, trying
# twelve types on each of 13 columns took 1.6 s.
TYPE_SAMPLE = 5_000
# Columns typed in one query: each query's parse of its cells is bound once (a query over every column of a
# 64-column table would take longer to plan than to run, and one per column spends most of its time planning).
COLUMNS_PER_QUERY = 16


def narrowest_types(con, raw: str, headers: list[str], markers: list[str]) -> dict[str, tuple[str, str | None]]:
    """`narrowest_type` of every column of `headers`, in a few queries rather than two or more per column: every
    type tried on a sample of all the columns at once; then, for a table larger than the sample, the type each
    column's sample chose confirmed on every row, for all the columns at once. A column whose choice every row does
    not confirm is typed on its own (`narrowest_type`)."""
    (rows,) = one_row(con, f"SELECT count(*) FROM {ident(raw)}")
    whole = rows <= TYPE_SAMPLE  # the sample is every row: what it says is final
    sample = ident(raw) if whole else f"(SELECT * FROM {ident(raw)} USING SAMPLE reservoir({TYPE_SAMPLE} ROWS) REPEATABLE (7))"
    counts = _type_counts_many(con, sample, headers, markers, TYPE_ORDER[:-1])
    chosen: dict[str, tuple[str, str | None]] = {}
    unsure: list[str] = []
    for header in headers:
        *bad, present, zero_led = counts[header]
        choice = next((kind for kind, n in zip(TYPE_ORDER[:-1], bad)
                       if not n and not (zero_led and kind[0] in ("integer", "number"))), ("string", None))
        if not present:
            choice = ("string", None)
            if not whole:
                unsure.append(header)  # nothing in the sample: every row decides
        chosen[header] = choice
    if not whole:
        typed = [h for h in headers if h not in unsure and chosen[h][0] != "string"]
        confirmed = _confirmed(con, raw, typed, markers, chosen)
        unsure += [h for h in typed if not confirmed[h]]
    for header in unsure:
        chosen[header] = narrowest_type(con, raw, header, markers)
    return chosen


def parse_unless_plain(field: Field, header: str, markers: list[str],
                       let: Let) -> tuple[tuple[str, str] | None, str, str]:
    """(the plain form's (condition, value), or None; the parsed value; whether it parsed) of the text column
    `header`, read as a release is typed (audit.ingest.cast): a cell in its type's plain form is taken as it is,
    and only the others are parsed, each step named once by `let` (and NULL, cheaply, for a plain cell)."""
    plain = _plain_sql(field, header, markers)
    trimmed = f"trim({ident(header)})"
    text = let(f"CASE WHEN NOT coalesce({plain[0]}, false) THEN {trimmed} END" if plain else trimmed)
    expr, ok = parse_sql(field, text, let)
    return plain, expr, ok


def _confirmed(con, raw: str, headers: list[str], markers: list[str],
               chosen: dict[str, tuple[str, str | None]]) -> dict[str, bool]:
    """Whether every present cell of each column parses as the type chosen for it (and no number has a leading 0)."""
    out: dict[str, bool] = {}
    for start in range(0, len(headers), COLUMNS_PER_QUERY):
        part = headers[start:start + COLUMNS_PER_QUERY]
        steps = Steps()
        checks = []
        for header in part:
            kind, fmt = chosen[header]
            field = Field(header, kind, field_format(fmt))
            present = steps.let(f"NOT {is_missing(header, markers)}")
            plain, _, ok = parse_unless_plain(field, header, markers, steps.let)  # a plain cell is confirmed as is
            parsed = f"NOT coalesce({ok}, false)"
            bad = f"CASE WHEN coalesce({plain[0]}, false) THEN false ELSE {parsed} END" if plain else parsed
            lost = f" OR regexp_full_match(trim({ident(header)}), '0[0-9]+')" if kind in ("integer", "number") else ""
            checks.append(f"NOT bool_or({present} AND ({bad}{lost}))")
        values = one_row(con, f"SELECT {', '.join(checks)} FROM {steps.over_sql(ident(raw))}")
        out.update({h: bool(v) or v is None for h, v in zip(part, values)})
    return out


def _type_counts_many(con, source: str, headers: list[str], markers: list[str],
                      kinds: Sequence[tuple[str, str | None]]) -> dict[str, list[int]]:
    """`_type_counts` of every column of `headers` over `source`, COLUMNS_PER_QUERY columns a query."""
    out: dict[str, list[int]] = {}
    for start in range(0, len(headers), COLUMNS_PER_QUERY):
        part = headers[start:start + COLUMNS_PER_QUERY]
        steps = Steps()
        checks = [check for header in part for check in _type_checks(steps, header, markers, kinds)]
        values = list(one_row(con, f"SELECT {', '.join(checks)} FROM {steps.over_sql(source)}"))
        width = len(kinds) + 2
        out.update({h: [int(v or 0) for v in values[i * width:(i + 1) * width]] for i, h in enumerate(part)})
    return out


def _type_checks(steps: Steps, header: str, markers: list[str], kinds: Sequence[tuple[str, str | None]]) -> list[str]:
    """For each kind, the count of present values that do not parse as it; then the present values, and the values
    written with a leading zero."""
    present = steps.let(f"NOT {is_missing(header, markers)}")
    text = steps.let(f"trim({ident(header)})")
    checks = []
    for kind, fmt in kinds:
        _, ok = parse_sql(Field(header, kind, field_format(fmt)), text, steps.let)
        checks.append(f"count_if({present} AND NOT coalesce({ok}, false))")
    return checks + [f"count_if({present})", f"count_if(regexp_full_match({text}, '0[0-9]+'))"]


def _type_counts(con, source: str, header: str, markers: list[str],
                 kinds: Sequence[tuple[str, str | None]]) -> list[int]:
    """Over `source` (a table or subquery): for each kind, the present values that do not parse as it; then the
    present values, and the values written with a leading zero. Each parse's steps are named once (cast.Steps):
    written inline, the twelve parses of a column were a query DuckDB took seconds a million rows to evaluate."""
    steps = Steps()
    checks = _type_checks(steps, header, markers, kinds)
    return list(one_row(con, f"SELECT {', '.join(checks)} FROM {steps.over_sql(source)}"))
