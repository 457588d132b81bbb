"""Type the text cells of an incoming file by the dataset's Table Schema, inside DuckDB.

Published tables are formatted for people: "12,430" is the integer 12430. Each
field becomes a SQL expression that parses its text strictly (a count of
"1960.5" or "12,43O" is an error, never rounded or dropped) and a flag that
marks a cell which is present but does not parse. The first such cell stops
ingest with an InputError naming file, row, column and value.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from audit.dataset import Dataset, Field, header_key
from audit.errors import InputError
from audit.sql import ident, literal

INTEGER_PATTERN = r"[+-]?[0-9]+"
NUMBER_PATTERN = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
TRUE_VALUES = ("true", "yes", "y", "t", "1")
FALSE_VALUES = ("false", "no", "n", "f", "0")


def match_columns(file_columns: list[str], dataset: Dataset, source: Path) -> dict[str, str]:
    """Map each schema field to the file column that holds it, or raise InputError."""
    by_key: dict[str, str] = {}
    for column in file_columns:
        by_key.setdefault(header_key(column), column)
    mapping: dict[str, str] = {}
    for field in dataset.fields:
        found = [by_key[k] for k in dict.fromkeys(header_key(n) for n in field.header_names) if k in by_key]
        if not found:
            raise InputError(
                f"no column for field {field.name!r} (looked for {', '.join(map(repr, field.header_names))}; "
                f"the file has {', '.join(map(repr, file_columns))})",
                file=str(source),
                row=1,
            )
        mapping[field.name] = found[0]
    extra = [c for c in file_columns if c not in mapping.values()]
    if extra:
        raise InputError(
            f"column(s) {', '.join(map(repr, extra))} are not in the dataset's schema; "
            "add them to the descriptor, or add the old name to a field's `aliases` if a column was renamed",
            file=str(source),
            row=1,
        )
    return mapping


def parse_sql(field: Field, text: str) -> tuple[str, str]:
    """(typed expression, is-valid expression) for one field's trimmed, non-missing text."""
    if field.type in ("integer", "year"):
        clean = f"replace({text}, {literal(field.group_char)}, '')" if field.type == "integer" else text
        ok = f"regexp_full_match({clean}, {literal(INTEGER_PATTERN)})"
        sql_type = field.duckdb_type
        return f"CASE WHEN {ok} THEN TRY_CAST({clean} AS {sql_type}) END", f"({ok} AND TRY_CAST({clean} AS {sql_type}) IS NOT NULL)"
    if field.type == "number":
        clean = f"replace({text}, {literal(field.group_char)}, '')"
        if field.decimal_char != ".":
            clean = f"replace({clean}, {literal(field.decimal_char)}, '.')"
        ok = f"regexp_full_match({clean}, {literal(NUMBER_PATTERN)})"
        return f"CASE WHEN {ok} THEN TRY_CAST({clean} AS DOUBLE) END", ok
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
        else:
            expr = f"TRY_CAST({text} AS {field.duckdb_type})"
        return expr, f"({expr}) IS NOT NULL"
    return text, "true"


def _field_sql(field: Field, column: str, missing: list[str]) -> tuple[str, str]:
    """(typed value, bad-cell flag) for one field read from file column `column`."""
    raw = ident(column)
    text = f"trim({raw})" if field.type != "string" else raw
    is_missing = f"({raw} IS NULL OR trim({raw}) IN ({', '.join(map(literal, missing))}))" if missing else f"({raw} IS NULL)"
    typed, ok = parse_sql(field, text)
    value = f"CASE WHEN {is_missing} THEN NULL ELSE {typed} END"
    bad = f"(NOT {is_missing} AND NOT coalesce({ok}, false))"
    return value, bad


def cast_to_schema(con: duckdb.DuckDBPyConnection, dataset: Dataset, raw: str, typed: str, source: Path) -> None:
    file_columns = [row[0] for row in con.execute(f"DESCRIBE {ident(raw)}").fetchall()]
    mapping = match_columns(file_columns, dataset, source)
    missing = dataset.missing_values
    values, flags = [], []
    for field in dataset.fields:
        value, bad = _field_sql(field, mapping[field.name], missing)
        values.append(f"{value} AS {ident(field.name)}")
        flags.append(bad)

    any_bad = " OR ".join(flags)
    first = con.execute(
        f"SELECT rowid, {', '.join(flags)} FROM {ident(raw)} WHERE {any_bad} ORDER BY rowid LIMIT 1"
    ).fetchone()
    if first is not None:
        rowid, *bad_flags = first
        field = dataset.fields[bad_flags.index(True)]
        column = mapping[field.name]
        (value,) = con.execute(
            f"SELECT {ident(column)} FROM {ident(raw)} WHERE rowid = ?", [rowid]
        ).fetchone()
        (total,) = con.execute(f"SELECT count(*) FROM {ident(raw)} WHERE {any_bad}").fetchone()
        more = f" ({total - 1} more row(s) have cells that do not parse)" if total > 1 else ""
        raise InputError(
            f"{value!r} is not a valid {field.type} for field {field.name!r}{more}",
            file=str(source),
            row=rowid + 2,
            column=column,
            value=value,
        )
    con.execute(
        f"CREATE TABLE {ident(typed)} AS SELECT {', '.join(values)} FROM {ident(raw)} ORDER BY rowid"
    )
