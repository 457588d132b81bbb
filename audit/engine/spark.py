"""Apache Spark as the engine: Spark reads the release's typed rows from a Parquet file where the cluster can read
it, the suite runs there through GX's Spark datasource (each of our expectations translating its own query,
audit.engine.dialect), and so do the diff's passes (audit.engine.scan).

The rows reach Spark as a file, not through the driver's memory. DuckDB types the release (one reading of every
format, whichever engine checks it) and writes it, streaming, to a Parquet file in the staging folder
(`spark: staging:` in audit.yaml, a folder the cluster can read; the system's temporary folder by default); a
release the log already keeps as Parquet (audit.log.copies) is read from that file. A second table a check reads
(a reconciliation's summary, small) is handed over through Arrow.

Spark gives no `Need` (audit.engine): a check that needs one runs on DuckDB, and the report says so. The session
is local by default; `spark:` in audit.yaml names a master (a standalone cluster's spark:// URL) or a Spark Connect
server (`remote`), configuration, and the staging folder.
"""

from __future__ import annotations

import re
import sys
import tempfile
import threading
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Iterator

import duckdb

from audit.engine import Engine, Need, SharedPass, parquet
from audit.errors import ConfigError
from audit.sql import ident

LOG_SETTINGS = Path(__file__).with_name("spark-log4j2.properties")
# One Spark session per process: a JVM holds one SparkContext, and starting one costs seconds. A cache, not a
# setting: each command's engine asks for it with its own settings.
_SESSION = None
_STARTING = threading.Lock()


JAVA_OPTIONS = ("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions")


def java_options() -> list[str]:
    """The options every JVM of the audit's session starts with (the driver's and, on a cluster, the executors').

    Only errors in the log. And HotSpot's JIT compiles a method of any size: by default it leaves a method of more than
    8,000 bytes of bytecode interpreted (HugeMethodLimit), and the code Spark generates for a whole stage of our
    queries is larger (the typing of a release read where it lies, thirteen fields of nested CASEs; seventeen
    conditions in one pass). Measured at 10M rows, local: typing the release where it lies 45-49 s interpreted, 6-8 s
    compiled; the check in place 156 s -> 108 s, the staged one's findings byte-identical."""
    return [f"-Dlog4j2.configurationFile={LOG_SETTINGS.as_uri()}", "-XX:-DontCompileHugeMethods"]


def session(settings: dict[str, Any]):
    """The process's Spark session: a Spark Connect client when `settings` name a `remote`, else a driver of our
    own on `master`. Started once: a second thread asking while the first starts it waits for that one."""
    with _STARTING:
        return _session(settings)


def _session(settings: dict[str, Any]):
    global _SESSION
    if _SESSION is None:
        from pyspark.sql import SparkSession

        # A release's timestamps are times without a zone: by default Spark would read them in its session's zone,
        # and a diff brought back would carry that zone.
        defaults = {"spark.sql.timestampType": "TIMESTAMP_NTZ"}
        if settings.get("remote"):
            builder = SparkSession.builder.remote(settings["remote"])  # the server's own settings are its own
        else:
            master = settings.get("master", "local[*]")
            builder = SparkSession.builder.appName("audit").master(master)
            if master.startswith("local"):  # the Python that runs a Python function over cells is this one
                defaults["spark.pyspark.python"] = sys.executable
            # No web UI, and only errors in the log: Spark's start-up chatter is not the audit's output.
            defaults.update({"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false"})
        conf = {**defaults, **(settings.get("conf") or {})}
        if not settings.get("remote"):
            for key in JAVA_OPTIONS:  # ours first, then the office's own: a JVM takes the last of a flag given twice
                conf[key] = " ".join([*java_options(), *([str(conf[key])] if key in conf else [])])
        for key, value in conf.items():
            builder = builder.config(key, str(value))
        _SESSION = builder.getOrCreate()
        if not settings.get("remote"):
            _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


class SparkEngine(Engine):
    name = "spark"
    gives: frozenset[Need] = frozenset()
    parquet_in_place = True

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        # DuckDB tables (as the SQL that names them) whose rows Spark reads from a Parquet file of exactly those
        # rows, in order, while a `readable` block runs.
        self.files: dict[str, Path] = {}
        # DuckDB tables that stand for a release Spark reads where it lies (audit.ingest.in_place): the frame of its
        # typed rows, with each row's position in column scan.POSITION; DuckDB holds only the columns.
        self.in_place_frames: dict[str, Any] = {}
        self.held: set[str] = set()  # those of them persisted while a `holding` block runs

    @classmethod
    def from_settings(cls, settings: dict[str, Any], source: Path) -> "SparkEngine":
        """The engine of audit.yaml's `spark:` section (`source`, for errors), checked that it can work."""
        if settings.get("remote") and settings.get("master"):
            raise ConfigError(f"{source}: spark: give a master or a Spark Connect remote, not both")
        if settings.get("staging"):
            settings["staging"] = source.parent / settings["staging"]
            if not settings["staging"].is_dir():
                raise ConfigError(f"{source}: spark: staging: {settings['staging']} is not a folder")
        return cls(settings)

    def session(self):
        return session(self.settings)

    def start(self) -> None:
        self.session()

    def in_place(self, table: str) -> bool:
        return table in self.in_place_frames

    def frame(self, con: duckdb.DuckDBPyConnection, table: str, position: str | None = None):
        """A Spark DataFrame of the DuckDB table `table` (SQL that names it), with each row's stored position as
        column `position` if asked: a release read where it lies, or read from its Parquet file while a `readable`
        block names one, else handed over through Arrow."""
        from audit.engine.scan import POSITION

        kept = self.in_place_frames.get(table)
        if kept is not None:
            return kept.withColumnRenamed(POSITION, position) if position else kept.drop(POSITION)
        file = self.files.get(table)
        if file is not None:
            # A path, not a URI (Spark does not decode %40), with Hadoop's glob characters escaped.
            frame = self.session().read.parquet(re.sub(r"([\\\[\]{}*?])", r"\\\1", str(file.resolve())))
            # One file, written in the table's order: its row index is the stored position.
            return frame.selectExpr("*", f"_metadata.row_index AS {position}") if position else frame
        extra = f", {parquet.stored_order(table)} AS {ident(position)}" if position else ""
        return self.session().createDataFrame(con.sql(f"SELECT *{extra} FROM {table}").to_arrow_table())

    @contextmanager
    def readable(self, con: duckdb.DuckDBPyConnection, tables: dict[str, Path | None]) -> Iterator[None]:
        """While the block runs, Spark reads each of `tables` from a Parquet file: the one given (a release the log
        keeps as Parquet), or one written now, streaming, to the staging folder and removed after."""
        written = []
        try:
            for table, path in tables.items():
                if table in self.in_place_frames:  # read where it lies already
                    continue
                if path is None:
                    folder = Path(self.settings.get("staging") or tempfile.gettempdir())
                    path = folder / f"audit-staged-{uuid.uuid4().hex}.parquet"
                    written.append(path)
                    parquet.write(con, table, path)
                self.files[table] = path
            yield
        finally:
            for table in tables:
                self.files.pop(table, None)
            for path in written:
                path.unlink(missing_ok=True)

    @contextmanager
    def holding(self, con: duckdb.DuckDBPyConnection, table: str) -> Iterator[None]:
        """A release read where it lies is persisted (in memory, spilling to disk) once typed, by the first pass
        over it, for every pass of the block: the key's pass and the checks read the one copy Spark typed (each
        query's plan holds the frame's, which Spark finds cached). Unpersisted after: the session outlives the
        command in a process that runs several. Rows Spark reads from one Parquet file of typed columns (staged,
        or the log's copy) are not held: each pass reads the file again, no slower than from a cache that took
        21-27 s to build (10M rows, local)."""
        frame = self.in_place_frames.get(table)
        if frame is None or table in self.held:
            yield
            return
        frame.persist()
        self.held.add(table)
        try:
            yield
        finally:
            self.held.discard(table)
            frame.unpersist()

    @contextmanager
    def batch(self, context, con: duckdb.DuckDBPyConnection, table: str, also: set[str]) -> Iterator[Any]:
        frame = self.frame(con, table)
        for other in also:  # under the same name, for the checks that read it
            self.session().createDataFrame(con.sql(f"SELECT * FROM {ident(other)}").to_arrow_table()) \
                .createOrReplaceTempView(other)
        # Each check is its own Spark job, which reads the rows again. A release read where it lies is persisted, as
        # Spark typed it from its files: without, at 10M rows the uniqueness check alone typed them again for a
        # minute. By `holding` while a suite runs, else by GX's Spark datasource.
        persist = self.in_place(table) and table not in self.held
        yield (context.data_sources.add_spark(f"spark-{uuid.uuid4().hex}", persist=persist).add_dataframe_asset(table)
               .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame}))

    def shares_pass(self, kind: SharedPass, con: duckdb.DuckDBPyConnection, table: str) -> bool:
        # The key's checks share a pass: each alone groups every row by its key as text, and Spark groups text by
        # min <> max (the key written two ways) with a sort, not a hash (10M rows: 51 s for that check, 14 s for the
        # repeated key). The pass groups by a number, and the two checks then read the few rows it kept.
        # The row checks' pass was measured slower (1M rows, local: in place 42 s one by one against 52 s in one
        # pass, staged 31 s against 35 s): Spark fails to compile the code for seventeen conditions joined by OR
        # and evaluates them interpreted. Measured again staged at 10M: no faster (44.7 and 47.2 s in one pass,
        # 45.5 and 40.7 s one by one); nor with that code compiled (`java_options`): staged 38.5 s against 36.3-36.9
        # s, in place 66.8 s against 63.8-67.7 s.
        # A release read where it lies shares the key's pass only while it is held (`holding`): else the pass would
        # type every row for itself, and GX's batch type them again (1M rows: 113 s against 56 s).
        return kind is SharedPass.KEY_CHECKS and (not self.in_place(table) or table in self.held)

    @contextmanager
    def rows_kept(self, con: duckdb.DuckDBPyConnection, table: str, condition: str) -> Iterator[str]:
        """The rows of `table` where `condition` holds, as a temporary view of the session (cached: several checks
        read it); yields its name, as DuckDB's SQL writes it (the checks' queries are translated). Not in the batch's
        order: Spark's join for a condition that reads a subquery sorts the rows. Only the key's checks share a pass
        on Spark (`shares_pass`), and each orders its own findings by the key.

        The subquery of a condition's `x IN (SELECT ...)` (the key's repeated numbers) runs first, cached. Planned
        inline, Spark joins it to every row by sorting both sides (10M rows: 20.5 s for the pass); run first, its
        real size is known, Spark broadcasts it when it is small (below spark.sql.autoBroadcastJoinThreshold, the
        session's own bound, so a release whose keys all repeat is still joined by sorting) and skips the scan when
        it is empty (10.5 s; 20.2 s against 24.9 s with 20,000 keys repeated). A subquery that cannot run alone
        (it reads the outer row) stays inline."""
        from audit.engine.dialect import spark_sql

        session = self.session()
        with ExitStack() as after:
            self.frame(con, table).createOrReplaceTempView(table)  # the name `condition` gives the table
            try:
                query = self._lookups_first(session, spark_sql(f"SELECT * FROM {ident(table)} WHERE {condition}"),
                                            after)
                kept = session.sql(query).cache()
            finally:
                session.catalog.dropTempView(table)  # `kept` holds its plan, not the name
            after.callback(kept.unpersist)
            name = f"__audit_rows_{uuid.uuid4().hex[:12]}"
            kept.createOrReplaceTempView(name)
            after.callback(session.catalog.dropTempView, name)
            yield ident(name)

    def fetch(self, con: duckdb.DuckDBPyConnection, table: str, query: str) -> list[tuple[Any, ...]]:
        """`query` translated to Spark's SQL and run on the cluster, over `table` as this engine reads it (a release
        read where it lies is never brought to the driver); only its result, a summary, comes back."""
        from audit.engine.dialect import spark_sql

        session = self.session()
        self.frame(con, table).createOrReplaceTempView(table)
        try:
            return [tuple(row) for row in session.sql(spark_sql(query)).collect()]
        finally:
            session.catalog.dropTempView(table)

    @staticmethod
    def _lookups_first(session, query: str, after: ExitStack) -> str:
        """`query` reading its IN-subqueries from views made now, each cached and run (undone by `after`); `query`
        as it is if one of them cannot run alone."""
        from audit.engine.dialect import lookups_apart

        apart, subqueries = lookups_apart(query)
        try:
            for name, subquery in subqueries:
                found = session.sql(subquery).cache()
                after.callback(found.unpersist)
                found.count()  # run now, which gives Spark its size
                found.createOrReplaceTempView(name)
                after.callback(session.catalog.dropTempView, name)
        except Exception:  # noqa: BLE001 (any engine's error): a subquery that reads the outer row stays inline
            return query
        return apart

    def scan(self, con: duckdb.DuckDBPyConnection, old: str, new: str):
        from audit.engine.scan import SparkScan

        return SparkScan(self, con, old, new)
