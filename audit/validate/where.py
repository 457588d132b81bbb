"""A `where` list, the rows an entry applies to (a suite entry's, a claim's, a reconciled figure's), as SQL: one
module that imports nothing heavy, so `audit init` builds its row groups before Great Expectations is loaded."""

from __future__ import annotations

from typing import Any

from audit.sql import ident
from audit.sql import value as sql_value

WHERE_TESTS = ("from", "to", "in", "not_in", "missing")


def where_columns(where: list[dict[str, Any]] | None) -> list[str]:
    return [c["column"] for c in where or [] if isinstance(c, dict) and isinstance(c.get("column"), str)]


def where_sql(where: list[dict[str, Any]]) -> str:
    """SQL for a `where` list: every clause holds. A clause names a column and one or more tests:
    `from` / `to` (inclusive bounds), `in` / `not_in` (lists of values), `missing` (true or false).
    A row whose column is missing fails `from`, `to` and `in` (it is in no range). Raises ValueError."""
    if not isinstance(where, list) or not where:
        raise ValueError("`where` is a list of clauses such as {\"column\": \"year\", \"from\": 2013}")
    parts = []
    for number, clause in enumerate(where, 1):
        if not isinstance(clause, dict) or not isinstance(clause.get("column"), str):
            raise ValueError(f"`where` clause {number} must name a column")
        unknown = sorted(set(clause) - {"column", *WHERE_TESTS})
        tests = [t for t in WHERE_TESTS if t in clause]
        if unknown or not tests:
            raise ValueError(f"`where` clause {number}: {'unknown test ' + repr(unknown[0]) if unknown else 'no test'}"
                             f" (tests: {', '.join(WHERE_TESTS)})")
        c = ident(clause["column"])
        for test in tests:
            value = clause[test]
            if test in ("from", "to"):
                if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                    raise ValueError(f"`where` clause {number}: {test!r} must be a number or a date")
                op = ">=" if test == "from" else "<="
                parts.append(f"({c} {op} {sql_value(value)})")
            elif test in ("in", "not_in"):
                plain = isinstance(value, list) and all(
                    isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value)
                if not value or not plain:
                    raise ValueError(f"`where` clause {number}: {test!r} must be a list of values")
                values = ", ".join(map(sql_value, value))
                parts.append(f"({c} IN ({values}))" if test == "in" else f"({c} IS NULL OR {c} NOT IN ({values}))")
            else:
                if not isinstance(value, bool):
                    raise ValueError(f"`where` clause {number}: 'missing' must be true or false")
                parts.append(f"({c} IS {'' if value else 'NOT '}NULL)")
    return " AND ".join(parts)
