"""Checks on single text cells."""

from __future__ import annotations

from typing import Any, ClassVar, Tuple

from audit.findings import WARNING
from audit.formulas import FORMULA_START
from audit.sql import ident, literal
from audit.validate.expectations.base import Label, RowCheckExpectation


class ExpectColumnValuesToBeSafeInSpreadsheets(RowCheckExpectation):
    """Text in `column` does not start like a formula (see audit.formulas). Such a cell in a published CSV
    runs as a formula when a reader opens it in a spreadsheet (CSV injection); `audit publish` neutralises
    it with a leading single quote, and this finding says so. Added for every text field."""

    column: str
    success_keys: ClassVar[Tuple[str, ...]] = ("column",)
    check: ClassVar[str] = "formula-injection"
    default_severity: ClassVar[str] = WARNING

    def failing_rows_query(self) -> str:
        c = ident(self.column)
        return (f"SELECT *, 'text that does not start with =, +, - or @' AS __expected, {c} AS __observed "
                f"FROM {{batch}} WHERE regexp_matches({c}, {literal(FORMULA_START)})")

    def explain(self, row: dict[str, Any], label: Label) -> str:
        return (f"{label(self.column)} {str(row['__observed'])[:60]!r} starts like a spreadsheet formula; "
                "it is published with a leading ' so that a spreadsheet shows it as text")


class ExpectPrimaryKeyToBeUnique(RowCheckExpectation):
    """No two rows share the values of `columns` (the dataset's primary key). One finding per repeated key,
    saying how often it occurs. Added for every dataset from its descriptor's primaryKey."""

    columns: list[str]
    success_keys: ClassVar[Tuple[str, ...]] = ("columns",)
    check: ClassVar[str] = "unique"

    def failing_rows_query(self) -> str:
        window = f"(PARTITION BY {', '.join(ident(c) for c in self.columns)})"
        # Rows with a missing key part are left to the not-null check.
        present = " AND ".join(f"{ident(c)} IS NOT NULL" for c in self.columns)
        return (f"SELECT *, 1 AS __expected, count(*) OVER {window} AS __observed FROM {{batch}} WHERE {present} "
                f"QUALIFY count(*) OVER {window} > 1 AND row_number() OVER {window} = 1")

    def read_columns(self) -> list[str]:
        return list(self.columns)

    def explain(self, row: dict[str, Any], label: Label) -> str:
        key = ", ".join(f"{label(c)} {row[c]}" for c in self.columns)
        return f"{key} occurs {row['__observed']} times, but a row's key must be unique"
