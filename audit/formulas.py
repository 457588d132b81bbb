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


def formula_start_sql(value_sql: str) -> str:
    """SQL: `value_sql` starts like a formula. prefix() tests go first: they are far cheaper than the regex
    (DuckDB evaluates the regex only on the rows they let through)."""
    first = " OR ".join(f"prefix({value_sql}, chr({ord(c)}))" for c in FIRST_CHARACTERS)
    return (f"(({first}) AND regexp_matches({value_sql}, {literal(FORMULA_START)}) "
            f"AND NOT regexp_full_match({value_sql}, {literal(NUMERIC_TEXT)}))")


def spreadsheet_safe(text: str) -> str:
    return "'" + text if re.match(FORMULA_START, text) and not re.fullmatch(NUMERIC_TEXT, text) else text


def spreadsheet_safe_sql(value_sql: str) -> str:
    quote = literal("'")
    return f"CASE WHEN {formula_start_sql(value_sql)} THEN {quote} || {value_sql} ELSE {value_sql} END"
