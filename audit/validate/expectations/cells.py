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
