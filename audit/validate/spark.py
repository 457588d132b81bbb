"""Running a suite on Apache Spark: the release's typed table handed to a Spark DataFrame, and the suite run there
through GX's Spark datasource, each of our expectations translating its own query (audit.validate.dialect).

A second table a check reads (a reconciliation's summary) is handed to Spark too. Expectations that read what
only DuckDB holds (the diff's revisions) or that do not yet give the same rows on Spark (`spark_gap` on their
class) run on DuckDB, and the report says so.
The session is local by default; `spark:` in audit.yaml names a master (a standalone cluster's spark:// URL) and
configuration.
"""

from __future__ import annotations

from typing import Any, Callable

import duckdb

from audit.sql import ident

SETTINGS: dict[str, Any] = {}   # audit.yaml's spark: settings, set by the command line before a run
_SESSION = None


def session():
    """One Spark session per process (starting one costs seconds)."""
    global _SESSION
    if _SESSION is None:
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.appName("audit").master(SETTINGS.get("master", "local[*]"))
        # No web UI, and only errors in the log: Spark's start-up chatter is not the audit's output. A release's
        # timestamps are times without a zone: by default Spark would read them in its session's zone, and a diff
        # brought back would carry that zone.
        defaults = {"spark.ui.enabled": "false", "spark.log.level": "ERROR", "spark.sql.timestampType": "TIMESTAMP_NTZ"}
        for key, value in {**defaults, **(SETTINGS.get("conf") or {})}.items():
            builder = builder.config(key, str(value))
        _SESSION = builder.getOrCreate()
        _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


def spark_gap(expectation_type: str) -> str:
    """Why an expectation does not run on Spark ("" when it does)."""
    from great_expectations.expectations.registry import get_expectation_impl

    from audit.validate.expectations import RowCheckExpectation

    cls = get_expectation_impl(expectation_type)
    return getattr(cls, "spark_gap", "") if isinstance(cls, type) and issubclass(cls, RowCheckExpectation) else ""


def _second_table(kwargs: dict[str, Any]) -> str | None:
    total = kwargs.get("total")
    return kwargs.get("summary_table") or (total.get("table") if isinstance(total, dict) else None)


def validate_on_spark(context, con: duckdb.DuckDBPyConnection, table: str, suite, result_format: dict,
                      on_duckdb: Callable[[Any], Any]):
    """The suite's result, its expectations run on Spark where they can be and on DuckDB where not."""
    import great_expectations as gx

    here, there = [], []
    for e in suite.expectations:
        (there if spark_gap(e.expectation_type) else here).append(e)
    # Cached: each check is its own Spark job, and without it every job would ship the rows from the driver again.
    frame = session().createDataFrame(con.sql(f"SELECT * FROM {ident(table)}").to_arrow_table()).cache()
    # A second table a check reads (a reconciliation's summary) goes to Spark too, under the same name.
    for other in {_second_table(e.configuration.kwargs) for e in here} - {None}:
        session().createDataFrame(con.sql(f"SELECT * FROM {ident(other)}").to_arrow_table()).createOrReplaceTempView(other)
    results = []
    try:
        if here:
            batch = (context.data_sources.add_spark(f"spark-{id(suite)}").add_dataframe_asset(table)
                     .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame}))
            on_spark = gx.ExpectationSuite(name=suite.name, expectations=[e.configuration.to_json_dict() for e in here])
            results.append(batch.validate(on_spark, result_format=result_format))
    finally:
        frame.unpersist()
    if there or not results:
        results.append(on_duckdb(gx.ExpectationSuite(name=suite.name,
                                                     expectations=[e.configuration.to_json_dict() for e in there])))
    merged = results[0]
    for other in results[1:]:
        merged.results.extend(other.results)
    merged.meta["engines"] = {"spark": len(here), "duckdb": [e.expectation_type for e in there]}
    return merged
