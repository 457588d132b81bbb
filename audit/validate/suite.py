"""Load a dataset's Great Expectations suite (GX's own JSON format) and run it on an engine (audit.engine)."""

from __future__ import annotations

import datetime
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from audit.engine import DUCKDB, Engine, Need
from audit.errors import ConfigError
from audit.findings import ERROR
from audit.sql import ident


def load_suite_json(path: Path) -> dict[str, Any]:
    """The suite file, each entry's shape checked (audit/schemas/suite.schema.json): an entry GX cannot build is
    one GX would drop and never run."""
    return read_suite(path).data


@dataclass(frozen=True)
class SuiteFile:
    data: dict[str, Any]   # as load_suite_json gives it
    sha256: str            # of the bytes parsed: the log records it as the suite that ran


def read_suite(path: Path) -> SuiteFile:
    """The suite file and the digest of the very bytes parsed: read again to be digested, a file rewritten after
    the checks ran would be recorded as the suite that ran them."""
    from audit.officefile import read_office_json
    from audit.yamlfile import office_bytes, office_decoded

    raw = office_bytes(path)
    return SuiteFile(read_office_json(path, "suite", office_decoded(path, raw)), hashlib.sha256(raw).hexdigest())


ORIGIN = "audit_origin"  # where an entry comes from ("expectations/x.json, expectation 3"), kept in its meta


def with_origin(expectation: dict[str, Any], origin: str) -> dict[str, Any]:
    """`expectation` saying where it comes from, for every message about it (an office's file and entry)."""
    return {**expectation, "meta": {**(expectation.get("meta") or {}), ORIGIN: origin}}


def origin_of(configuration: Any, default: str = "an expectation the tool adds") -> str:
    """Where an expectation comes from: its suite entry, claim or descriptor field; for a GX configuration or a
    suite entry."""
    meta = configuration.get("meta") if isinstance(configuration, dict) else configuration.meta
    return str((meta or {}).get(ORIGIN) or default)


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


def _named_columns(expectation) -> list[str]:
    """The columns a built expectation reads (its own, its `where`'s; GX's column, column list or pair)."""
    from audit.validate.expectations import RowCheckExpectation
    from audit.validate.expectations.base import domain_columns
    from audit.validate.where import where_columns, where_sql

    if isinstance(expectation, RowCheckExpectation):
        where = f"{origin_of(expectation.configuration)} ({expectation.expectation_type})"
        try:
            named = expectation.read_columns() + where_columns(expectation.where)
            if expectation.where is not None:
                where_sql(expectation.where)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from exc
        return named
    kwargs = expectation.configuration.kwargs  # GX's column / column_list, and a column pair's two
    return domain_columns(kwargs) + [kwargs[k] for k in ("column_A", "column_B") if isinstance(kwargs.get(k), str)]


def _require_columns(suite, columns: list[str]) -> None:
    """Every column an expectation names must be in the table: a suite naming a column the table lacks is the
    office's error (exit 2), named here, rather than a GX failure deep inside (or a bogus finding)."""
    import difflib

    for expectation in suite.expectations:
        where = f"{origin_of(expectation.configuration)} ({expectation.expectation_type})"
        for column in _named_columns(expectation):
            if column not in columns:
                near = difflib.get_close_matches(str(column), columns, n=1)
                hint = f"; did you mean {near[0]!r}?" if near else f" (columns: {', '.join(columns)})"
                raise ConfigError(f"{where} names column {column!r}, which the table does not have{hint}")


@dataclass(frozen=True)
class Reading:
    """What one suite entry reads of some columns: which of them, and the entry without them where it checks each of
    its columns on its own and others are left (None: without them it is no check at all)."""

    columns: list[str]
    without: dict[str, Any] | None = None


def _built_suite(name: str, expectations: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], Any]:
    """The suite's JSON entries, each with its place in the suite in its meta (POSITION), and the GX suite built
    from them; a ConfigError naming the first entry GX does not know or cannot build (GX would drop it, with a
    logged traceback, and the check would never run)."""
    import great_expectations as gx

    from audit.validate import expectations as _registers_custom_expectations  # noqa: F401

    entries = [{**with_default_severity(e), "meta": {**(e.get("meta") or {}), POSITION: i}}
               for i, e in enumerate(expectations)]
    for entry in entries:
        _require_buildable(entry, name)
    # Each entry's position rides in its meta, so results come back in suite order (GX orders them its own way).
    suite = gx.ExpectationSuite(name=name, expectations=entries)
    if len(suite.expectations) != len(entries):
        built = {(e.configuration.meta or {}).get(POSITION) for e in suite.expectations}
        dropped = next(e for e in entries if e["meta"][POSITION] not in built)
        raise ConfigError(f"{origin_of(dropped, name)} ({dropped.get('type')}): Great Expectations cannot build "
                          "this expectation, so it would never run")
    return entries, suite


def entries_reading(name: str, entries: list[dict[str, Any]], columns: set[str]) -> dict[int, Reading]:
    """Of a suite's JSON `entries`, those that read any of `columns`, by index. Read from each expectation as GX
    builds it, by the one rule that says what an expectation reads (`_named_columns`)."""
    from audit.validate.expectations import RowCheckExpectation

    out: dict[int, Reading] = {}
    for built in _built_suite(name, entries)[1].expectations:
        named = list(dict.fromkeys(_named_columns(built)))
        reads = [c for c in named if c in columns]
        if not reads:
            continue
        index = (built.configuration.meta or {})[POSITION]
        entry, without = entries[index], None
        listed = built.each_column if isinstance(built, RowCheckExpectation) else None
        kwargs = entry.get("kwargs") or {}
        if listed and isinstance(kwargs.get(listed), list):
            rest = [c for c in kwargs[listed] if c not in columns]
            outside = [c for c in reads if c not in kwargs[listed]]
            if rest and not outside:
                without = {**entry, "kwargs": {**kwargs, listed: rest}}
        out[index] = Reading(reads, without)
    return out


# Where run_suite lists the expectations it could not run (`absent` columns), in the result's meta.
NOT_RUN = "audit_not_run"
# ... and those that could not run on a release read where it lies (what the check is, why not), in the meta too.
NOT_RUN_IN_PLACE = "audit_not_run_in_place"


def run_suite(
    con: duckdb.DuckDBPyConnection, table: str, name: str, expectations: list[dict[str, Any]], index_columns: list[str],
    engine: Engine = DUCKDB, absent: frozenset[str] = frozenset(), ready: dict[str, str] | None = None,
):
    """Run `expectations` (GX suite JSON entries) on `table` of `con`; return GX's validation result. `ready`: the
    shared passes already run, by condition (audit.validate.ahead).

    `name` names the suite in GX and in errors (the suite file's path). Every expectation runs on `engine` unless
    it needs what the engine does not give; those run on DuckDB (audit.engine.Need). An expectation that reads a
    column of `absent` (fields the release has no column for) is not run: the result's meta lists it under
    NOT_RUN, as (column, what the expectation is).
    """
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    entries, suite = _built_suite(name, expectations)
    not_run = [(column, f"{origin_of(e.configuration)} ({e.expectation_type})", (e.configuration.meta or {})[POSITION])
               for e in suite.expectations for column in dict.fromkeys(_named_columns(e)) if column in absent]
    if not_run:
        skipped = {position for _, _, position in not_run}
        suite = gx.ExpectationSuite(name=name, expectations=[e for e in entries if e["meta"][POSITION] not in skipped])
    _require_columns(suite, [r[0] for r in con.execute(f"DESCRIBE {ident(table)}").fetchall()])
    result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": index_columns}
    result = _validate_on(engine, context, con, table, suite, result_format, ready)
    result.results.sort(key=lambda r: (r.expectation_config.meta or {}).get(POSITION, 0))
    result.meta["run_id"] = RunIdentifier(run_time=datetime.datetime.now(datetime.timezone.utc))
    result.meta["validation_time"] = result.meta["run_id"].run_time
    result.meta[NOT_RUN] = [[column, what] for column, what, _ in not_run]
    return result


def _require_buildable(entry: dict[str, Any], name: str) -> None:
    """A ConfigError naming the entry (its file and place) that GX does not know or cannot build from its
    arguments: GX itself logs such an entry and runs the suite without it, a check silently never run."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    from great_expectations.expectations.registry import get_expectation_impl

    where = origin_of(entry, name)
    try:
        get_expectation_impl(entry.get("type", ""))
    except Exception as exc:  # GX raises its own error types for an unknown name
        raise ConfigError(f"{where}: unknown expectation type {entry.get('type')!r}: no such Great Expectations "
                          "expectation, nor one of ours (see the README's finding codes)") from exc
    try:
        ExpectationConfiguration(**entry).to_domain_obj()
    except Exception as exc:  # GX and pydantic raise several types for malformed arguments
        raise ConfigError(f"{where} ({entry.get('type')}): {_reason(exc)}") from exc


def _reason(exc: Exception) -> str:
    """One line saying why GX refused an entry: pydantic's first error with the argument it names, else GX's
    message."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
            at = ".".join(str(p) for p in first.get("loc", ()))
            return f"argument {at!r}: {first.get('msg')}" if at else str(first.get("msg"))
        except Exception:  # not pydantic's errors() after all
            pass
    return " ".join(str(getattr(exc, "message", None) or exc).split())[:500]


def _validate_on(engine: Engine, context, con: duckdb.DuckDBPyConnection, table: str, suite, result_format: dict,
                 ready: dict[str, str] | None = None):
    """The suite's result, each expectation run on `engine` where it can be and on DuckDB where it needs what the
    engine does not give (audit.engine.Need); the result's meta says which ran where on an engine other than
    DuckDB."""
    import great_expectations as gx

    here: list[Any] = []
    there: list[Any] = []
    not_run: list[list[str]] = []
    for e in suite.expectations:
        needs = needs_of(e.expectation_type)
        missing = engine.cannot_run(needs)
        if missing and engine.in_place(table) and any(n.reads_release for n in needs):
            # DuckDB holds none of the release's rows: run there, the check would pass over nothing.
            not_run.append([f"{origin_of(e.configuration)} ({e.expectation_type})", missing])
            continue
        (there if missing else here).append(e)
    from audit.validate.fused import forget_fused, fused

    results: list[Any] = []
    for runner, part in ((engine, here), (DUCKDB, there)):
        if part or (runner is DUCKDB and not results):
            also = {t for t in (_second_table(e.configuration.kwargs) for e in part) if t}
            # The checks that judge each row on its own read the rows one pass kept (audit.validate.fused).
            with runner.batch(context, con, table, also) as batch, fused(runner, con, table, part, ready) as configs:
                # Batch.validate, not a ValidationDefinition: that one also serialises the whole result (every
                # failing row) into GX's results store, which an ephemeral context throws away (0.4 s at 1,000
                # findings).
                results.append(batch.validate(gx.ExpectationSuite(name=suite.name, expectations=configs),
                                              result_format=result_format))
            forget_fused(results[-1].results)
    merged = results[0]
    for other in results[1:]:
        merged.results.extend(other.results)
    if engine is not DUCKDB:
        merged.meta["engines"] = {engine.name: len(here), "duckdb": [e.expectation_type for e in there]}
    merged.meta[NOT_RUN_IN_PLACE] = not_run
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
