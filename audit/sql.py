"""Quoting for the SQL we build: every identifier and literal from a descriptor or path goes through here."""

from __future__ import annotations


def ident(name: str) -> str:
    """A quoted SQL identifier; an embedded double quote is doubled."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A quoted SQL string literal; an embedded single quote is doubled."""
    return "'" + text.replace("'", "''") + "'"


def value(v: object) -> str:
    """A SQL literal for a scalar from a YAML file: numbers as numbers, text quoted."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        return repr(v)
    return literal(str(v))


# Periods an incident date is counted by (reconciliation, reclassification summaries).
GRAINS = ("year", "quarter", "month", "week", "day")


def period_sql(column: str, grain: str) -> str:
    """An incident date's period: the year as an integer, or the first day of the quarter/month/week/day."""
    if grain == "year":
        return f"year({column})"
    return f"CAST(date_trunc({literal(grain)}, {column}) AS DATE)"
