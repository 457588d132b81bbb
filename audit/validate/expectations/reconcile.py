"""Reconciliation: incidents counted by period x category (x district) equal the summary table.

Runs on the incident batch with the summary release in the same DuckDB
connection (`summary_table`). Categories come from the incident descriptor's
mapping (offence code to category); `counts` says which categories each summary
figure counts, so a summary's totals reconcile too (violent = four categories).
The summary is either wide (one column per figure, `counts` keys are column
names) or long (`summary_category` holds the figure's name, `summary_count` its value).
Only periods present in both tables are compared; two tables that share no period are one finding (nothing
was compared), never a pass.
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, Optional, Tuple, Union

from audit.findings import Code
from audit.sql import ident, literal, period_sql
from audit.validate.expectations.base import Label, RowCheckExpectation
from audit.validate.where import where_columns, where_sql

NO_PERIOD = "(no period in common)"
UNREADABLE = "(a period that is no date)"


def _values(rows: list[tuple[str, str]], names: str) -> str:
    body = ", ".join(f"({literal(a)}, {literal(b)})" for a, b in rows) or "(NULL, NULL)"
    return f"(VALUES {body}) AS {names}"


class ExpectIncidentCountsToMatchSummary(RowCheckExpectation):
    summary_table: str
    summary_dataset: str
    period: str
    grain: str = "year"
    # The summary's period: a field holding a year, month ... (by `grain`), or a range of dates of its own,
    # {start: field, end: field} or {field: name, format: "%m/%d"} for text such as "5/26-6/8" (see _ranges).
    summary_period: Union[str, Dict[str, str]]
    category: str
    mapping: dict[str, str]
    counts: dict[str, list[str]]
    # A figure that counts only some incidents of its categories (shootings: those with a firearm): its `where`.
    conditions: dict[str, list[dict[str, Any]]] = {}
    by: dict[str, str] = {}
    summary_category: Optional[str] = None
    summary_count: Optional[str] = None
    success_keys: ClassVar[Tuple[str, ...]] = (
        "summary_table", "summary_dataset", "period", "grain", "summary_period", "category", "mapping", "counts",
        "conditions", "by", "summary_category", "summary_count",
    )
    check: ClassVar[str] = Code.RECONCILIATION

    def read_columns(self) -> list[str]:
        return [self.period, self.category, *self.by,
                *(c for where in self.conditions.values() for c in where_columns(where))]

    def _incidents(self) -> str:
        """The incident batch, with whether each figure that counts only some incidents counts each row."""
        if not self.conditions:
            return "{batch}"
        flags = ", ".join(f"({where_sql(where)}) AS __counted_{n}" for n, where in enumerate(self.conditions.values()))
        return f"(SELECT *, {flags} FROM {{batch}})"

    def _counted(self) -> str:
        """SQL over `b` (an incident) and `c` (a figure of its category): whether the figure counts it."""
        if not self.conditions:
            return "true"
        cases = " ".join(f"WHEN {literal(name)} THEN coalesce(b.__counted_{n}, false)"
                         for n, name in enumerate(self.conditions))
        return f"CASE c.name {cases} ELSE true END"

    @property
    def _long_form(self) -> tuple[str, str] | None:
        """The summary's name and value columns (quoted) when it is long: one row per figure, not one column."""
        if not self.summary_category:
            return None
        # audit.validate.reconcile requires summary_count with summary_category.
        return ident(self.summary_category), ident(self.summary_count or "")

    @property
    def _period_name(self) -> str:
        sp = self.summary_period
        return sp if isinstance(sp, str) else sp.get("field") or sp["start"]

    def _ranges(self) -> str:
        """SQL over the summary table: each row's period label, first and last day. A text range without a year
        ("5/26-6/8", as weekly tables print it) is placed in the year of the latest incident; a range whose
        start falls after its end crosses the new year, and starts the year before."""
        sp, table = self.summary_period, ident(self.summary_table)
        assert isinstance(sp, dict), "a range of the summary's own (failing_rows_query sends a field elsewhere)"
        if "start" in sp:
            label = f"CAST({ident(sp['start'])} AS VARCHAR) || ' to ' || CAST({ident(sp['end'])} AS VARCHAR)"
            return (f"SELECT *, {label} AS __period, CAST({ident(sp['start'])} AS DATE) AS __start, "
                    f"CAST({ident(sp['end'])} AS DATE) AS __end FROM {table}")
        fmt, text = sp.get("format", "%m/%d/%Y"), f"trim(CAST({ident(sp['field'])} AS VARCHAR))"
        year = f"(SELECT year(max(CAST({ident(self.period)} AS DATE))) FROM {{batch}})"
        with_year = "%Y" in fmt
        # A range is written 5/26-6/8, 5/26 – 6/8, 5/26 to 6/8 or 5/26 thru 6/8; a single date is a day, or with
        # `from: year` the year to that date. What reads as neither is NULL, and a finding (UNREADABLE).
        spans = f"regexp_replace({text}, '\\s*(–|-|\\bto\\b|\\bthru\\b|\\bthrough\\b)\\s*', '|', 'g')"
        def day(part: str) -> str:
            if with_year:
                return f"CAST(try_strptime(trim({part}), {literal(fmt)}) AS DATE)"
            return f"CAST(try_strptime(trim({part}) || '/' || {year}, {literal(fmt + '/%Y')}) AS DATE)"
        first, last = day(f"split_part({spans}, '|', 1)"), day(f"split_part({spans}, '|', 2)")
        single = f"NOT contains({spans}, '|')"
        end = f"CASE WHEN {single} THEN {first} ELSE {last} END"
        alone = f"date_trunc('year', {first})" if sp.get("from") == "year" else first
        start = f"CASE WHEN {single} THEN {alone} WHEN {first} > {last} THEN {first} - INTERVAL 1 YEAR ELSE {first} END"
        return f"SELECT *, {text} AS __period, CAST({start} AS DATE) AS __start, {end} AS __end FROM {table}"

    def failing_rows_query(self) -> str:
        if not isinstance(self.summary_period, str):
            return self._range_query()
        incident_by = [f"b.{ident(i)} AS {ident(s)}" for i, s in self.by.items()]
        summary_by = [ident(s) for s in self.by.values()]
        codes = _values([(str(k), str(v)) for k, v in self.mapping.items()], "m(code, category)")
        names = _values([(name, cat) for name, cats in self.counts.items() for cat in cats], "c(name, category)")
        incident_period = period_sql("b." + ident(self.period), self.grain) + " AS __period"
        incidents = (
            f"SELECT {', '.join([incident_period, *incident_by])}, "
            f"c.name AS __name, count(*) AS n FROM {self._incidents()} b "
            f"JOIN {codes} ON CAST(b.{ident(self.category)} AS VARCHAR) = m.code "
            f"JOIN {names} ON c.category = m.category WHERE {self._counted()} GROUP BY ALL"
        )
        speriod = ident(self.summary_period) if self.grain == "year" else f"CAST({ident(self.summary_period)} AS DATE)"
        table = ident(self.summary_table)
        if self._long_form:
            name, value = self._long_form
            summary = (
                f"SELECT {', '.join([f'{speriod} AS __period', *summary_by])}, "
                f"CAST({name} AS VARCHAR) AS __name, {value} AS expected "
                f"FROM {table} WHERE CAST({name} AS VARCHAR) IN "
                f"({', '.join(literal(n) for n in self.counts)})"
            )
        else:
            summary = " UNION ALL ".join(
                f"SELECT {', '.join([f'{speriod} AS __period', *summary_by])}, {literal(name)} AS __name, "
                f"{ident(name)} AS expected FROM {table}"
                for name in self.counts
            )
        join = " AND ".join(["s.__period = i.__period", "s.__name = i.__name",
                             *(f"s.{c} IS NOT DISTINCT FROM i.{c}" for c in summary_by)])
        keys = [f"coalesce(s.__period, i.__period) AS {ident(self.summary_period)}",
                *(f"coalesce(s.{c}, i.{c}) AS {c}" for c in summary_by)]
        nothing = [f"NULL AS {ident(self.summary_period)}", *(f"NULL AS {c}" for c in summary_by)]
        span = "(SELECT coalesce(CAST(min(__period) AS VARCHAR) || ' to ' || CAST(max(__period) AS VARCHAR), 'none') FROM {})"
        return (
            f"WITH i AS ({incidents}), s AS ({summary}), "
            f"shared AS (SELECT __period FROM i INTERSECT SELECT __period FROM s) "
            f"SELECT {', '.join(keys)}, coalesce(s.__name, i.__name) AS __column, "
            f"s.expected AS __expected, coalesce(i.n, 0) AS __observed, NULL AS __incident_periods, "
            f"NULL AS __summary_periods "
            f"FROM s FULL OUTER JOIN i ON {join} "
            f"WHERE coalesce(s.__period, i.__period) IN (SELECT __period FROM shared) "
            f"AND s.expected IS DISTINCT FROM coalesce(i.n, 0) "
            # Reconciling tables that share no period compares nothing: that is a finding, never a pass.
            f"UNION ALL SELECT {', '.join(nothing)}, {literal(NO_PERIOD)} AS __column, NULL AS __expected, "
            f"NULL AS __observed, {span.format('i')} AS __incident_periods, {span.format('s')} AS __summary_periods "
            f"WHERE NOT EXISTS (SELECT 1 FROM shared) ORDER BY ALL"
        )

    def _range_query(self) -> str:
        """Incidents counted into the summary's own date ranges; only ranges inside the incident data's dates."""
        incident_by = [f"b.{ident(i)} AS {ident(s)}" for i, s in self.by.items()]
        summary_by = [ident(s) for s in self.by.values()]
        codes = _values([(str(k), str(v)) for k, v in self.mapping.items()], "m(code, category)")
        names = _values([(name, cat) for name, cats in self.counts.items() for cat in cats], "c(name, category)")
        day = f"CAST(b.{ident(self.period)} AS DATE)"
        incidents = (
            f"SELECT p.__period, {', '.join([*incident_by, 'c.name AS __name'])}, count(*) AS n "
            f"FROM {self._incidents()} b "
            f"JOIN (SELECT DISTINCT __period, __start, __end FROM r) p ON {day} BETWEEN p.__start AND p.__end "
            f"JOIN {codes} ON CAST(b.{ident(self.category)} AS VARCHAR) = m.code "
            f"JOIN {names} ON c.category = m.category WHERE {self._counted()} GROUP BY ALL")
        if self._long_form:
            name, value = self._long_form
            summary = (f"SELECT __period, {', '.join([*summary_by, ''])}CAST({name} AS VARCHAR) "
                       f"AS __name, {value} AS expected FROM r WHERE "
                       f"CAST({name} AS VARCHAR) IN ({', '.join(literal(n) for n in self.counts)})")
        else:
            summary = " UNION ALL ".join(
                f"SELECT __period, {', '.join([*summary_by, ''])}{literal(name)} AS __name, {ident(name)} AS expected "
                f"FROM r" for name in self.counts)
        join = " AND ".join(["s.__period = i.__period", "s.__name = i.__name",
                             *(f"s.{c} IS NOT DISTINCT FROM i.{c}" for c in summary_by)])
        label = ident(self._period_name)
        keys = [f"coalesce(s.__period, i.__period) AS {label}", *(f"coalesce(s.{c}, i.{c}) AS {c}" for c in summary_by)]
        nothing = [f"NULL AS {label}", *(f"NULL AS {c}" for c in summary_by)]
        span = f"(SELECT coalesce(CAST(min({day}) AS VARCHAR) || ' to ' || CAST(max({day}) AS VARCHAR), 'none') FROM {{batch}} b)"
        spans = "(SELECT coalesce(string_agg(DISTINCT __period, ', '), 'none') FROM r)"
        return (
            f"WITH r AS ({self._ranges()}), i AS ({incidents}), s AS ({summary}), "
            f"inside AS (SELECT DISTINCT __period FROM r WHERE __start >= (SELECT min({day}) FROM {{batch}} b) "
            f"AND __end <= (SELECT max({day}) FROM {{batch}} b)) "
            f"SELECT {', '.join(keys)}, coalesce(s.__name, i.__name) AS __column, s.expected AS __expected, "
            f"coalesce(i.n, 0) AS __observed, NULL AS __incident_periods, NULL AS __summary_periods "
            f"FROM s FULL OUTER JOIN i ON {join} "
            f"WHERE coalesce(s.__period, i.__period) IN (SELECT __period FROM inside) "
            f"AND s.expected IS DISTINCT FROM coalesce(i.n, 0) "
            f"UNION ALL SELECT {', '.join(nothing)}, {literal(NO_PERIOD)}, NULL, NULL, {span}, {spans} "
            f"WHERE NOT EXISTS (SELECT 1 FROM inside) AND NOT EXISTS (SELECT 1 FROM r WHERE __end IS NULL) "
            # A period the summary writes in no form the descriptor gives: its figures cannot be placed.
            f"UNION ALL SELECT DISTINCT __period, {', '.join(['NULL'] * len(summary_by))}{', ' if summary_by else ''}"
            f"{literal(UNREADABLE)}, NULL, NULL, NULL, NULL FROM r WHERE __end IS NULL ORDER BY ALL")

    def finding_key(self, row: dict[str, Any], primary_key: list[str]) -> dict[str, Any]:
        return {k: row.get(k) for k in [self._period_name, *self.by.values()]}

    def explain(self, row: dict[str, Any], label: Label) -> str:
        figure = row["__column"]
        if figure == UNREADABLE:
            sp = self.summary_period
            return Code.RECONCILIATION.say("unreadable period", summary=self.summary_dataset,
                                           period=row.get(self._period_name),
                                           format=sp.get("format", "%m/%d/%Y") if isinstance(sp, dict) else sp)
        if figure == NO_PERIOD:
            unit = self.grain if isinstance(self.summary_period, str) else "period lying within the incident dates"
            return Code.RECONCILIATION.say("no overlap", incident_periods=row["__incident_periods"],
                                           summary=self.summary_dataset, summary_periods=row["__summary_periods"],
                                           unit=unit)
        where = ", ".join(f"{k} {row.get(k)}" for k in [self._period_name, *self.by.values()])
        categories = " + ".join(self.counts.get(figure, [figure]))
        return Code.RECONCILIATION.say("no figure" if row["__expected"] is None else "", where=where,
                                       summary=self.summary_dataset, expected=row["__expected"], figure=figure,
                                       observed=row["__observed"], categories=categories)


class ExpectTotalsToMatch(RowCheckExpectation):
    """Sums of figures over some rows equal sums over other rows: neighbourhood rows add up to the city's row,
    or a neighbourhood table's violent column adds up to a city table's violent offences, period by period.

    `parts` and `total` each name `columns` (the i-th part column is compared with the i-th total column)
    and optionally `where` (clauses as for any expectation's `where`: the rows summed). `total` may name
    another `table` loaded beside this one (`audit reconcile` loads the other dataset as `summary`, and names it
    in `dataset`); without
    it, both sides are this table. `by` maps this table's grouping fields to the total side's (a period):
    each group is compared on its own. A group with parts and no total, or a total and no parts, is a finding.
    """

    parts: dict[str, Any]
    total: dict[str, Any]
    by: dict[str, str] = {}
    success_keys: ClassVar[Tuple[str, ...]] = ("parts", "total", "by")
    check: ClassVar[str] = Code.TOTAL_MISMATCH

    def read_columns(self) -> list[str]:
        for side in (self.parts, self.total):
            if not isinstance(side.get("columns"), list) or not side["columns"]:
                raise ValueError("`parts` and `total` each name `columns`, a list of figures")
        if len(self.parts["columns"]) != len(self.total["columns"]):
            raise ValueError("`parts` and `total` name as many columns each: the i-th is compared with the i-th")
        own = [*self.parts["columns"], *self.by, *where_columns(self.parts.get("where"))]
        if "table" not in self.total:
            own += [*self.total["columns"], *self.by.values(), *where_columns(self.total.get("where"))]
        return list(dict.fromkeys(own))

    def _side(self, side: dict[str, Any], source: str, groups: list[str]) -> str:
        filters = f" WHERE {where_sql(side['where'])}" if side.get("where") else ""
        sums = ", ".join(f"sum({ident(c)}) AS __v{i}" for i, c in enumerate(side["columns"]))
        keys = ", ".join(f"{ident(g)} AS __g{i}" for i, g in enumerate(groups))
        return f"SELECT {keys + ', ' if keys else ''}{sums}, count(*) AS __rows FROM {source}{filters} GROUP BY ALL"

    def failing_rows_query(self) -> str:
        total_source = ident(self.total["table"]) if self.total.get("table") else "{batch}"
        p = self._side(self.parts, "{batch}", list(self.by))
        t = self._side(self.total, total_source, list(self.by.values()))
        on = " AND ".join(f"p.__g{i} IS NOT DISTINCT FROM t.__g{i}" for i in range(len(self.by))) or "true"
        keys = ", ".join(f"coalesce(p.__g{i}, t.__g{i}) AS {ident(g)}" for i, g in enumerate(self.by))
        rows = " UNION ALL ".join(
            f"SELECT {keys + ', ' if keys else ''}{literal(part)} AS __column, {literal(total)} AS __total_column, "
            f"t.__v{i} AS __expected, p.__v{i} AS __observed, p.__rows AS __part_rows, t.__rows AS __total_rows "
            f"FROM p FULL OUTER JOIN t ON {on}"
            for i, (part, total) in enumerate(zip(self.parts["columns"], self.total["columns"])))
        return (f"WITH p AS ({p}), t AS ({t}) SELECT * FROM ({rows}) "
                f"WHERE __expected IS DISTINCT FROM __observed ORDER BY ALL")

    def finding_key(self, row: dict[str, Any], primary_key: list[str]) -> dict[str, Any]:
        return {k: row.get(k) for k in self.by}

    def explain(self, row: dict[str, Any], label: Label) -> str:
        where = ", ".join(f"{label(k)} {row.get(k)}" for k in self.by)
        where = f"{where}: " if where else ""
        other = self.total.get("dataset") or self.total.get("table")
        total = f"{row['__total_column']} in {other}" if other else row["__total_column"]
        said = {"where": where, "column": label(row["__column"]), "total": total, "expected": row["__expected"],
                "observed": row["__observed"], "rows": row["__part_rows"]}
        if row["__expected"] is None:
            return Code.TOTAL_MISMATCH.say("no total", **said)
        if row["__observed"] is None:
            return Code.TOTAL_MISMATCH.say("no rows", **said)
        gap = row["__expected"] - row["__observed"]
        return Code.TOTAL_MISMATCH.say("" if gap > 0 else "rows over", gap=abs(gap), **said)
