"""Running a suite on Apache Spark: Spark reads the release's typed rows from a Parquet file where the cluster can
read it, and the suite runs there through GX's Spark datasource, each of our expectations translating its own
query (audit.validate.dialect).

The rows reach Spark as a file, not through the driver's memory. DuckDB types the release (one reading of every
format, whichever engine checks it) and writes it, streaming, to a Parquet file in the staging folder
(`spark: staging:` in audit.yaml, a folder the cluster can read; the system's temporary folder by default); a
release the log already keeps as Parquet (audit.log.copies) is read from that file. A second table a check reads
(a reconciliation's summary, small) is handed over through Arrow.

Expectations that read what only DuckDB holds (the diff's revisions) or that do not yet give the same rows on
Spark (`spark_gap` on their class) run on DuckDB, and the report says so.
The session is local by default; `spark:` in audit.yaml names a master (a standalone cluster's spark:// URL) or a
Spark Connect server (`remote`), configuration, and the staging folder.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import duckdb

from audit.log import copies
from audit.sql import ident

SETTINGS: dict[str, Any] = {}   # audit.yaml's spark: settings, set by the command line before a run
LOG_SETTINGS = Path(__file__).with_name("spark-log4j2.properties")
_SESSION = None
# DuckDB tables (as the SQL that names them) whose rows Spark reads from a Parquet file of exactly those rows, in
# order (see readable_by_cluster).
_FILES: dict[str, Path] = {}


def session():
    """One Spark session per process (starting one costs seconds): a Spark Connect client when audit.yaml names a
    `remote`, else a driver of our own on `master`."""
    global _SESSION
    if _SESSION is None:
        from pyspark.sql import SparkSession

        # A release's timestamps are times without a zone: by default Spark would read them in its session's zone,
        # and a diff brought back would carry that zone.
        defaults = {"spark.sql.timestampType": "TIMESTAMP_NTZ"}
        if SETTINGS.get("remote"):
            builder = SparkSession.builder.remote(SETTINGS["remote"])  # the server's own settings are its own
        else:
            builder = SparkSession.builder.appName("audit").master(SETTINGS.get("master", "local[*]"))
            # No web UI, and only errors in the log: Spark's start-up chatter is not the audit's output.
            log_settings = f"-Dlog4j2.configurationFile={LOG_SETTINGS.as_uri()}"
            defaults.update({"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
                             "spark.driver.extraJavaOptions": log_settings,
                             "spark.executor.extraJavaOptions": log_settings})
        for key, value in {**defaults, **(SETTINGS.get("conf") or {})}.items():
            builder = builder.config(key, str(value))
        _SESSION = builder.getOrCreate()
        if not SETTINGS.get("remote"):
            _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


@contextmanager
def readable_by_cluster(con: duckdb.DuckDBPyConnection, tables: dict[str, Path | None]) -> Iterator[None]:
    """While the block runs, Spark reads each of `tables` from a Parquet file: the one given (a release the log
    keeps as Parquet), or one written now, streaming, to the staging folder and removed after."""
    written = []
    try:
        for table, path in tables.items():
            if path is None:
                folder = Path(SETTINGS.get("staging") or tempfile.gettempdir())
                path = folder / f"audit-staged-{uuid.uuid4().hex}.parquet"
                written.append(path)
                copies.write(con, table, path)
            _FILES[table] = path
        yield
    finally:
        for table in tables:
            _FILES.pop(table, None)
        for path in written:
            path.unlink(missing_ok=True)


def frame_for(con: duckdb.DuckDBPyConnection, table: str, position: str | None = None):
    """A Spark DataFrame of the DuckDB table `table` (SQL that names it), with each row's stored position as column
    `position` if asked: read from its Parquet file when it has one, else handed over through Arrow."""
    path = _FILES.get(table)
    if path is not None:
        # A path, not a URI (Spark does not decode %40), with Hadoop's glob characters escaped.
        frame = session().read.parquet(re.sub(r"([\\\[\]{}*?])", r"\\\1", str(path.resolve())))
        # One file, written in the table's order: its row index is the stored position.
        return frame.selectExpr("*", f"_metadata.row_index AS {position}") if position else frame
    extra = f", {copies.stored_order(table)} AS {ident(position)}" if position else ""
    return session().createDataFrame(con.sql(f"SELECT *{extra} FROM {table}").to_arrow_table())


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
    # Cached (in memory, spilling to disk): each check is its own Spark job, and would read the rows again.
    frame = frame_for(con, table).cache()
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
