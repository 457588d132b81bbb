"""Profile an unknown table in DuckDB: each column's narrowest type, missing markers, candidate keys.

Typing is ingest's own (`audit.ingest.infer`), so a column inferred as integer here is one ingest will read
as integer.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Sequence

import duckdb

from audit.dataset import Field
from audit.ingest.cast import PERCENT, Steps
from audit.ingest.infer import (
    COLUMNS_PER_QUERY,
    MISSING_MARKERS,
    field_format,
    field_name,
    is_missing,
    narrowest_type,
    narrowest_types,
    parse_unless_plain,
)
from audit.ingest.read import FILE_COLUMN, ROW_COLUMN
from audit.progress import step
from audit.sql import ident, literal, one_row

YEAR_RANGE = (1800, 2200)
MAX_KEY_PARTS = 4


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
    decimals: int | None = None     # the most decimals any of its cells is written with (numbers)
    missing_values: list[str] = field(default_factory=list)  # markers of this column alone ("None reported")
    positional: bool = False        # a row number: 1, 2, 3 ... in file order (never a key, never a measure)

    def field(self) -> Field:
        return Field(self.name, self.type, field_format(self.format))

    @property
    def is_measure(self) -> bool:
        """A count, rate or other figure: numbers that are not periods or row numbers."""
        return self.type in ("integer", "number") and not self.year_like and not self.positional

    @property
    def year_like(self) -> bool:
        """An integer period column: a year (or month/quarter number) rather than a count."""
        return (self.type == "integer" and self.minimum is not None and self.maximum is not None
                and YEAR_RANGE[0] <= self.minimum <= self.maximum <= YEAR_RANGE[1])


@dataclass
class Key:
    columns: list[str]
    repeats: int = 0                               # rows beyond the first with the same key values
    blank_parts: list[str] = field(default_factory=list)   # parts that are blank in one group of rows
    whole_row: bool = False                         # no identifying column: every column, to match rows by


@dataclass
class Profile:
    table: str
    rows: int
    columns: list[Column]
    missing_values: list[str]
    keys: list[list[str]] = field(default_factory=list)
    key: Key | None = None                          # the key proposed (the best of `keys`, or the best that repeats)
    # The rows of several files (audit init given several releases, each row with its file in FILE_COLUMN): a value
    # repeated in two files is the same row twice (an incident still in the window), no repeat within a release.
    per_file: bool = False

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def identifying_key(self) -> list[str]:
        """The key's columns when they identify rows; none when the key is every column (a table of figures)."""
        return self.key.columns if self.key and not self.key.whole_row else []


def profile_table(con: duckdb.DuckDBPyConnection, raw: str, typed: str) -> Profile:
    """Profile the text table `raw` (as `audit.ingest.read.read_raw` leaves it), and leave it typed as profiled in
    table `typed`: each column's type is found on the text, its counts and bounds on the typed column (a count of
    distinct values of a parse, over a million rows, costs more than the parse itself)."""
    described = [r[0] for r in con.execute(f"DESCRIBE {ident(raw)}").fetchall()]
    headers = [h for h in described if h not in (ROW_COLUMN, FILE_COLUMN)]
    (rows,) = one_row(con, f"SELECT count(*) FROM {ident(raw)}")
    with step("finding each column's type and missing markers"):
        markers = _markers_found(con, raw, headers)
        taken: set[str] = set()
        types = narrowest_types(con, raw, headers, markers)
        parsed = []
        worded = _may_have_own_markers(con, raw, [h for h in headers if types[h][0] == "string"], markers)
        for header in headers:
            kind, fmt = types[header]
            own: list[str] = []
            if header in worded:
                kind, fmt, own = _column_markers(con, raw, header, markers)
            parsed.append((header, field_name(header, taken), Field(header, kind, field_format(fmt)), markers + own,
                           own))
    columns = [Column(header, name, f.type, 0, 0, format=PERCENT if f.descriptor.get("bareNumber") is False
                      else f.descriptor.get("format"), missing_values=own) for header, name, f, _, own in parsed]
    profile = Profile(raw, rows, columns, markers, per_file=FILE_COLUMN in described)
    with step("typing the columns"):
        create_typed(con, raw, profile, typed)
    with step("describing the columns"):
        _describe_all(con, raw, typed, profile)
    with step("looking for the key"):
        profile.keys, profile.key = candidate_keys(con, raw, profile)
    return profile


def _markers_found(con, raw: str, headers: list[str]) -> list[str]:
    """The markers of MISSING_MARKERS any column holds, found in one pass over the table."""
    if not headers:
        return [""]
    known = ", ".join(map(literal, MISSING_MARKERS))
    # A CASE, not a FILTER: the filter trimmed every cell twice (0.85 s a million rows of 13 columns, now 0.46 s).
    lists = ", ".join(f"list(DISTINCT CASE WHEN trim({ident(h)}) IN ({known}) THEN trim({ident(h)}) END)"
                      for h in headers)
    found = {m for values in one_row(con, f"SELECT {lists} FROM {ident(raw)}") for m in values or []}
    return [m for m in MISSING_MARKERS if m in found or m == ""]


def _may_have_own_markers(con, raw: str, headers: list[str], markers: list[str]) -> set[str]:
    """Of the text columns `headers`, those `_column_markers` could find words of their own in (some values with no
    digit, in at most half the present cells, of few kinds), all in one pass: asking each column on its own
    grouped every one's values (9 s over ten million rows)."""
    if not headers:
        return set()
    parts = []
    for h in headers:
        present = f"NOT {is_missing(h, markers)}"
        word = f"CASE WHEN {present} AND NOT regexp_matches({ident(h)}, '[0-9]') THEN trim({ident(h)}) END"
        parts.append(f"count_if({present}), count({word}), approx_count_distinct({word})")
    values = one_row(con, f"SELECT {', '.join(parts)} FROM {ident(raw)}")
    out = set()
    for i, h in enumerate(headers):
        present, words, kinds = values[3 * i:3 * i + 3]
        # At most three kinds are taken: the estimate is exact at that size, and far from it when there are many.
        if words and words * 2 <= present and kinds <= 10:
            out.add(h)
    return out


def _column_markers(con, raw: str, header: str, markers: list[str]) -> tuple[str, str | None, list[str]]:
    """A column of figures or dates with a few words among them ("None reported", "Unknown"): those words are
    this column's own missing markers, not text, so the column keeps its type (and other columns, where the same
    words may be values, keep theirs). At most three such words, in at most half of the cells."""
    h = ident(header)
    words = con.execute(
        f"SELECT trim({h}), count(*) FROM {ident(raw)} WHERE NOT {is_missing(header, markers)} "
        f"AND NOT regexp_matches({h}, '[0-9]') GROUP BY ALL ORDER BY 2 DESC LIMIT 4").fetchall()
    (present,) = one_row(con, f"SELECT count(*) FROM {ident(raw)} WHERE NOT {is_missing(header, markers)}")
    if not words or len(words) > 3 or sum(n for _, n in words) * 2 > present:
        return "string", None, []
    own = [w for w, _ in words]
    kind, fmt = narrowest_type(con, raw, header, markers + own)
    return (kind, fmt, own) if kind != "string" else ("string", None, [])


def _describe_all(con, raw: str, typed: str, profile: Profile) -> None:
    """Each column's distinct values, blanks and bounds, read from `typed`; a number's decimals from its text (704.0
    is written to one decimal, though it is whole); whether an integer column is a row number."""
    t = ident(typed)
    for start in range(0, len(profile.columns), COLUMNS_PER_QUERY):
        part = profile.columns[start:start + COLUMNS_PER_QUERY]
        bounds = [f"count_if({ident(c.name)} IS NULL), "
                  + (f"min({ident(c.name)}), max({ident(c.name)})" if c.type in ("integer", "number") else "NULL, NULL")
                  for c in part]
        values = one_row(con, f"SELECT {', '.join(bounds)} FROM {t}")
        for i, c in enumerate(part):
            c.nulls, c.minimum, c.maximum = values[3 * i:3 * i + 3]
    for c in profile.columns:
        # One column a query: DuckDB counts the distinct values of each column of a query in a table of its own,
        # on fewer threads (10M rows of 13 columns: 4.3 s in one query, 2.5 s one by one). Over several releases
        # (a weekly export's weeks, which repeat the incidents still in the window) values are counted apart
        # within each file and summed: a key is one that is unique within each release.
        distinct = f"SELECT count(DISTINCT {ident(c.name)}) AS n FROM {t}"
        if profile.per_file:
            distinct = f"SELECT sum(n) FROM ({distinct} GROUP BY {ident(FILE_COLUMN)})"
        (n,) = one_row(con, distinct)
        c.distinct = int(n or 0)
    for c in profile.columns:
        if c.type == "number":
            c.decimals = _decimals(con, raw, c, profile)
    for c in profile.columns:
        if c.type == "integer" and c.nulls == 0 and profile.rows > 2 and c.minimum in (0, 1):
            # A row number runs 0 or 1, 2, 3 ... down the file: its value minus the row's is constant (in a summary
            # read long, each file row's number repeats on each of its rows). Codes that merely run in order, zip
            # codes 21201, 21202 ..., start elsewhere and are not row numbers. (Constant: its least is its most,
            # which needs no table of distinct values.)
            low, high = one_row(con, f"SELECT min({ident(c.name)} - {ROW_COLUMN}), "
                                     f"max({ident(c.name)} - {ROW_COLUMN}) FROM {t}")
            c.positional = low == high


def _decimals(con, raw: str, c: Column, profile: Profile) -> int | None:
    """The most decimals any present cell of number column `c` is written with (not counting a cell in scientific
    notation). Read from each distinct text when the column repeats its values (coordinates of a few thousand
    places over millions of rows: the regular expression then runs on each once); the most is the same."""
    h = ident(c.header)
    text = f"(SELECT DISTINCT {h} FROM {ident(raw)})" if c.distinct * 4 < profile.rows else ident(raw)
    (places,) = one_row(con, f"SELECT max(length(regexp_extract(trim({h}), '\\.([0-9]+)', 1))) FROM {text} WHERE NOT "
                             f"{is_missing(c.header, profile.missing_values + c.missing_values)} AND NOT "
                             f"regexp_matches({h}, '[eE]')")
    return places


def candidate_keys(con, raw: str, profile: Profile, measures: frozenset[str] = frozenset()) -> tuple[list[list[str]], Key | None]:
    """(every smallest unique key found, the one proposed). A key is made of identifying columns:
    text that is not a figure, dates, periods, and whole numbers that are all distinct (an id).
    Measures, percent text and row numbers never are: a count can be unique by accident, and a row
    number changes whenever rows are added above. A key part may be blank when the rows it is
    blank in are still told apart by the rest of the key (national rows with no state code).
    When no such set is unique, the set with the fewest repeated rows is proposed, with that count.
    `measures` are whole-number columns known to take part in the table's arithmetic: never an id."""
    def usable(c: Column) -> bool:
        if c.positional or c.nulls == profile.rows or c.nulls * 2 > profile.rows or c.name in measures:
            return False
        if c.type in ("string", "date", "datetime", "time") or c.year_like:
            return True
        return c.type == "integer" and c.distinct == profile.rows - c.nulls  # an identifier
    usable_columns = [c for c in profile.columns if usable(c)]
    text_first = [c for c in usable_columns if c.type != "integer" or c.year_like][:12]  # 1,000-odd sets of up to 4

    def strong(c: Column) -> bool:
        """A column that tells rows apart as a person would: a date or period, or text with many values (a place,
        a time of day). Text with a handful of values (a sex, a yes/no) narrows nothing down on its own."""
        return c.type in ("date", "datetime") or c.year_like or c.distinct >= max(3, min(20, 0.5 * profile.rows))

    def code_like(c: Column) -> bool:
        """Whole numbers all written with one number of digits and close together for their size (zip codes 21201
        to 21231, FIPS 24001 to 24510): a code, where counts run over several widths or far apart."""
        low, high = c.minimum, c.maximum
        return (low is not None and high is not None and low >= 10 and len(str(int(low))) == len(str(int(high)))
                and (high - low) <= 0.5 * high)

    def rank(combo: tuple[Column, ...]) -> tuple:
        # Fewer blank parts; a place with a period or date; text before numbers, codes before other numbers;
        # earlier in the file.
        return (sum(c.nulls > 0 for c in combo), -any(c.year_like or c.type in ("date", "datetime") for c in combo),
                -sum(c.type == "string" for c in combo), -sum(c.type == "integer" and code_like(c) for c in combo),
                [profile.columns.index(c) for c in combo])

    # Strong columns first, then every identifying one; a whole-number id only when no text, date or period set
    # identifies the rows: a count whose values happen to differ in every row must not become the key.
    # Whole-number ids, codes first, wherever they stand in the file (a zip code after sixty figures).
    ids = sorted((c for c in usable_columns if c.type == "integer" and not c.year_like),
                 key=lambda c: (not code_like(c), profile.columns.index(c)))
    pools = [[c for c in text_first if strong(c)], text_first, ids[:4] + text_first[:8]]

    when = [c for c in usable_columns if c.type in ("date", "datetime", "time")][:2]
    # A table of events: dates and text with no figures, or with times of day (a victim's age beside an incident's
    # time is an attribute of one event, not a count).
    if when and (not any(c.is_measure for c in profile.columns) or any(c.type in ("datetime", "time") for c in when)):
        return [], _event_key(con, raw, profile, when, [c for c in text_first if strong(c) and c not in when])

    found: list[tuple[Column, ...]] = []
    repeating: dict[tuple[str, ...], tuple[int, tuple]] = {}   # sets that repeat: names -> (repeats, combo)
    for number, pool in enumerate(pools):
        for size in range(1, MAX_KEY_PARTS + 1):
            for combo in itertools.combinations(pool, size):
                if size > 1 and any(c.distinct == profile.rows for c in combo):
                    continue  # a single unique column already covers it
                if any({c.name for c in f} <= {c.name for c in combo} for f in found):
                    continue
                combo_names = tuple(c.name for c in combo)
                if combo_names in repeating:
                    continue
                repeats = _repeats(con, raw, combo, profile)
                if repeats == 0:
                    found.append(combo)
                elif number < 2:
                    repeating[combo_names] = (repeats, combo)
            if found:
                break
        if found:
            break
        if number == 0 and repeating and min(r for r, _ in repeating.values()) <= max(1, 0.01 * profile.rows):
            # Dates, places and times that repeat in a row or two (two victims of one incident) make a better key
            # than weak columns that happen to be unique today (a sex and a place).
            break
    ranked = sorted(found, key=rank)
    names = [[c.name for c in k] for k in ranked]
    if ranked:
        return names, Key([c.name for c in ranked[0]], 0, [c.name for c in ranked[0] if c.nulls])
    if repeating:
        # No set is unique. Among the sets that repeat hardly more than the least repeating one (1 percent of the
        # rows), the one with the fewest weak columns, then the most strong ones: a date, a place and a time.
        least = min(r for r, _ in repeating.values())
        near = [(r, c) for r, c in repeating.values() if r <= least + 0.01 * profile.rows]
        repeats, combo = min(near, key=lambda rc: (sum(not strong(c) for c in rc[1]), rc[0], -len(rc[1]), rank(rc[1])))
        return [], Key([c.name for c in combo], repeats, [c.name for c in combo if c.nulls])
    # Nothing identifies a row (only figures): rows can still be matched between releases by all their values.
    whole = [c for c in profile.columns if not c.positional]
    repeats = _repeats(con, raw, whole, profile)
    return [], Key([c.name for c in whole], repeats, [c.name for c in whole if c.nulls], whole_row=True)


def _event_key(con, raw: str, profile: Profile, when: list[Column], places: list[Column]) -> Key:
    """The key of a table of events (incidents: dates and text, no figures): when it happened (its date and time
    columns) and where (the fewest text columns with many values that, with them, tell the rows apart, or repeat
    least). Never the offence or a victim's attributes, which take a handful of values and may be corrected from
    one week to the next (a correction must be a change to a row, not a row removed and another added); nor a
    smaller set that happens to be unique this week (a block alone in a file of four incidents)."""
    best: tuple[int, tuple[Column, ...]] | None = None
    for size in range(0, MAX_KEY_PARTS - len(when) + 1):
        for combo in itertools.combinations(places, size):
            parts = (*when, *combo)
            repeats = _repeats(con, raw, parts, profile)
            if best is None or repeats < best[0]:
                best = (repeats, parts)
        if best is not None and best[0] == 0 or size >= len(places):
            break
    assert best is not None  # size 0 is always tried
    repeats, parts = best
    return Key([c.name for c in parts], repeats, [c.name for c in parts if c.nulls])


def _repeats(con, raw: str, columns: Sequence[Column], profile: Profile) -> int:
    """How many rows repeat another's values of `columns` (blanks are one value, as DISTINCT counts them), within
    each file when there are several (`Profile.per_file`)."""
    if any(c.distinct == profile.rows for c in columns):
        # A column whose typed values differ in every row (of each file) has no blank and no text twice: no row
        # repeats another, with whatever else beside it (an event's time and its id), and no pass is needed.
        return 0
    cells = ", ".join(ident(h) for h in [*([FILE_COLUMN] if profile.per_file else []), *(c.header for c in columns)])
    (distinct,) = one_row(con, f"SELECT count(*) FROM (SELECT DISTINCT {cells} FROM {ident(raw)})")
    return profile.rows - distinct


def create_typed(con: duckdb.DuckDBPyConnection, raw: str, profile: Profile, typed: str) -> None:
    """The raw table typed as profiled, under the proposed field names."""
    values, steps = [], Steps()
    for c in profile.columns:
        markers = profile.missing_values + c.missing_values
        # Each step named once: written inline, the parse repeated every step before it.
        plain, expr, _ = parse_unless_plain(c.field(), c.header, markers, steps.let)
        value = f"CASE WHEN {is_missing(c.header, markers)} THEN NULL ELSE {expr} END"
        if plain:
            value = f"CASE WHEN coalesce({plain[0]}, false) THEN {plain[1]} ELSE {value} END"
        values.append(f"{value} AS {ident(c.name)}")
    where = f"{ident(FILE_COLUMN)}, " if profile.per_file else ""
    # No ORDER BY: `raw` holds its rows in the order read (file by file), and a plain projection keeps it;
    # sorting ten million wide rows again took ten seconds.
    con.execute(f"CREATE TABLE {ident(typed)} AS SELECT {where}{ident(ROW_COLUMN)}, {', '.join(values)} "
                f"FROM {steps.over_sql(ident(raw))}")
