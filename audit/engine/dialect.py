"""Our checks' SQL in Spark's dialect: each expectation is written once, in DuckDB's SQL, and translated here.

sqlglot translates the dialect (identifier quoting, most functions); the few DuckDB constructs it leaves as they
are, or translates into something Spark reads differently, are rewritten first, portably, each for a reason:

    prefix(x, y) / suffix(x, y)   -> starts_with / ends_with   (sqlglot keeps DuckDB's names, Spark has none)
    regexp_full_match(x, p)       -> regexp_matches(x, '^(?:' || p || ')$')   (a full match, as a search)

The `{batch}` placeholder survives translation as an identifier and is put back after.
"""

from __future__ import annotations

import re

BATCH = "__audit_batch__"
REWRITES = (
    (re.compile(r"\bprefix\("), "starts_with("),
    (re.compile(r"\bsuffix\("), "ends_with("),
)


def _full_match(query: str) -> str:
    """regexp_full_match(x, 'p') -> regexp_matches(x, '^(?:p)$'), for the literal patterns our checks write."""
    return re.sub(r"regexp_full_match\((.+?), '((?:[^']|'')*)'\)",
                  lambda m: f"regexp_matches({m.group(1)}, '^(?:{m.group(2)})$')", query)


def spark_sql(query: str) -> str:
    """`query` (DuckDB's dialect, with `{batch}`) in Spark SQL's, with `{batch}` kept for GX to fill."""
    import sqlglot

    text = _full_match(query.replace("{batch}", BATCH))
    for pattern, replacement in REWRITES:
        text = pattern.sub(replacement, text)
    translated = sqlglot.transpile(text, read="duckdb", write="spark")[0]
    return translated.replace(f"`{BATCH}`", "{batch}").replace(BATCH, "{batch}")
