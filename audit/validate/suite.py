"""Load a dataset's Great Expectations suite (GX's own JSON format) and run it on an engine (audit.engine)."""

from __future__ import annotations

import datetime
import json
import logging
from pathlib import Path
from typing import Any

import duckdb

from audit.engine import DUCKDB, Engine, Need
from audit.errors import ConfigError
from audit.findings import ERROR
from audit.sql import ident


def load_suite_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("expectations"), list):
        raise ConfigError(f"{path}: a suite is an object with a list of 'expectations'")
    return data


def with_default_severity(expectation: dict[str, Any]) -> dict[str, Any]:
    """The expectation with its class's default severity when the suite sets none.

    GX drops a severity equal to its own default ("critical") when it copies a
    configuration, so a class default must be written into the configuration.
    """
    from great_expectations.expectations.registry import get_expectation_impl

    from audit.validate.expectations import RowCheckExpectation

    if "severity" in expectation:
        return expectation
    try:
        cls = get_expectation_impl(expectation.get("type", ""))
    except Exception:  # unknown types are reported when the suite is built
        return expectation
    if isinstance(cls, type) and issubclass(cls, RowCheckExpectation) and cls.default_severity != ERROR:
        return {**expectation, "severity": cls.default_severity}
    return expectation


POSITION = "audit_position"  # an expectation's place in the suite run, kept in its meta

def _require_columns(suite, columns: list[str], name: str) -> None:
    """Every column an expectation names must be in the table: a suite naming a column the table lacks is the
    office's error (exit 2), named here, rather than a GX failure deep inside (or a bogus finding)."""
    import difflib

    from audit.validate.expectations import RowCheckExpectation
    from audit.validate.expectations.base import (
        domain_columns,
        where_columns,
        where_sql,
    )

    for number, expectation in enumerate(suite.expectations, 1):
        if isinstance(expectation, RowCheckExpectation):
            try:
                named = expectation.read_columns() + where_columns(expectation.where)
            except ValueError as exc:
                raise ConfigError(f"{name}: expectation {number} ({expectation.expectation_type}): {exc}") from exc
            if expectation.where is not None:
                try:
                    where_sql(expectation.where)
                except ValueError as exc:
                    raise ConfigError(f"{name}: expectation {number} ({expectation.expectation_type}): {exc}") from exc
        else:
            kwargs = expectation.configuration.kwargs  # GX's column / column_list, and a column pair's two
            named = domain_columns(kwargs) + [kwargs[k] for k in ("column_A", "column_B") if isinstance(kwargs.get(k), str)]
        for column in named:
            if column not in columns:
                near = difflib.get_close_matches(str(column), columns, n=1)
                hint = f"; did you mean {near[0]!r}?" if near else f" (columns: {', '.join(columns)})"
                raise ConfigError(f"{name}: expectation {number} ({expectation.expectation_type}) names column "
                                  f"{column!r}, which the table does not have{hint}")


def run_suite(
    con: duckdb.DuckDBPyConnection, table: str, name: str, expectations: list[dict[str, Any]], index_columns: list[str],
    engine: Engine = DUCKDB,
):
    """Run `expectations` (GX suite JSON entries) on `table` of `con`; return GX's validation result.

    `name` names the suite in GX and in errors (the suite file's path). Every expectation runs on `engine` unless
    it needs what the engine does not give; those run on DuckDB (audit.engine.Need).
    """
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from audit.validate import expectations as _registers_custom_expectations  # noqa: F401

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    from great_expectations.expectations.registry import get_expectation_impl

    for e in expectations:
        try:
            get_expectation_impl(e.get("type", ""))
        except Exception as exc:  # GX raises its own error types for an unknown name
            raise ConfigError(f"{name}: unknown expectation type {e.get('type')!r}: no such Great Expectations "
                              "expectation, nor one of ours (see the README's finding codes)") from exc
    try:
        # Each entry's position rides in its meta, so results come back in suite order (GX orders them its own way).
        suite = gx.ExpectationSuite(name=name, expectations=[
            {**with_default_severity(e), "meta": {**(e.get("meta") or {}), POSITION: i}}
            for i, e in enumerate(expectations)])
    except Exception as exc:  # GX raises several types for an unknown or malformed expectation
        raise ConfigError(f"{name}: {exc}") from exc
    _require_columns(suite, [r[0] for r in con.execute(f"DESCRIBE {ident(table)}").fetchall()], name)
    result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": index_columns}
    result = _validate_on(engine, context, con, table, suite, result_format)
    result.results.sort(key=lambda r: (r.expectation_config.meta or {}).get(POSITION, 0))
    result.meta["run_id"] = RunIdentifier(run_time=datetime.datetime.now(datetime.timezone.utc))
    result.meta["validation_time"] = result.meta["run_id"].run_time
    return result


def _validate_on(engine: Engine, context, con: duckdb.DuckDBPyConnection, table: str, suite, result_format: dict):
    """The suite's result, each expectation run on `engine` where it can be and on DuckDB where it needs what the
    engine does not give (audit.engine.Need); the result's meta says which ran where on an engine other than
    DuckDB."""
    import great_expectations as gx

    here: list[Any] = []
    there: list[Any] = []
    for e in suite.expectations:
        (there if engine.cannot_run(needs_of(e.expectation_type)) else here).append(e)
    results: list[Any] = []
    for runner, part in ((engine, here), (DUCKDB, there)):
        if part or (runner is DUCKDB and not results):
            also = {t for t in (_second_table(e.configuration.kwargs) for e in part) if t}
            with runner.batch(context, con, table, also) as batch:
                # Batch.validate, not a ValidationDefinition: that one also serialises the whole result (every
                # failing row) into GX's results store, which an ephemeral context throws away (0.4 s at 1,000
                # findings).
                results.append(batch.validate(gx.ExpectationSuite(
                    name=suite.name, expectations=[e.configuration.to_json_dict() for e in part]),
                    result_format=result_format))
    merged = results[0]
    for other in results[1:]:
        merged.results.extend(other.results)
    if engine is not DUCKDB:
        merged.meta["engines"] = {engine.name: len(here), "duckdb": [e.expectation_type for e in there]}
    return merged


def needs_of(expectation_type: str) -> frozenset[Need]:
    """What an expectation needs of its engine beyond SQL over the release (GX's own need nothing more)."""
    from great_expectations.expectations.registry import get_expectation_impl

    from audit.validate.expectations import RowCheckExpectation

    cls = get_expectation_impl(expectation_type)
    return cls.needs if isinstance(cls, type) and issubclass(cls, RowCheckExpectation) else frozenset()


def _second_table(kwargs: dict[str, Any]) -> str | None:
    """The second table an expectation reads (a reconciliation's summary), which its engine must read too."""
    total = kwargs.get("total")
    return kwargs.get("summary_table") or (total.get("table") if isinstance(total, dict) else None)
