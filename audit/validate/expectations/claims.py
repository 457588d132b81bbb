"""Published claims: a statement from a report or press release, recomputed from the data.

A claim is a computation over sums of columns on the rows a filter (`where`)
selects, compared with the value the statement gives, at the precision it gives
it: "2,027.01" is supported by anything within 0.005, "33 percent" within 0.5.

    value           sum(column) on `where`
    rate            sum(count) / sum(population) x per on `where`
    difference      sum(column) on `to` minus on `from`
    percent_change  that difference as a percent of sum(column) on `from`
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional, Tuple

from audit.findings import WARNING, Code
from audit.sql import ident, value
from audit.validate.expectations.base import FAILING_ROWS, Label, RowCheckExpectation


def where_sql(where: dict[str, Any] | None) -> str:
    """A filter on columns: {year: 2019} or {year: [2018, 2019]}; none means every row."""
    terms = []
    for column, wanted in (where or {}).items():
        if isinstance(wanted, list):
            terms.append(f"{ident(column)} IN ({', '.join(value(v) for v in wanted)})")
        else:
            terms.append(f"{ident(column)} = {value(wanted)}")
    return " AND ".join(terms) or "TRUE"


def _sum(column: str, where: dict | None) -> str:
    return f"sum({ident(column)}) FILTER (WHERE {where_sql(where)})"


def computation_sql(kind: str, spec: dict[str, Any]) -> str:
    if kind == "value":
        return f"({_sum(spec['column'], spec.get('where'))})::DOUBLE"
    if kind == "rate":
        where = spec.get("where")
        return (f"({_sum(spec['count'], where)})::DOUBLE / NULLIF({_sum(spec['population'], where)}, 0) "
                f"* {float(spec.get('per', 100_000))!r}")
    before, after = _sum(spec["column"], spec["from"]), _sum(spec["column"], spec["to"])
    if kind == "difference":
        return f"(({after}) - ({before}))::DOUBLE"
    return f"(({after}) - ({before}))::DOUBLE / NULLIF({before}, 0) * 100"


class ExpectClaimToBeSupported(RowCheckExpectation):
    """One published claim (see `audit.claims` for the file it comes from)."""

    claim_id: str
    statement: str
    stated: float
    tolerance: float
    kind: str
    spec: dict
    source: Optional[str] = None
    success_keys: ClassVar[Tuple[str, ...]] = ("claim_id", "statement", "stated", "tolerance", "kind", "spec", "source")
    check: ClassVar[str] = Code.CLAIM
    default_severity: ClassVar[str] = WARNING

    def read_columns(self) -> list[str]:
        names = [self.spec.get(k) for k in ("column", "count", "population")]
        return [n for n in names if n]

    def finding_key(self, row: dict[str, Any], primary_key: list[str]) -> dict[str, Any]:
        return {"claim": self.claim_id}

    def failing_rows_query(self) -> str:
        # One row for the claim, supported or not, so that both are reported.
        return (
            f"SELECT {self.stated!r}::DOUBLE AS __expected, {computation_sql(self.kind, self.spec)} AS __observed "
            f"FROM {{batch}}"
        )

    def keep(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in rows if not self.supported(r["__observed"])]

    def supported(self, computed: Optional[float]) -> bool:
        return computed is not None and abs(computed - self.stated) <= self.tolerance + 1e-9 * abs(self.stated)

    def _validate(self, metrics: dict, runtime_configuration: Optional[dict] = None, execution_engine=None):
        rows = [dict(r) for r in metrics[FAILING_ROWS]]
        computed = rows[0]["__observed"] if rows else None
        supported = self.supported(computed)
        claim = {
            "id": self.claim_id, "statement": self.statement, "source": self.source, "stated": self.stated,
            "computed": computed, "tolerance": self.tolerance, "supported": supported,
        }
        return {
            "success": supported,
            "result": {"observed_value": computed, "details": {"failing_rows": [] if supported else rows, "claim": claim}},
        }

    def explain(self, row: dict[str, Any], label: Label) -> str:
        computed = row["__observed"]
        if computed is None:
            return Code.CLAIM.say("rows missing", statement=self.statement)
        return Code.CLAIM.say(stated=shown(self.stated, self.tolerance), computed=shown(computed, self.tolerance),
                              statement=self.statement)


def shown(figure: float, tolerance: float) -> str:
    """A figure at the precision a claim was stated with (at least 2 decimals for a computed rate)."""
    return f"{figure:,.{_decimals(tolerance)}f}"


def _decimals(tolerance: float) -> int:
    """0.005 -> 2: the decimals a value stated to that half-unit tolerance was given with."""
    digits = 0
    while tolerance < 0.5 and digits < 9:
        tolerance *= 10
        digits += 1
    return digits
