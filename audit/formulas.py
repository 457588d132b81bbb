"""Text a spreadsheet would run as a formula (CSV injection), and how published files defuse it.

A cell starting with =, +, - or @ followed by something, or with a tab or carriage return
(OWASP's CSV injection list), runs as a formula when a reader opens the CSV in a spreadsheet.
Published files carry such text with a leading single quote, which spreadsheets show as text.
A lone "-" (a common "none") is harmless and left alone, and so is text that reads as a number or a
percentage (-5.1%, +12, -1,204): a spreadsheet reads it as that number, never as a formula.
"""

from __future__ import annotations

import re

from audit.sql import literal

FORMULA_START = r"^([=+\-@].|[\t\r])"
FIRST_CHARACTERS = "=+-@\t\r"
NUMERIC_TEXT = r"^[+-]?([0-9][0-9,]*(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?%?$"
# What publishing prefixes with one more ': text that starts like a formula after any quotes of its own, so that
# removing one ' from such a cell gives back exactly the text (audit.publish.readback).
QUOTED_FORMULA_START = r"^'*([=+\-@].|[\t\r])"
QUOTE = literal("'")


def formula_start_sql(value_sql: str, quoted: bool = False) -> str:
    """SQL: `value_sql` starts like a formula (with `quoted`, after any quotes of its own). prefix() tests go first:
    they are far cheaper than the regex (DuckDB evaluates the regex only on the rows they let through)."""
    first = " OR ".join(f"prefix({value_sql}, chr({ord(c)}))" for c in FIRST_CHARACTERS + ("'" if quoted else ""))
    pattern, bare = (QUOTED_FORMULA_START, f"ltrim({value_sql}, {QUOTE})") if quoted else (FORMULA_START, value_sql)
    return (f"(({first}) AND regexp_matches({value_sql}, {literal(pattern)}) "
            f"AND NOT regexp_full_match({bare}, {literal(NUMERIC_TEXT)}))")


def spreadsheet_safe(text: str) -> str:
    starts = re.match(QUOTED_FORMULA_START, text) and not re.fullmatch(NUMERIC_TEXT, text.lstrip("'"))
    return "'" + text if starts else text


def spreadsheet_safe_sql(value_sql: str) -> str:
    return f"CASE WHEN {formula_start_sql(value_sql, quoted=True)} THEN {QUOTE} || {value_sql} ELSE {value_sql} END"


def undefused_sql(value_sql: str) -> str:
    """SQL: a published text cell as it was before `spreadsheet_safe_sql` (the one leading ' it added removed)."""
    rest = f"substr({value_sql}, 2)"
    added = f"(prefix({value_sql}, {QUOTE}) AND {formula_start_sql(rest, quoted=True)})"
    return f"CASE WHEN {added} THEN {rest} ELSE {value_sql} END"
