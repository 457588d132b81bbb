"""Checks on incident-level data (one row per incident): when, where and what.

Each runs as one SQL query in DuckDB and returns only the failing incidents, so
millions of rows never leave the database.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional, Tuple

from audit.engine import Need
from audit.findings import Code
from audit.sql import ident, literal
from audit.validate.conditions import NOW
from audit.validate.expectations.base import Label, RowCheckExpectation

FUTURE = Code.FUTURE_DATE
BEFORE_START = Code.BEFORE_START


class ExpectDatesToBeWithinCoverage(RowCheckExpectation):
    """`column` (when the incident occurred) is not in the future nor before `start`.

    `start` is the first date the dataset declares it covers (ISO date); without it
    only the future is checked. "The future" is the moment of validation.
    """
    needs: ClassVar[frozenset[Need]] = frozenset({Need.ONE_CLOCK})

    column: str
    start: Optional[str] = None
    success_keys: ClassVar[Tuple[str, ...]] = ("column", "start")
    check: ClassVar[str] = FUTURE

    def _when(self) -> str:
        return f"CAST({ident(self.column)} AS TIMESTAMP)"

    def failing_rows_query(self) -> str:
        c, now = self._when(), NOW
        return self.rows_failing(
            f"CASE WHEN {c} > {now} THEN CAST({now} AS VARCHAR) ELSE {literal(self.start or '')} END AS __expected, "
            f"{ident(self.column)} AS __observed, "
            f"CASE WHEN {c} > {now} THEN '{FUTURE}' ELSE '{BEFORE_START}' END AS __check")

    def explain(self, row: dict[str, Any], label: Label) -> str:
        if row.get("__check") == BEFORE_START:
            return BEFORE_START.say(column=label(self.column), observed=row["__observed"], start=self.start)
        return FUTURE.say(column=label(self.column), observed=row["__observed"], now=str(row["__expected"])[:19])


class ExpectCoordinatesToBeInBoundingBox(RowCheckExpectation):
    """(`latitude`, `longitude`) lies inside `bbox` = [west, south, east, north] in degrees.

    Incidents without coordinates are not checked here (many are withheld or not
    geocoded; require them with a not-null expectation if they must be there).
    A point at (0, 0), the classic failed geocode, lies outside any city's box.
    """

    latitude: str
    longitude: str
    bbox: list[float]
    success_keys: ClassVar[Tuple[str, ...]] = ("latitude", "longitude", "bbox")
    check: ClassVar[str] = Code.OUT_OF_BOUNDS

    def read_columns(self) -> list[str]:
        return [self.latitude, self.longitude]

    def failing_rows_query(self) -> str:
        lat, lon = ident(self.latitude), ident(self.longitude)
        return self.rows_failing(f"{literal(str(self.bbox))} AS __expected, [{lat}, {lon}] AS __observed")

    def explain(self, row: dict[str, Any], label: Label) -> str:
        lat, lon = row["__observed"]
        west, south, east, north = self.bbox
        return Code.OUT_OF_BOUNDS.say(lat=lat, lon=lon, west=west, south=south, east=east, north=north)


class ExpectColumnValuesToHaveACategory(RowCheckExpectation):
    """Every value of `column` (an offence code) is mapped to a category in `mapping`.

    The mapping (code to category: homicide, rape, ...) is the descriptor's; counts
    by category, and so reconciliation with summary tables, depend on it being whole.
    """

    column: str
    mapping: dict[str, str]
    success_keys: ClassVar[Tuple[str, ...]] = ("column", "mapping")
    check: ClassVar[str] = Code.UNMAPPED_CODE

    def failing_rows_query(self) -> str:
        return self.rows_failing(f"'a code with a category' AS __expected, {ident(self.column)} AS __observed")

    def explain(self, row: dict[str, Any], label: Label) -> str:
        return Code.UNMAPPED_CODE.say(column=label(self.column), observed=row["__observed"])
