"""Our checks' SQL in Spark's dialect: each expectation is written once, in DuckDB's SQL, and translated here.

sqlglot translates the dialect (identifier quoting, most functions); the few DuckDB constructs it leaves as they
are, or translates into something Spark reads differently, are rewritten first, portably, each for a reason:

    prefix(x, y) / suffix(x, y)   -> starts_with / ends_with   (sqlglot keeps DuckDB's names, Spark has none)
    regexp_full_match(x, p)       -> regexp_matches(x, '^(?:' || p || ')$')   (a full match, as a search)
    hash(x)                       -> xxhash64(x)   (64 bits, as DuckDB's; Spark's HASH has 32)

The `{batch}` placeholder survives translation as an identifier and is put back after.

`lookups_apart` takes the subqueries of `x IN (SELECT ...)` out of a Spark query, for the engine to run first
(audit.engine.spark).
"""

from __future__ import annotations

import re
import uuid

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
    translated = sqlglot.parse_one(text, read="duckdb").transform(_wide_hash).sql(dialect="spark")
    return translated.replace(f"`{BATCH}`", "{batch}").replace(BATCH, "{batch}")


def _wide_hash(node):
    """DuckDB's hash() is 64 bits, Spark's HASH() 32 (murmur3): at ten million keys some 11,000 pairs share one, and
    the key checks' pass (audit.validate.keys) kept 22,000 rows of a release whose keys never repeat. Spark's
    xxhash64 keeps the width (a node of the parsed query, so a literal that reads "hash(" is left alone)."""
    from sqlglot import exp

    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "hash":
        return exp.Anonymous(this="xxhash64", expressions=node.expressions)
    return node


def lookups_apart(query: str) -> tuple[str, list[tuple[str, str]]]:
    """`query` (Spark SQL) with the subquery of each `x IN (SELECT ...)` read from a view instead: the query so
    written, and each view's name with the subquery it stands for. A subquery inside another is left in it."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(query, read="spark")
    lookups = []
    for node in list(tree.find_all(exp.In)):
        subquery = node.args.get("query")
        if subquery is None or node.find_ancestor(exp.Subquery) is not None:
            continue
        name = f"__audit_lookup_{uuid.uuid4().hex[:12]}"
        lookups.append((name, subquery.this.sql(dialect="spark")))
        subquery.set("this", sqlglot.parse_one(f"SELECT * FROM {name}", read="spark"))
    return tree.sql(dialect="spark"), lookups
