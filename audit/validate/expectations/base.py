"""The one mechanism behind every custom expectation: "these SQL rows are the failures".

Each check a crime data office needs (a sum, a rate, a gap in a series, a claim)
is a query over the batch that returns every failing row, each carrying:

    __expected   the value the check computed (or the rule it expected)
    __observed   the value in the data
    __check      optional: a finding code other than the expectation's own
                 (category-sum-incomplete beside category-sum, for example)
    __column     optional: the column this row fails on, when the expectation covers several

`RowCheckExpectation` asks GX's `query.table` metric for *all* those rows (not
GX's 200-row sample), so the query runs in DuckDB where the data lives and only
failures travel to Python.
"""

from __future__ import annotations

import abc
import re
from typing import Any, Callable, ClassVar, Dict, List, Optional, Tuple

from great_expectations.expectations.expectation import BatchExpectation
from great_expectations.render.components import LegacyRendererType
from great_expectations.render.renderer.renderer import renderer
from great_expectations.validator.metric_configuration import MetricConfiguration

from audit.engine import Need
from audit.findings import ERROR, MAX_FAILING_ROWS
from audit.validate.conditions import arguments, failing_condition, within
from audit.validate.where import where_sql

FAILING_ROWS = "audit.failing_rows"
# At most MAX_FAILING_ROWS failing rows of one check travel to Python (a check failing on millions of rows would
# otherwise fill the memory); the true count comes with them, and the findings say how many more there are.

Label = Callable[[str], str]
# In the meta of a check that judges each row on its own, the table (a name the engine's SQL reads) of the rows
# that fail any such check of the suite, kept by one pass over the batch (audit.validate.fused); the check's query
# reads it in place of the batch.
FUSED_ROWS = "audit_fused_rows"


class RowCheckExpectation(BatchExpectation, abc.ABC):
    """An expectation that fails on every row its `failing_rows_query` returns."""

    domain_keys: ClassVar[Tuple[str, ...]] = ("batch_id", "row_condition", "condition_parser")
    # Finding code reported for this expectation (see audit.findings.CHECKS).
    check: ClassVar[str]
    # Severity when the suite does not set one ("critical" is GX's own default).
    default_severity: ClassVar[str] = ERROR
    # Other codes a row may carry in `__check`, each with the severity it always has.
    row_checks: ClassVar[dict[str, str]] = {}
    # What it needs of its engine beyond SQL over the release (audit.engine.Need); none: it runs on every engine,
    # and tests/test_engine_parity.py shows the same rows on each.
    needs: ClassVar[frozenset[Need]] = frozenset()
    # The keyword argument listing columns each checked on its own (a plausibility check of every count), if any: a
    # column dropped from the table leaves the check on the others (`audit init --update`).
    each_column: ClassVar[Optional[str]] = None
    # The rows the rule applies to (every clause holds), e.g. [{"column": "year", "from": 2013}] for a
    # definition that changed in 2013. GX's own row_condition is not available to batch expectations.
    where: Optional[List[Dict[str, Any]]] = None

    @abc.abstractmethod
    def failing_rows_query(self) -> str:
        """SQL over `{batch}` returning every failing row with `__expected` and `__observed`."""

    def failing_condition(self) -> Optional[str]:
        """For a check that judges each row on its own: the SQL condition over one row that makes it fail, the
        WHERE of its query (`rows_failing`); None for a check that reads several rows at once (a key, a series,
        a total). Written once per type, from the suite entry's arguments, in audit.validate.conditions; the
        checks that have one run as one pass (`FUSED_ROWS`)."""
        kind = self.expectation_type
        return failing_condition(kind, {name: getattr(self, name) for name in arguments(kind)})

    def rows_failing(self, figures: str) -> str:
        """The query of a check that judges each row on its own: every row of `{batch}` with the columns
        `figures` adds (`__expected`, `__observed`, ...) where `failing_condition` holds. Written once, so the
        one pass that runs such checks together keeps exactly the rows each check's own query returns."""
        return f"SELECT *, {figures} FROM {{batch}} WHERE {self.failing_condition()}"

    def repeated_key(self) -> Optional[list[str]]:
        """For a check that can fail only on rows whose key (these columns) occurs more than once, compared blind
        to case and spacing (a repeated key, a key written two ways): the columns; else None. The checks of one key
        share one pass too (audit.validate.fused)."""
        return None

    def fused_condition(self) -> Optional[str]:
        """`failing_condition` within the rows `where` selects: a row of the batch this check fails."""
        condition = self.failing_condition()
        return None if condition is None else within(self.where, condition)

    @abc.abstractmethod
    def explain(self, row: dict[str, Any], label: Label) -> str:
        """One failing row in plain language; `label` turns a column name into its title."""

    @classmethod
    def _words(cls, kwargs: dict[str, Any]) -> tuple[str, dict[str, str]]:
        """The check in words, for GX's Data Docs: the first sentence of the class's description, with each of
        its `argument`s as a template parameter filled from the suite entry."""
        doc = " ".join(((cls.__doc__ or cls.__name__).strip().split("\n\n")[0]).split())
        sentence = doc if ". " not in doc else doc[:doc.index(". ") + 1]
        params = {}

        def fill(match: re.Match) -> str:
            name = match.group(1)
            if name not in kwargs:
                return name
            value = kwargs[name]
            params[name] = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
            return f"${name}"
        return re.sub(r"`([a-z_]+)`", fill, sentence.replace("$", "$$")), params

    @classmethod
    @renderer(renderer_type=LegacyRendererType.PRESCRIPTIVE)
    def _prescriptive_renderer(cls, configuration=None, result=None, runtime_configuration=None):
        """Our expectations named in words in GX's Data Docs (GX's default prints the type and its arguments),
        with the notes `Validation.data_docs` attaches (findings waived by the office)."""
        from great_expectations.render import RenderedStringTemplateContent

        kwargs = dict(configuration.kwargs) if configuration is not None else {}
        template, params = cls._words(kwargs)
        notes = note_texts(configuration.meta if configuration is not None else None)
        if notes:
            template += " " + " ".join(n.replace("$", "$$") for n in notes)
        return [RenderedStringTemplateContent(content_block_type="string_template", string_template={
            "template": template, "params": params,
            "styling": (runtime_configuration or {}).get("styling", {})})]

    def keep(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A last filter in Python over the (few) rows SQL returned; by default all of them."""
        return rows

    def finding_key(self, row: dict[str, Any], primary_key: list[str]) -> dict[str, Any]:
        """The key a failing row is reported under: the dataset's primary key, where the row has it."""
        return {k: row[k] for k in primary_key if k in row}

    def read_columns(self) -> list[str]:
        """The columns this expectation reads, the checked one first."""
        return domain_columns(self.configuration.kwargs)

    def scoped_query(self) -> str:
        """`failing_rows_query` over the rows `where` selects (all rows when it is not set), and over the rows the
        one pass kept when this check ran in it (`FUSED_ROWS` in its meta): a subset holding every row it fails,
        in the batch's order, so its rows, counts and bound are those over the whole batch."""
        query = self.failing_rows_query()
        if self.where:
            query = query.replace("{batch}", f"(SELECT * FROM {{batch}} WHERE {where_sql(self.where)})")
        fused = (self.meta or {}).get(FUSED_ROWS)
        return query.replace("{batch}", str(fused)) if fused else query

    def bounded_query(self) -> str:
        """`scoped_query`, at most MAX_FAILING_ROWS of its rows, each carrying the true count (`__failing`) and, for
        each other code its rows may carry (`row_checks`), that code's count, so that what is not listed is counted
        at its own severity. A check whose `keep` filters or groups the rows in Python (a statistical test, the
        revisions' changes of form) is not bounded: a count before `keep` would not be a count of findings."""
        if type(self).keep is not RowCheckExpectation.keep:
            return self.scoped_query()
        # sum(CASE ...), not count(*) FILTER: Spark has no filter on a window aggregate.
        kinds = "".join(f", sum(CASE WHEN __check = '{code}' THEN 1 ELSE 0 END) OVER () AS \"__failing {code}\""
                        for code in self.row_checks)
        return f"SELECT *, count(*) OVER () AS __failing{kinds} FROM ({self.scoped_query()}) LIMIT {MAX_FAILING_ROWS}"

    def duckdb_bounded_query(self) -> str:
        """`bounded_query` as DuckDB runs it fastest, with the same rows in the same order: the failing rows kept
        once (a materialised WITH), then counted and cut. Over the query itself, the window and the LIMIT held
        DuckDB's scan to one thread: a regex over ten million rows took 1.24 s instead of 0.64 s."""
        if type(self).keep is not RowCheckExpectation.keep:
            return self.scoped_query()
        kinds = "".join(f", (SELECT sum(CASE WHEN __check = '{code}' THEN 1 ELSE 0 END) FROM __failing_rows) "
                        f"AS \"__failing {code}\"" for code in self.row_checks)
        return (f"WITH __failing_rows AS MATERIALIZED ({self.scoped_query()}) "
                f"SELECT *, (SELECT count(*) FROM __failing_rows) AS __failing{kinds} FROM __failing_rows "
                f"LIMIT {MAX_FAILING_ROWS}")

    def query_for(self, execution_engine) -> str:
        """The bounded query in the dialect of the engine that runs it: Spark's translated from `bounded_query`,
        DuckDB's own (`duckdb_bounded_query`)."""
        if type(execution_engine).__name__ == "SparkDFExecutionEngine":
            from audit.engine.dialect import spark_sql

            return spark_sql(self.bounded_query())
        return self.duckdb_bounded_query()

    def get_validation_dependencies(self, execution_engine=None, runtime_configuration=None):
        dependencies = super().get_validation_dependencies(execution_engine, runtime_configuration)
        dependencies.set_metric_configuration(
            FAILING_ROWS,
            MetricConfiguration(
                metric_name="query.table",
                metric_domain_kwargs={"batch_id": execution_engine.batch_manager.active_batch_id},
                metric_value_kwargs={"query": for_gx(self.query_for(execution_engine)), "fetch_all": True},
            ),
        )
        return dependencies

    def _validate(self, metrics: dict, runtime_configuration: Optional[dict] = None, execution_engine=None):
        fetched = [dict(r) for r in metrics[FAILING_ROWS]]
        counts = {k: v for k, v in fetched[0].items() if k.startswith("__failing")} if fetched else {}
        for row in fetched:
            for name in counts:
                row.pop(name, None)
        rows = self.keep(fetched)
        # What the bound left out, by finding code: each code's true count less the rows of it that are listed.
        listed: dict[str, int] = {}
        for row in rows:  # a code `row_checks` does not declare is counted with the expectation's own
            code = str(row["__check"]) if row.get("__check") in self.row_checks else self.check
            listed[code] = listed.get(code, 0) + 1
        by_code = {name.removeprefix("__failing "): n for name, n in counts.items() if name != "__failing"}
        if "__failing" in counts:
            by_code[self.check] = counts["__failing"] - sum(by_code.values())
        not_listed = {code: n - listed.get(code, 0) for code, n in by_code.items() if n > listed.get(code, 0)}
        return {
            "success": not rows,
            "result": {"observed_value": len(rows), "details": {"failing_rows": rows, "not_listed": not_listed}},
        }


def domain_columns(kwargs: dict[str, Any]) -> list[str]:
    """The columns named by GX's usual `column` / `column_list` arguments, each once."""
    names = [kwargs.get("column"), *(kwargs.get("column_list") or [])]
    return [c for c in dict.fromkeys(names) if isinstance(c, str) and c]


def decimals_sql(value_sql: str) -> str:
    """SQL for the number of decimals a DOUBLE was published with (NULL: given in full).

    DuckDB prints a DOUBLE in its shortest round-trip form, so 2923.9 has 1 decimal,
    1870.46117036513 has 11 and 3.0 has 0; exponent forms count as given in full.
    """
    text = f"CAST({value_sql} AS VARCHAR)"
    return (
        f"(CASE WHEN {text} ILIKE '%e%' THEN NULL WHEN {text} LIKE '%.0' THEN 0 "
        f"ELSE length(split_part({text}, '.', 2)) END)"
    )


def note_texts(meta: dict[str, Any] | None) -> list[str]:
    """An expectation's `meta.notes` as GX allows them (a text, a list of texts, or {format, content}) as texts."""
    notes = (meta or {}).get("notes")
    if isinstance(notes, dict):
        notes = notes.get("content")
    if notes is None:
        return []
    return [str(n) for n in notes] if isinstance(notes, list) else [str(notes)]


def for_gx(query: str) -> str:
    """The query as GX's `query.table` metric wants it: GX fills `{batch}` with str.format, so every other brace
    (a regex quantifier such as [0-9]{6}, a value with braces) is doubled. Suite and descriptor values are the
    office's; only a value spelled exactly "{batch}" would still be read as the placeholder."""
    return query.replace("{", "{{").replace("}", "}}").replace("{{batch}}", "{batch}")
