"""Type the text cells of an incoming file by the dataset's Table Schema, inside DuckDB.

Published tables are formatted for people: "12,430" is the integer 12430. Each
field becomes a SQL expression that parses its text strictly (a count of
"1960.5" or "12,43O" is an error, never rounded or dropped) and a flag that
marks a cell which is present but does not parse. The first such cell stops
ingest with an InputError naming file, row, column and value.

Most cells of a large file are plain: already in their type's canonical form
("12430", "2021-03-04 10:00:00"). One pass sets aside the rows with any other
cell; only those go through the clean-up, the bad-cell search and the count of
fixes, and plain cells are cast directly.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Callable

import duckdb

from audit.dataset import Dataset, Field
from audit.errors import InputError
from audit.ingest.normalise import Normalisation, clip
from audit.ingest.read import ROW_COLUMN
from audit.sql import ident, literal, one_row

INTEGER_PATTERN = r"[+-]?[0-9]+"
# Integers short enough that any of them fits the field's type: a plain cell needs no range check.
PLAIN_INTEGER = {"BIGINT": r"[+-]?[0-9]{1,18}", "INTEGER": r"[+-]?[0-9]{1,9}"}
NUMBER_PATTERN = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
TRUE_VALUES = ("true", "yes", "y", "t", "1")
FALSE_VALUES = ("false", "no", "n", "f", "0")
# Missing-value markers published tables use, read as missing in any field that is not text (where "NA"
# could be a value); a descriptor's own missingValues are used as well. Every use is recorded.
KNOWN_MISSING = ("", "NA", "N/A", "n/a", "-", "–", "—", "*", "(X)", "(NA)", "..", "…", "NULL", "null",
                 # ... and the words exports put where a figure or date is not known: a weekly export's first file
                 # may have none of them, so a marker declared from it cannot be the only ones read.
                 "None", "None reported", "Not reported", "Unknown", "Not available", "N.A.", "n.a.")
# The 12-hour forms a time (or a datetime, after an ISO date) with `format: any` is also read in, once its text is
# upper case without dots ("9:00 p.m." -> "9:00 PM"); the 24-hour forms are DuckDB's own (9:00, 21:00:00).
TWELVE_HOUR = {"time": ("%I:%M:%S %p", "%I:%M %p"), "datetime": ("%Y-%m-%d %I:%M:%S %p", "%Y-%m-%d %I:%M %p")}
# What a datetime field reads (without a format of its own): an ISO date, a time to the minute, second or fraction.
ISO_DATETIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?Z?"
# A footnote mark after a number: 342a, 12,430*, 1,204†, 88 (1), 17[2], 5¹.
FOOTNOTE = r"^(.*[0-9])\s*(?:[*†‡§¶#]+|[a-e]|\([0-9]{1,2}\)|\[[0-9]{1,2}\]|[¹²³⁴⁵⁶⁷⁸⁹])$"
# `audit init`'s name for a number written with a sign around it (-5.1%): Table Schema's bareNumber: false.
PERCENT = "percent"
# Characters that show nothing (Unicode's format characters: zero-width space and joiners, a byte-order mark inside
# a cell, direction marks, soft hyphens): "East\u200bern" looks like "Eastern" and would be another key.
INVISIBLE = r"\p{Cf}"
# A whole number written in scientific notation, as R writes 500000: 5e+05.
SCIENTIFIC = r"[+-]?[0-9]+(\.[0-9]+)?[eE][+]?[0-9]+"


THOUSANDS = "thousands-separators"  # the fix of a number written with its field's thousands separator


def grouped_pattern(field: Field) -> str:
    """A number written with its field's thousands separator: groups of three digits after the first one to three
    (1,234,567 and 1,234.5; never 12,34 or 1,2,3), a decimal part and a trailing ".0" allowed."""
    group, decimal = re.escape(field.group_char), re.escape(field.decimal_char)
    return f"[+-]?[0-9]{{1,3}}({group}[0-9]{{3}})+({decimal}[0-9]*)?"


# Names an expression so that what uses it reads it once (`Steps.let`); as given, every use repeats it.
Let = Callable[[str], str]


def _inline(expr: str) -> str:
    return expr


class Steps:
    """Expressions computed once per row, each in a projection of its own over the rows (a step), and named so
    that later expressions read a column instead of repeating the expression.

    Why by hand: the clean-up of a number nests each step in the next (footnote, separators, `.0`, scientific
    notation), and written inline each step repeats all before it, so one integer field's SQL was 3,800
    characters and a 7-field table's bad-cell query 55,000: DuckDB took a tenth of a second to bind it, on any
    table, and evaluated every repeat on every row that needed the clean-up. DuckDB has no `let` of its own
    (a macro expands inline)."""

    def __init__(self) -> None:
        self.levels: list[list[tuple[str, str]]] = []
        self._level: dict[str, int] = {}
        # The steps' names carry a token no file can know beforehand, so a header cannot take one of them.
        self.token = secrets.token_hex(4)
        self._prefix = f"__audit_step_{self.token}_"

    def let(self, expr: str) -> str:
        """A column holding `expr`, computed in the first step after every step it reads."""
        used = re.findall(f'"({re.escape(self._prefix)}[0-9]+)"', expr)
        level = max((self._level[n] for n in used if n in self._level), default=-1) + 1
        name = f"{self._prefix}{len(self._level)}"
        while len(self.levels) <= level:
            self.levels.append([])
        self.levels[level].append((name, expr))
        self._level[name] = level
        return ident(name)

    def over(self, table: str) -> str:
        """`table` with every step's column added: a subquery to select from."""
        return self.over_sql(ident(table))

    def over_sql(self, source: str) -> str:
        """`source` (a quoted table name or a subquery) with every step's column added."""
        sql = source
        for level in self.levels:
            sql = f"(SELECT *, {', '.join(f'{e} AS {ident(n)}' for n, e in level)} FROM {sql})"
        return sql


def parse_sql(field: Field, text: str, let: Let = _inline) -> tuple[str, str]:
    """(typed expression, is-valid expression) for one field's trimmed, non-missing text; `let` names each step
    of a number's clean-up (`Steps.let`) so that the next reads it rather than repeating it."""
    if field.type in ("integer", "year", "number"):
        pattern = NUMBER_PATTERN if field.type == "number" else INTEGER_PATTERN
        clean = let(f"regexp_replace({text}, {literal(FOOTNOTE)}, '\\1')")
        if field.descriptor.get("bareNumber") is False:
            # Table Schema lets any text around the number go; only a percent or currency sign is dropped here,
            # so "100 BLOCK N AVE" stays an error, never the number 100.
            clean = let(f"regexp_replace(regexp_replace({clean}, '\\s*%$', ''), '^([+-]?)[$€£¥]\\s*', '\\1')")
        grouped = "true"
        if field.type != "year":
            # A separator groups digits by three: "5,7,5,5,8,4" or "61,0226" is no number with separators.
            grouped = let(f"(NOT contains({clean}, {literal(field.group_char)}) OR "
                          f"regexp_full_match({clean}, {literal(grouped_pattern(field))}))")
            clean = f"replace({clean}, {literal(field.group_char)}, '')"
        if field.type == "number" and field.decimal_char != ".":
            clean = f"replace({clean}, {literal(field.decimal_char)}, '.')"
        if field.type != "number":
            clean = let(f"regexp_replace({clean}, '\\.0+$', '')")  # 1960.0, as spreadsheets export whole numbers
            # 5e+05 (as R writes 500000) is a whole number; 1.5e+00 is not, and stays an error.
            double = let(f"TRY_CAST({clean} AS DOUBLE)")
            whole = let(f"TRY_CAST({double} AS HUGEINT)")
            clean = (f"CASE WHEN regexp_full_match({clean}, {literal(SCIENTIFIC)}) AND {double} "
                     f"= {whole} AND abs({double}) < 9e15 THEN {whole}::VARCHAR ELSE {clean} END")
        if field.decimal_char == ".":
            # Most cells are plain numbers already: only the others go through the (slower) clean-up chain.
            clean = f"CASE WHEN regexp_full_match({text}, {literal(pattern)}) THEN {text} ELSE {clean} END"
        clean = let(clean)
        ok = let(f"(regexp_full_match({clean}, {literal(pattern)}) AND {grouped})")
        if field.type == "number":
            return f"CASE WHEN {ok} THEN TRY_CAST({clean} AS DOUBLE) END", ok
        sql_type = field.duckdb_type
        cast = f"TRY_CAST({clean} AS {sql_type})"
        return f"CASE WHEN {ok} THEN {cast} END", f"({ok} AND {cast} IS NOT NULL)"
    if field.type == "boolean":
        low = f"lower({text})"
        trues = ", ".join(map(literal, field.descriptor.get("trueValues", TRUE_VALUES)))
        falses = ", ".join(map(literal, field.descriptor.get("falseValues", FALSE_VALUES)))
        expr = f"CASE WHEN {low} IN ({trues}) THEN true WHEN {low} IN ({falses}) THEN false END"
        return expr, f"({expr}) IS NOT NULL"
    if field.type in ("date", "datetime", "time"):
        fmt = field.descriptor.get("format", "default")
        if fmt not in ("default", "any") and "%" in fmt:
            expr = f"TRY_STRPTIME({text}, {literal(fmt)})::{field.duckdb_type}"
            if field.type in ("date", "datetime"):
                # An export that writes 6/20/2026 one week may write 2026-06-20 the next: the same day, in the one
                # form no reader can take for another (recorded: `iso-dates`).
                iso = Field(field.name, field.type, {k: v for k, v in field.descriptor.items() if k != "format"})
                expr = f"coalesce({expr}, {parse_sql(iso, text, let)[0]})"
        else:
            expr = f"TRY_CAST({text} AS {field.duckdb_type})"
            if field.type == "datetime":
                # DuckDB's cast reads "2025-01-01 2:04 PM" as 02:04 and drops any text after the time (a zone, an
                # offset): only an ISO date and time, nothing after it but a Z, is cast.
                expr = f"CASE WHEN regexp_full_match({text}, {literal(ISO_DATETIME)}) THEN {expr} END"
            if fmt == "any" and field.type in TWELVE_HOUR:
                # Exports drift between 21:00:00 and 9:00 p.m. from one week to the next: one instant, one value.
                clock = let(f"replace(upper({text}), '.', '')")
                forms = ", ".join(f"TRY_STRPTIME({clock}, {literal(f)})::{field.duckdb_type}" for f in TWELVE_HOUR[field.type])
                expr = f"coalesce({expr}, {forms})"
            if field.type == "date":
                # DuckDB casts "2026-06-01 10:00" to the date 2026-06-01: the time would be lost without a word.
                # A date field takes a date, or a timestamp at midnight (as databases export dates).
                stamp = let(f"TRY_CAST({text} AS TIMESTAMP)")
                day = let(expr)
                expr = f"CASE WHEN {stamp} IS NULL OR {stamp} = {day}::TIMESTAMP THEN {day} END"
        return expr, f"({expr}) IS NOT NULL"
    return text, "true"


def missing_markers(field: Field, declared: list[str]) -> list[str]:
    """The markers read as missing in `field`: its own `missingValues` (Table Schema v2) if it has them, else the
    dataset's, so "None reported" can be missing for an age without blanking it in a weapon column."""
    own = field.descriptor.get("missingValues")
    markers = list(own) if isinstance(own, list) else declared
    return list(dict.fromkeys(markers + ([] if field.type == "string" else list(KNOWN_MISSING))))


def _normalisation_sql(field: Field, column: str, markers: list[str], let: Let = _inline) -> list[tuple[str, str, str]]:
    """(kind, description, condition on the raw cell) for each fix the field's cells may need (`let` names the
    trimmed cell and whether it is present, which every condition reads)."""
    raw = ident(column)
    t = let(f"trim({raw})")
    present = let(f"{raw} IS NOT NULL AND {t} NOT IN ({', '.join(map(literal, markers))})" if markers
                  else f"{raw} IS NOT NULL")
    # Empty cells are missing by the Table Schema's own default: only other markers are a fix to record.
    named = [m for m in markers if m]
    fixes = [("missing-marker", "markers read as missing",
              f"{raw} IS NOT NULL AND {t} IN ({', '.join(map(literal, named))})")] if named else []
    fixes.append(("padding", "spaces around values trimmed", f"{present} AND {raw} <> {t}"))
    fixes.append(("invisible-characters", "invisible characters (zero-width spaces, byte-order marks, direction "
                  "marks, soft hyphens) removed", f"{raw} IS NOT NULL AND strlen({raw}) <> length({raw}) AND "
                  f"regexp_matches({raw}, {literal(INVISIBLE)})"))
    if field.type == "string":
        fixes.append(("unicode-normalisation", "text put in Unicode's composed form (NFC), so that an accented "
                      "letter written as two code points equals the same letter written as one",
                      f"{present} AND strlen({raw}) <> length({raw}) AND {t} <> nfc_normalize({t})"))
        return fixes
    if field.type in ("integer", "year", "number"):
        plain = NUMBER_PATTERN if field.type == "number" else INTEGER_PATTERN
        fixes.append(("footnote-marks", "footnote marks after numbers removed",
                      f"{present} AND NOT regexp_full_match({t}, {literal(plain)}) "
                      f"AND regexp_full_match({t}, {literal(FOOTNOTE)})"))
    if field.type in ("integer", "number"):
        fixes.append((THOUSANDS, f"thousands separators ({field.group_char!r}) removed",
                      f"{present} AND contains({t}, {literal(field.group_char)})"))
    if field.type == "integer":
        fixes.append(("whole-number-decimals", "whole numbers written with decimals (1960.0) read as integers",
                      f"{present} AND regexp_matches({t}, '\\.0+[^0-9]*$')"))
        fixes.append(("scientific-notation", "whole numbers written in scientific notation (5e+05) read as integers",
                      f"{present} AND regexp_full_match({t}, {literal(SCIENTIFIC)})"))
    fmt = field.descriptor.get("format", "default")
    if field.type in ("date", "datetime") and fmt not in ("default", "any") and "%" in fmt:
        fixes.append(("iso-dates", f"dates written in ISO form (2026-06-20) beside the declared form {fmt} read as "
                      "the same dates", f"{present} AND TRY_STRPTIME({t}, {literal(fmt)}) IS NULL AND "
                      f"regexp_matches({t}, '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}')"))
    if field.type in TWELVE_HOUR and field.descriptor.get("format") == "any":
        fixes.append(("twelve-hour-times", "times written on the 12-hour clock (9:00 p.m.) read as 24-hour times "
                      "(21:00:00)", f"{present} AND regexp_matches(upper({t}), '[AP]\\.?M\\.?$')"))
    if field.type == "number" and field.descriptor.get("bareNumber") is False:
        fixes.append(("number-signs", "percent and currency signs around numbers dropped (the field's bareNumber: "
                      "false)", f"{present} AND regexp_matches({t}, '%$|^[+-]?[$€£¥]')"))
    return fixes


def count_normalisations(con: duckdb.DuckDBPyConnection, raw: str, dataset: Dataset, mapping: dict[str, str],
                         elsewhere: dict[tuple[str, str], tuple[int, str | None]] | None = None) -> list[Normalisation]:
    """Every fix applied to the file's cells, counted per column, with an example: one pass over the table.
    `mapping` names the column of each field read as text (a field it leaves out has no text to fix); `elsewhere`
    adds (count, example) of a fix (kind, column) counted in rows outside `raw`."""
    checks, steps = [], Steps()
    for field in dataset.fields:
        column = mapping.get(field.name)
        if column is None:
            continue
        markers = missing_markers(field, dataset.missing_values)
        for kind, description, condition in _normalisation_sql(field, column, markers, steps.let):
            checks.append((kind, description, column, condition))
    if not checks:
        return []
    # count_if and CASE, not FILTER clauses: DuckDB plans a hundred of these in a third of the time.
    parts = [f"count_if({c}), min(CASE WHEN {c} THEN {ident(col)} END)" for _, _, col, c in checks]
    values = con.execute(f"SELECT {', '.join(parts)} FROM {steps.over(raw)}").fetchall()[0]
    out = []
    for i, (kind, description, column, _) in enumerate(checks):
        count, example = values[2 * i], values[2 * i + 1]
        more, other = (elsewhere or {}).get((kind, column), (0, None))
        count = (count or 0) + more  # count_if over no odd rows is NULL
        example = min((e for e in (example, other) if e is not None), default=None)
        if count:
            out.append(Normalisation(kind, description, column, count, example))
    return out


def _field_sql(field: Field, column: str, missing: list[str], let: Let = _inline,
               unless: str | None = None) -> tuple[str, str]:
    """(typed value, bad-cell flag) for one field read from file column `column`, its steps named by `let`.
    With `unless` (a cell that is plain), such a cell is not cleaned at all: its value and flag are then NULL, and
    its plain value is the one to use."""
    raw = ident(column)
    # Text is trimmed, rid of invisible characters and composed (NFC) too: "Baltimore " and "Baltimore", "East\u200bern"
    # and "Eastern", or an accent written as one code point or two, are one value to a reader, so they are one value
    # to keys, diffs and checks. Each fix is recorded.
    visible = f"trim(regexp_replace({raw}, {literal(INVISIBLE)}, '', 'g'))"
    visible = let(f"CASE WHEN NOT coalesce({unless}, false) THEN {visible} END" if unless else visible)
    text = visible if field.type != "string" else let(f"nfc_normalize({visible})")
    is_missing = f"({raw} IS NULL OR {visible} IN ({', '.join(map(literal, missing))}))" if missing else f"({raw} IS NULL)"
    typed, ok = parse_sql(field, text, let)
    value = f"CASE WHEN {is_missing} THEN NULL ELSE {typed} END"
    bad = f"(NOT {is_missing} AND NOT coalesce({ok}, false))"
    return value, bad


def _plain_sql(field: Field, column: str, missing: list[str], let: Let = _inline) -> tuple[str, str] | None:
    """(is-plain condition, typed value) for a cell read as it is: empty, or in its type's canonical form with
    no padding and not a missing marker. None when the field has no such form (every cell is cleaned). `let` names
    a date's or a time's parse, which both the condition and the value read."""
    raw = ident(column)
    # Testing the ends for a space is far cheaper than trimming. DuckDB's trim() also removes the other Unicode
    # spaces (a no-break space), which this test misses; but a cell ending in one is no plain cell anyway: it is
    # not ASCII (text), and fails its pattern or cast (numbers, dates, times, true/false).
    unpadded = f"NOT (prefix({raw}, ' ') OR suffix({raw}, ' '))"
    if field.type == "string":
        # Plain text is unpadded and ASCII (as bytes as characters): it needs no trimming or composing.
        condition = f"{unpadded} AND strlen({raw}) = length({raw})"
        if missing:
            condition += f" AND {raw} NOT IN ({', '.join(map(literal, missing))})"
        return f"({raw} IS NULL OR ({condition}))", raw
    if field.type in ("integer", "year"):
        pattern = PLAIN_INTEGER[field.duckdb_type]
    elif field.type == "number" and field.decimal_char == ".":
        pattern = NUMBER_PATTERN
    else:
        pattern = None
    if pattern is not None:
        markers = [m for m in missing if re.fullmatch(pattern, m)]  # a declared marker such as "-1"
        condition = f"regexp_full_match({raw}, {literal(pattern)})"
        if markers:
            condition += f" AND {raw} NOT IN ({', '.join(map(literal, markers))})"
        return f"({raw} IS NULL OR ({condition}))", f"TRY_CAST({raw} AS {field.duckdb_type})"
    if field.type in ("date", "datetime", "time", "boolean"):
        # A time on the 12-hour clock is read too (`format: any`), but it is no plain cell: it is a fix to record.
        fmt = str(field.descriptor.get("format", "default"))
        if "%" in fmt:  # in the declared form; another (an ISO date) is a fix to record, as above
            typed = let(f"TRY_STRPTIME({raw}, {literal(fmt)})::{field.duckdb_type}")
        else:
            typed = let(parse_sql(Field(field.name, field.type, {}) if fmt == "any" else field, raw)[0])
        condition = f"{unpadded} AND ({typed}) IS NOT NULL"
        if missing:
            condition += f" AND {raw} NOT IN ({', '.join(map(literal, missing))})"
        return f"({raw} IS NULL OR ({condition}))", typed
    return None


def _grouped_sql(field: Field, column: str, missing: list[str]) -> tuple[str, str] | None:
    """(condition, typed value) for a cell whose one fix is its thousands separators ("12,430": unpadded, digits
    grouped by three, nothing else to clean), read by dropping them. Spreadsheet exports write every count so; the
    full clean-up chain is a dozen expressions per cell, and made such a file 2.3x slower to read than a plain one.
    None for a field whose numbers are never grouped this way."""
    if field.type == "integer":
        # Up to 18 digits, as a plain BIGINT cell (9 for INTEGER): any of them fits the type.
        groups = 5 if field.duckdb_type == "BIGINT" else 2
        pattern = f"[+-]?[0-9]{{1,3}}({re.escape(field.group_char)}[0-9]{{3}}){{1,{groups}}}"
    elif field.type == "number" and field.decimal_char == ".":
        pattern = f"[+-]?[0-9]{{1,3}}({re.escape(field.group_char)}[0-9]{{3}})+(\\.[0-9]+)?"
    else:
        return None
    raw = ident(column)
    match = f"regexp_full_match({raw}, {literal(pattern)})"
    markers = [m for m in missing if re.fullmatch(pattern, m)]
    if markers:
        match += f" AND {raw} NOT IN ({', '.join(map(literal, markers))})"
    # A CASE, not an AND: DuckDB evaluates both sides of an AND on every row, and only a CASE's selected rows
    # reach the pattern (a plain file pays for the `contains` alone).
    condition = f"CASE WHEN contains({raw}, {literal(field.group_char)}) THEN {match} ELSE false END"
    cast = "DOUBLE" if field.type == "number" else field.duckdb_type
    return condition, f"TRY_CAST(replace({raw}, {literal(field.group_char)}, '') AS {cast})"


def cast_to_schema(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, mapping: dict[str, str], raw: str, typed: str, source: Path,
    numbered_from: int | None = None,
) -> list[Normalisation]:
    """Create `typed` from the text table `raw` (as `read_raw` leaves it), reading each field of `dataset` from
    its column in `mapping` (audit.ingest.columns); return what was normalised in the cells. Raise InputError at
    the first bad cell. With `numbered_from`, `raw` has no row numbers (ROW_COLUMN): its rows are numbered in order
    from that number."""
    values, flags, plains, steps = [], [], [], Steps()
    grouped: dict[str, str] = {}      # column -> whether a cell is only grouped, as a step
    conditions: dict[str, str] = {}   # ... and as an expression over the text
    for field in dataset.fields:
        column = mapping[field.name]
        markers = missing_markers(field, dataset.missing_values)
        plain = _plain_sql(field, column, markers, steps.let)
        grouping = _grouped_sql(field, column, markers) if plain else None
        if plain and grouping:
            # A cell with only its separators to drop is read as directly as a plain one (its fix counted below).
            grouped[column], conditions[column] = steps.let(grouping[0]), grouping[0]
            # Plain cells have no separator: a cell with one is tested against the grouped form alone.
            plain = (f"CASE WHEN contains({ident(column)}, {literal(field.group_char)}) THEN {grouped[column]} "
                     f"ELSE {plain[0]} END",
                     f"CASE WHEN contains({ident(column)}, {literal(field.group_char)}) THEN {grouping[1]} "
                     f"ELSE {plain[1]} END")
        # Whether the cell is plain, computed once a row: the odd-row flag, the clean-up's guard and the value read it.
        is_plain = steps.let(f"coalesce({plain[0]}, false)") if plain else "false"
        # A plain cell is never cleaned up (its steps are NULL, cheaply): it is read by its plain value.
        value, bad = _field_sql(field, column, markers, steps.let, is_plain if plain else None)
        values.append(f"CASE WHEN {is_plain} THEN {plain[1]} ELSE {value} END" if plain else value)
        flags.append(bad)
        plains.append(is_plain)

    # One pass types every row, marks those with a cell that is neither plain nor only grouped (the only ones that
    # can be bad or need a fix other than the separators) and keeps their text, and marks the cells only grouped:
    # what follows reads the typed table, never the text again. So the text need not be a table at all: it can be
    # the file itself, read once (audit.ingest.read.RawTable.direct).
    odd_flag, number, text = (f"__audit_{what}_{steps.token}" for what in ("odd", "row", "text"))
    columns = list(dict.fromkeys(mapping[f.name] for f in dataset.fields))
    marks = {column: f"__audit_grouped_{i}_{steps.token}" for i, column in enumerate(grouped)}
    all_plain = " AND ".join(plains) or "true"
    numbering = f", {ROW_COLUMN} AS {ident(number)}" if numbered_from is None else ""
    con.execute(f"CREATE TABLE {ident(typed)} AS SELECT "
                f"{', '.join(f'{v} AS {ident(f.name)}' for v, f in zip(values, dataset.fields))}, "
                f"NOT ({all_plain}) AS {ident(odd_flag)}{numbering}, "
                f"CASE WHEN NOT ({all_plain}) THEN [{', '.join(map(ident, columns))}]::VARCHAR[] END AS {ident(text)}"
                f"{''.join(f', {c} AS {ident(m)}' for c, m in zip(grouped.values(), marks.values()))} "
                f"FROM {steps.over(raw)}")
    odd = f"{typed}__odd_rows"
    row = ident(number) if numbered_from is None else f"rowid + {numbered_from}"
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {ident(odd)} AS SELECT {row} AS {ROW_COLUMN}, "
                    f"{', '.join(f'{ident(text)}[{i + 1}] AS {ident(c)}' for i, c in enumerate(columns))} "
                    f"FROM {ident(typed)} WHERE {ident(odd_flag)}")
        _refuse_bad_cells(con, dataset, mapping, steps.over(odd), flags, source)
        counts = [f"coalesce(count_if({c}), 0)" for c in conditions.values()]
        in_odd_rows = one_row(con, f"SELECT {', '.join(counts)} FROM {ident(odd)}") if counts else ()
        normalisations = count_normalisations(con, odd, dataset, mapping,
                                              _grouped_elsewhere(con, raw, typed, marks, conditions, in_odd_rows))
    except BaseException:
        con.execute(f"DROP TABLE IF EXISTS {ident(typed)}")  # nothing typed is left of a file refused
        raise
    finally:
        con.execute(f"DROP TABLE IF EXISTS {ident(odd)}")
    for helper in (odd_flag, *([number] if numbered_from is None else []), text, *marks.values()):
        con.execute(f"ALTER TABLE {ident(typed)} DROP COLUMN {ident(helper)}")  # without rewriting the others
    return normalisations


def _grouped_elsewhere(con: duckdb.DuckDBPyConnection, raw: str, typed: str, marks: dict[str, str],
                       conditions: dict[str, str], in_odd_rows: tuple) -> dict[tuple[str, str], tuple[int, str | None]]:
    """(THOUSANDS, column) -> (count, example) of the cells only grouped outside the odd rows (which
    count_normalisations counts itself): all of them (marked in `typed` by `marks`; `conditions` tells them in the
    text) less those in odd rows, whose counts are `in_odd_rows`. Only a file with such cells is read again, for
    their examples."""
    if not marks:
        return {}
    totals = one_row(con, f"SELECT {', '.join(f'coalesce(count_if({ident(m)}), 0)' for m in marks.values())} "
                          f"FROM {ident(typed)}")
    found = [column for column, total in zip(marks, totals) if total]
    examples = dict(zip(found, one_row(con, "SELECT " + ", ".join(
        f"min(CASE WHEN {conditions[c]} THEN {ident(c)} END)" for c in found) + f" FROM {ident(raw)}")
        if found else ()))
    return {(THOUSANDS, column): (total - in_odd_rows[i], examples.get(column))
            for i, (column, total) in enumerate(zip(marks, totals))}


def _refuse_bad_cells(con: duckdb.DuckDBPyConnection, dataset: Dataset, mapping: dict[str, str], rows: str,
                      flags: list[str], source: Path) -> None:
    """Raise InputError naming the first cell among `rows` (a table or subquery) that does not parse (and how many
    rows have one)."""
    any_bad = " OR ".join(flags)
    first = con.execute(
        f"SELECT {ROW_COLUMN}, {', '.join(flags)} FROM {rows} WHERE {any_bad} ORDER BY {ROW_COLUMN} LIMIT 1"
    ).fetchone()
    if first is None:
        return
    row, *bad_flags = first
    field = dataset.fields[bad_flags.index(True)]
    column = mapping[field.name]
    (value,) = one_row(con, f"SELECT {ident(column)} FROM {rows} WHERE {ROW_COLUMN} = ?", [row])
    (total,) = one_row(con, f"SELECT count(*) FROM {rows} WHERE {any_bad}")
    more = f" ({total - 1} more row(s) have cells that do not parse)" if total > 1 else ""
    grouping = ""
    number = re.sub(FOOTNOTE, r"\1", (value or "").strip())
    if field.type in ("integer", "number") and field.group_char in number and not re.fullmatch(
            grouped_pattern(field), number) and re.fullmatch(r"[+-]?[0-9.,' ]+", number):
        grouping = f" (its separators {field.group_char!r} do not group the digits by three)"  # the only fault
    raise InputError(
        f"{clip(value)!r} is not a valid {field.type} for field {field.name!r}{grouping}{more}",
        file=str(source),
        row=row,
        column=column,
        value=clip(value),
    )
