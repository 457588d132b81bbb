"""Checks on single text cells."""

from __future__ import annotations

from typing import Any, ClassVar, Optional, Tuple

from audit.findings import WARNING, Code
from audit.sql import ident, literal
from audit.sql import value as sql_value
from audit.validate.expectations.base import Label, RowCheckExpectation
from audit.validate.keys import fold_sql, joined_sql


def folded_key_sql(columns: list[str], text: list[str]) -> str:
    """The key of `columns` as one text, its `text` columns folded (`fold_sql`) and the others as they print."""
    return joined_sql([fold_sql(ident(c)) if c in text else f"{ident(c)}::VARCHAR" for c in columns])


class ExpectColumnValuesToBeSafeInSpreadsheets(RowCheckExpectation):
    """Text in `column` does not start like a formula (see audit.formulas). Such a cell in a published CSV
    runs as a formula when a reader opens it in a spreadsheet (CSV injection); `audit publish` neutralises
    it with a leading single quote, and this finding says so. Added for every text field."""

    column: str
    success_keys: ClassVar[Tuple[str, ...]] = ("column",)
    check: ClassVar[str] = Code.FORMULA_INJECTION
    default_severity: ClassVar[str] = WARNING

    def failing_rows_query(self) -> str:
        return self.rows_failing(f"'text that does not start with =, +, - or @' AS __expected, "
                                 f"{ident(self.column)} AS __observed")

    def explain(self, row: dict[str, Any], label: Label) -> str:
        return Code.FORMULA_INJECTION.say(column=label(self.column), observed=str(row["__observed"])[:60])


class ExpectPrimaryKeyToBeUnique(RowCheckExpectation):
    """No two rows share the values of `columns` (the dataset's primary key). One finding per repeated key,
    saying how often it occurs. Added for every dataset from its descriptor's primaryKey."""

    columns: list[str]
    # Key parts that may be blank (a national row with no state): a blank is then one value of the key.
    blank_allowed: list[str] = []
    success_keys: ClassVar[Tuple[str, ...]] = ("columns", "blank_allowed")
    check: ClassVar[str] = Code.UNIQUE

    def repeated_key(self) -> list[str]:
        return list(self.columns)

    def failing_rows_query(self) -> str:
        # Rows with a missing key part are left to the not-null check. Counting keys by hash aggregate, then
        # picking one row per repeated key among the few that repeat, costs half a window over every row.
        present = " AND ".join([f"{ident(c)} IS NOT NULL" for c in self.columns if c not in self.blank_allowed]
                               or ["true"])
        keys = ", ".join(f"{ident(c)} AS __key{i}" for i, c in enumerate(self.columns))
        same = " AND ".join(f"b.{ident(c)} IS NOT DISTINCT FROM r.__key{i}" for i, c in enumerate(self.columns))
        # The batch is read twice rather than named once in a WITH: DuckDB materialises a WITH that two parts
        # read, every column of every row (3.4 s at ten million rows, against 1.1 s read twice).
        return (f"WITH r AS (SELECT {keys}, count(*) AS __observed FROM {{batch}} WHERE {present} GROUP BY ALL "
                f"HAVING count(*) > 1) "
                f"SELECT b.*, 1 AS __expected, r.__observed FROM (SELECT * FROM {{batch}} WHERE {present}) b "
                f"JOIN r ON {same} "
                # ORDER BY in the window: Spark requires one (any row of a repeated key is the one reported).
                f"QUALIFY row_number() OVER (PARTITION BY {', '.join(f'b.{ident(c)}' for c in self.columns)} "
                f"ORDER BY {', '.join(f'b.{ident(c)}' for c in self.columns)}) = 1 "
                # The repeated keys in order: as the hash join and the window give them, they came in another
                # order on each run, and a report listed the same findings differently.
                f"ORDER BY {', '.join(f'b.{ident(c)}' for c in self.columns)}")

    def read_columns(self) -> list[str]:
        return list(self.columns)

    def explain(self, row: dict[str, Any], label: Label) -> str:
        key = ", ".join(f"{label(c)} {row[c]}" for c in self.columns)
        return Code.UNIQUE.say(key=key, observed=row["__observed"])


class ExpectColumnValuesToBePresent(RowCheckExpectation):
    """No value of `column` is missing: one finding per row that lacks it, with the row's key. A suite's
    `expect_column_values_to_not_be_null` runs as this (GX's own reports the row without saying what is missing)."""

    column: str
    success_keys: ClassVar[Tuple[str, ...]] = ("column",)
    check: ClassVar[str] = Code.NOT_NULL

    def failing_rows_query(self) -> str:
        return self.rows_failing("'a value' AS __expected, NULL AS __observed")

    def explain(self, row: dict[str, Any], label: Label) -> str:
        return Code.NOT_NULL.say(column=label(self.column))


class ExpectKeyValuesNotToDifferOnlyInForm(RowCheckExpectation):
    """No two keys differ only in the case or spacing of their text (`Baltimore`, `BALTIMORE`, `Baltimore  City`
    against `Baltimore City`): to a reader they are one place, to a key two. One finding per group of such keys,
    naming every form. Added for every dataset whose primary key has a text field."""

    columns: list[str]
    text: list[str]          # the key's text fields, compared case- and spacing-blind
    success_keys: ClassVar[Tuple[str, ...]] = ("columns", "text")
    check: ClassVar[str] = Code.KEY_VARIANT

    def read_columns(self) -> list[str]:
        return list(self.columns)

    def repeated_key(self) -> list[str]:
        return list(self.columns)

    def failing_rows_query(self) -> str:
        folded = folded_key_sql(self.columns, self.text)
        given = joined_sql([f"{ident(c)}::VARCHAR" for c in self.columns])
        shown = f"concat_ws(' + ', {', '.join(f'{ident(c)}::VARCHAR' for c in self.columns)})"
        # The batch is read twice rather than named once in a WITH: DuckDB materialises a WITH that two parts
        # read, every column of every row (6 s at ten million rows, against 3 s read twice).
        return (  # min <> max finds the groups with two forms as cheaply as a count of distinct values could
                f"WITH v AS (SELECT {folded} AS __folded FROM {{batch}} GROUP BY {folded} "
                f"HAVING min({given}) <> max({given})), "
                f"r AS (SELECT b.* FROM (SELECT *, {folded} AS __folded, {given} AS __given FROM {{batch}}) b "
                f"JOIN v USING (__folded)), "
                # A sorted list of distinct forms, joined (string_agg DISTINCT ... ORDER BY breaks Spark's planner).
                f"g AS (SELECT __folded, array_to_string(list_sort(list_distinct(list({shown}))), '; ') AS __forms, "
                f"count(DISTINCT __given) AS __count FROM r GROUP BY __folded) "
                f"SELECT r.* EXCLUDE (__folded, __given), 'one form of each key' AS __expected, g.__forms AS __observed, "
                f"g.__count FROM r JOIN g USING (__folded) "
                f"QUALIFY row_number() OVER (PARTITION BY r.__folded ORDER BY r.__given) = 1 "
                # In order of the folded key: as the joins and the window give them, the order changed by run.
                f"ORDER BY r.__folded")

    def explain(self, row: dict[str, Any], label: Label) -> str:
        return Code.KEY_VARIANT.say(count=row["__count"], observed=row["__observed"],
                                    columns=" + ".join(label(c) for c in self.columns))


class ExpectColumnValuesToBeInRange(RowCheckExpectation):
    """Every present value of `column` lies between `min_value` and `max_value` (either may be omitted; `strict_min`
    and `strict_max` exclude the bound). A suite's `expect_column_values_to_be_between` runs as this: one query,
    one finding per row outside the range with the row's key, at DuckDB's speed."""

    column: str
    min_value: Optional[Any] = None
    max_value: Optional[Any] = None
    strict_min: bool = False
    strict_max: bool = False
    success_keys: ClassVar[Tuple[str, ...]] = ("column", "min_value", "max_value", "strict_min", "strict_max")
    check: ClassVar[str] = Code.IN_RANGE

    @staticmethod
    def _bounds(kwargs: dict[str, Any]) -> str:
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        low = "" if low is None else f"{'>' if kwargs.get('strict_min') else '>='} {sql_value(low)}"
        high = "" if high is None else f"{'<' if kwargs.get('strict_max') else '<='} {sql_value(high)}"
        return " and ".join(part for part in (low, high) if part) or "any value"

    def _range(self) -> str:
        return self._bounds({"min_value": self.min_value, "max_value": self.max_value,
                             "strict_min": self.strict_min, "strict_max": self.strict_max})

    @classmethod
    def _words(cls, kwargs: dict[str, Any]) -> tuple[str, dict[str, str]]:
        return f"Every present value of $column is {cls._bounds(kwargs).replace('$', '$$')}.", {
            "column": str(kwargs.get("column"))}

    def failing_rows_query(self) -> str:
        return self.rows_failing(f"{literal(self._range())} AS __expected, {ident(self.column)} AS __observed")

    def explain(self, row: dict[str, Any], label: Label) -> str:
        return Code.IN_RANGE.say(column=label(self.column), observed=row["__observed"], range=self._range())


class ExpectColumnValuesToBeInValueSet(RowCheckExpectation):
    """Every present value of `column` is one of `value_set`. A suite's `expect_column_values_to_be_in_set` runs as
    this: one finding per row with a value outside the set, with the row's key."""

    column: str
    value_set: list
    success_keys: ClassVar[Tuple[str, ...]] = ("column", "value_set")
    check: ClassVar[str] = Code.IN_SET

    def failing_rows_query(self) -> str:
        return self.rows_failing(f"'one of the {len(self.value_set)} listed values' AS __expected, "
                                 f"{ident(self.column)} AS __observed")

    def explain(self, row: dict[str, Any], label: Label) -> str:
        listed = ", ".join(map(str, self.value_set[:8])) + (", ..." if len(self.value_set) > 8 else "")
        return Code.IN_SET.say(column=label(self.column), observed=row["__observed"], listed=listed)


class ExpectColumnValuesToMatchPattern(RowCheckExpectation):
    """Every present value of `column` contains a match of the regular expression `regex` (as GX's
    `expect_column_values_to_match_regex` reads it, which runs as this; GX's own is not supported on DuckDB)."""

    column: str
    regex: str
    success_keys: ClassVar[Tuple[str, ...]] = ("column", "regex")
    check: ClassVar[str] = Code.PATTERN

    def failing_rows_query(self) -> str:
        return self.rows_failing(f"{literal(self.regex)} AS __expected, {ident(self.column)} AS __observed")

    def explain(self, row: dict[str, Any], label: Label) -> str:
        return Code.PATTERN.say(column=label(self.column), observed=str(row["__observed"])[:60], regex=self.regex)
