"""Parity of engines: each of our expectations' SQL, written in DuckDB's dialect and translated to Spark's by
audit.engine.dialect, finds the same failing rows on a real Spark (local mode, pyspark) as on DuckDB, over the
same small table made to have its defect. A new expectation cannot be added without a case here: the last test
fails for any expectation with no case, unless its class declares in `needs` what Spark does not give it.
"""

from __future__ import annotations

import json
import math
from typing import Any

import duckdb
import pytest

from audit.engine.dialect import spark_sql
from audit.validate.expectations import RowCheckExpectation
from audit.validate.expectations.arithmetic import (
    ExpectColumnValuesToEqualPercentChange,
    ExpectColumnValuesToEqualRate,
    ExpectColumnValuesToEqualSumOfColumns,
)
from audit.validate.expectations.cells import (
    ExpectColumnValuesToBeInRange,
    ExpectColumnValuesToBeInValueSet,
    ExpectColumnValuesToBePresent,
    ExpectColumnValuesToBeSafeInSpreadsheets,
    ExpectColumnValuesToMatchPattern,
    ExpectKeyValuesNotToDifferOnlyInForm,
    ExpectPrimaryKeyToBeUnique,
)
from audit.validate.expectations.claims import ExpectClaimToBeSupported
from audit.validate.expectations.incidents import ExpectColumnValuesToHaveACategory, ExpectCoordinatesToBeInBoundingBox
from audit.validate.expectations.reconcile import ExpectIncidentCountsToMatchSummary, ExpectTotalsToMatch
from audit.validate.expectations.series import ExpectMonthsReportedToBeComplete, ExpectSeriesToHaveNoGaps
from audit.validate.keys import repeats_sql

# A series table: places by year, with a broken sum, a wrong rate, a wrong change and a gap.
SERIES = (["place", "year", "a", "b", "total", "pop", "rate", "change"], [
    ("North", 2017, 10, 5, 15, 10000, 150.0, None),
    ("North", 2018, 12, 6, 18, 10000, 180.0, 20.0),
    ("North", 2019, 12, 6, 19, 10000, 195.5, 5.6),      # total 19 != 18; rate 195.5 != 190.0
    ("North", 2021, 9, 3, 12, 10000, 120.0, -30.0),     # a gap: 2020 missing; change -36.8
    ("South", 2017, 1, 1, 2, 5000, 40.0, None),
    ("South", 2018, None, 1, 1, 5000, 20.0, -50.0),     # a part missing
    ("East", 2017, 0, 0, 0, 0, None, None),             # nothing, and no residents: no rate
    ("East", 2018, 1, 1, 2, 4000, 50.0, 100.0),         # a change from 0, which has no percent
])
# A text table: keys, codes, places, free text.
CELLS = (["case_no", "district", "code", "age", "note", "lat", "lon"], [
    ("CC-000001", "Central", "4A", 34, "fine", 39.29, -76.61),
    ("CC-000002", "central", "9Z", 130, "=HYPERLINK(\"x\")", 39.30, -76.60),
    ("CC7", "Eastern", "4A", None, "-5.1%", 41.00, -76.60),
    ("CC-000001", "Central", "6C", 19, "ok", 39.28, -76.62),
])
# Incidents and the summary they should add up to (read by the reconciliation as its second table, `summary`).
INCIDENTS = (["id", "occurred", "code", "district"], [
    ("I1", "2024-01-05", "4A", "Central"), ("I2", "2024-01-09", "4A", "Central"), ("I3", "2024-02-01", "3A", "Eastern"),
    ("I4", "2024-02-11", "6C", "Eastern"), ("I5", "2025-03-01", "4A", "Central"),
])
SUMMARY = (["year", "district", "assaults", "robberies"], [
    (2024, "Central", 2, 0), (2024, "Eastern", 0, 2),   # Eastern's robberies: 1 in the incidents
])
CASES: list[tuple[RowCheckExpectation, tuple]] = [
    (ExpectColumnValuesToEqualSumOfColumns(column="total", parts=["a", "b"]), SERIES),
    (ExpectColumnValuesToEqualRate(column="rate", count="total", population="pop", per=1000), SERIES),
    (ExpectColumnValuesToEqualRate(column="rate", count="total", population="pop", per=1000, decimals=1), SERIES),
    (ExpectColumnValuesToEqualPercentChange(column="change", of="total", period="year", group_by=["place"]), SERIES),
    (ExpectColumnValuesToEqualPercentChange(column="rate", of="total", base="a"), SERIES),
    (ExpectSeriesToHaveNoGaps(period="year", group_by=["place"]), SERIES),
    (ExpectTotalsToMatch(parts={"columns": ["a"], "where": [{"column": "place", "in": ["North"]}]},
                         total={"columns": ["b"]}, by={"year": "year"}), SERIES),
    (ExpectColumnValuesToEqualSumOfColumns(column="total", parts=["a", "b"],
                                           where=[{"column": "year", "from": 2018, "to": 2019}]), SERIES),
    (ExpectPrimaryKeyToBeUnique(columns=["case_no"]), CELLS),
    (ExpectKeyValuesNotToDifferOnlyInForm(columns=["district"], text=["district"]), CELLS),
    (ExpectColumnValuesToBePresent(column="age"), CELLS),
    (ExpectColumnValuesToBeInRange(column="age", min_value=0, max_value=120), CELLS),
    (ExpectColumnValuesToBeInValueSet(column="district", value_set=["Central", "Eastern"]), CELLS),
    (ExpectColumnValuesToMatchPattern(column="case_no", regex="^CC-[0-9]{6}$"), CELLS),
    (ExpectColumnValuesToBeSafeInSpreadsheets(column="note"), CELLS),
    (ExpectColumnValuesToHaveACategory(column="code", mapping={"4A": "aggravated_assault", "6C": "larceny"}), CELLS),
    (ExpectCoordinatesToBeInBoundingBox(latitude="lat", longitude="lon", bbox=[-76.72, 39.19, -76.52, 39.38]), CELLS),
    (ExpectMonthsReportedToBeComplete(column="a", full=11), SERIES),
    (ExpectIncidentCountsToMatchSummary(
        summary_table="summary", summary_dataset="summary", period="occurred", grain="year", summary_period="year",
        category="code", mapping={"4A": "aggravated_assault", "3A": "robbery", "6C": "larceny"},
        counts={"assaults": ["aggravated_assault"], "robberies": ["robbery"]}, by={"district": "district"}),
     INCIDENTS),
    (ExpectTotalsToMatch(parts={"columns": ["a"]}, total={"columns": ["assaults"], "table": "summary"},
                         by={"year": "year"}), SERIES),
    (ExpectClaimToBeSupported(claim_id="rate-2019", statement="North's 2019 rate was 200 per 1,000.", stated=200.0,
                              tolerance=0.5, kind="rate", spec={"count": "total", "population": "pop", "per": 1000,
                                                                "where": {"place": "North", "year": 2019}}), SERIES),
    (ExpectClaimToBeSupported(claim_id="change", statement="Totals rose 10 percent.", stated=10.0, tolerance=0.5,
                              kind="change", spec={"column": "total", "from": {"year": 2017}, "to": {"year": 2019}}),
     SERIES),
]
def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _rows(names: list[str], rows: list[tuple], columns: list[str]) -> set[tuple]:
    """The failing rows as comparable tuples: the columns the check reads (a finding's key and figures come from
    them) and what it computed. Other columns of a row it reports may be any row's, on either engine."""
    wanted = [n for n in names if n in ("__expected", "__observed", "__check") or n in columns]
    return {tuple((n, _plain(row[names.index(n)])) for n in sorted(set(wanted))) for row in rows}


@pytest.mark.parametrize("expectation, table", CASES,
                         ids=lambda c: type(c).__name__ if isinstance(c, RowCheckExpectation) else "")
def test_the_same_failing_rows_on_duckdb_and_on_spark(spark, expectation, table):
    names, rows = table
    con = duckdb.connect()
    spark_frame = spark.createDataFrame(rows, names)
    con.register("frame", spark_frame.toArrow())  # Arrow keeps a whole-number column with blanks whole
    con.execute("CREATE TABLE t AS SELECT * FROM frame")
    if table is INCIDENTS:  # dates as dates, on both engines
        con.execute("CREATE OR REPLACE TABLE t AS SELECT * REPLACE (CAST(occurred AS DATE) AS occurred) FROM t")
        spark_frame = spark_frame.withColumn("occurred", spark_frame["occurred"].cast("date"))
    summary = spark.createDataFrame(SUMMARY[1], SUMMARY[0])  # the second table a reconciliation reads
    summary.createOrReplaceTempView("summary")
    con.register("summary_frame", summary.toArrow())
    con.execute("CREATE TABLE summary AS SELECT * FROM summary_frame")
    query = expectation.scoped_query()

    cursor = con.execute(query.replace("{batch}", "t"))
    columns = expectation.read_columns()
    on_duckdb = _rows([d[0] for d in cursor.description], cursor.fetchall(), columns)
    spark_frame.createOrReplaceTempView("t")
    on_spark = spark.sql(spark_sql(query).replace("{batch}", "t"))

    assert on_duckdb, "the case must have failing rows, or the comparison proves nothing"
    assert _rows(on_spark.columns, [tuple(r) for r in on_spark.collect()], columns) == on_duckdb


def test_every_expectation_has_a_parity_case_or_says_why_not():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    # An expectation that runs on Spark has a case here; one that does not declares what it needs in `needs`.
    covered = {type(e).__name__ for e, _ in CASES}
    missing = {c.__name__ for c in subclasses(RowCheckExpectation) if not c.__subclasses__() and not c.needs}
    assert missing - covered == set()


def test_an_expectation_run_by_gx_on_a_spark_dataframe_is_translated_and_finds_its_rows(spark):
    """Through GX's own Spark datasource, as a suite runs: the expectation picks Spark's dialect itself."""
    import great_expectations as gx

    names, rows = SERIES
    frame = spark.createDataFrame(rows, names)
    context = gx.get_context(mode="ephemeral")
    batch = (context.data_sources.add_spark("spark").add_dataframe_asset("series")
             .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame}))
    suite = gx.ExpectationSuite(name="parity", expectations=[
        {"type": "expect_column_values_to_equal_sum_of_columns", "kwargs": {"column": "total", "parts": ["a", "b"]}}])

    [result] = batch.validate(suite, result_format={"result_format": "COMPLETE"}).results

    assert result.exception_info.get("raised_exception") is False
    failing = result.result["details"]["failing_rows"]
    assert sorted((r["place"], r["year"], r["__check"]) for r in failing) == [
        ("North", 2019, "category-sum"), ("South", 2018, "category-sum-incomplete")]


def test_audit_check_on_spark_gives_exactly_the_findings_of_duckdb_on_the_example(spark, run):
    from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS

    def findings(*engine: str) -> list:
        result = run("check", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, *engine, "--format", "json")
        report = json.loads(result.output)
        return [(f["check"], f["key"], f["columns"], f["expected"], f["observed"], f["message"], f["waived"])
                for f in report["findings"]], report["release"]

    on_duckdb, _ = findings()
    on_spark, release = findings("--engine", "spark")

    assert on_spark == on_duckdb and on_duckdb
    # The report says where the checks ran: every one of the example's, its two published claims included, on Spark.
    assert release["engines"] == {"spark": 11, "duckdb": []}
    text = run("check", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--engine", "spark").output
    assert "  engines: 11 check(s) ran on Spark\n" in text


def test_ingest_on_spark_records_the_findings_duckdb_would(spark, run, workspace):
    from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS

    result = run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--engine", "spark", "--format", "json")
    on_duckdb = run("check", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--format", "json")

    assert result.exit_code == on_duckdb.exit_code == 0
    assert json.loads(result.output)["findings"] == json.loads(on_duckdb.output)["findings"]


def test_reconcile_on_spark_gives_the_findings_of_duckdb(spark, run, workspace):
    """Both tables of a reconciliation go to Spark: the summary under the name the check reads."""
    from tests.conftest import neighbourhoods_against_offences

    arguments = neighbourhoods_against_offences(workspace)

    def findings(*engine: str) -> list:
        return json.loads(run(*arguments, *engine, "--format", "json").output)["findings"]

    assert findings("--engine", "spark") == findings() and len(findings()) == 1


# -- the diff's passes over whole releases ------------------------------------------------------------------------

def _week_2_variants() -> dict[str, str]:
    """Second weeks of the weekly incidents (no incident id), each a kind of change the diff must see alike."""
    from tests.conftest import WEEK_1

    lines = WEEK_1.splitlines()
    return {
        "reordered": "\n".join([lines[0], lines[2], lines[1], lines[4], lines[3], lines[5]]) + "\n",
        "reclassified": WEEK_1.replace("300 W RD,Robbery,Knife", "300 W RD,Larceny,Knife"),
        "two moved alike": WEEK_1.replace("100 N AVE,Larceny,", "100 N AVE,Auto theft,")
                                 .replace("100 N AVE,Shoplifting,", "100 N AVE,Robbery,"),
        "added and removed": "\n".join(lines[:4]) + "\n2026-06-04 08:00,400 S BLVD,Larceny,\n",
        "weapon changed": WEEK_1.replace("Robbery,Firearm", "Robbery,Knife"),
        "relabelled place": WEEK_1.replace("300 W RD", "300 W ROAD"),
    }


# Every kind of change under a key that repeats (identical rows set aside, then rows matched in stored order), and
# the changes that move a row across the key under a key that does not (the offence is part of it).
DIFF_CASES = [("matchKey", v) for v in _week_2_variants()] + [
    ("primaryKey", v) for v in ("reclassified", "two moved alike", "relabelled place")]


@pytest.mark.parametrize("key, variant", DIFF_CASES)
def test_audit_diff_on_spark_gives_exactly_the_diff_of_duckdb(spark, run, workspace, key, variant):
    from tests.conftest import WEEK_1, define_weekly_incidents

    define_weekly_incidents(workspace, "weekly", {"matchKey": ["occurred", "block"]} if key == "matchKey" else
           {"primaryKey": ["offense", "occurred", "block"]})
    for version, text in (("1", WEEK_1), ("2", _week_2_variants()[variant])):
        path = workspace.root / f"weekly-{version}.csv"
        path.write_text(text)
        assert run("ingest", "weekly", path, "--version", version).exit_code == 0

    on_duckdb = run("diff", "weekly", "--from", "1", "--to", "2", "--format", "json")
    on_spark = run("diff", "weekly", "--from", "1", "--to", "2", "--engine", "spark", "--format", "json")

    assert on_spark.exit_code == on_duckdb.exit_code
    assert json.loads(on_spark.output) == json.loads(on_duckdb.output)
    assert variant == "reordered" or json.loads(on_duckdb.output)["changes"], "the case must have changes"


def test_a_revised_release_checked_on_spark_gives_the_revision_findings_of_duckdb(spark, run, workspace):
    """The example's 2024-03 revision against its published 2023-09, diffed (and checked) on each engine."""
    from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS

    folder = EXAMPLE_CSV.parent.parent
    run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09")
    run("publish", EXAMPLE)

    def report(*engine: str) -> dict:
        result = run("check", EXAMPLE, folder / "releases" / "2024-03-revised-example.csv", "--waivers", EXAMPLE_WAIVERS,
                     "--notes", folder / "revision-notes-2024-03.yaml", *engine, "--format", "json")
        assert result.exit_code == 1  # one unexplained revision
        return json.loads(result.output)

    on_duckdb, on_spark = report(), report("--engine", "spark")

    assert on_spark["findings"] == on_duckdb["findings"]
    assert on_spark["revisions"] == on_duckdb["revisions"]
    assert [f["key"] for f in on_spark["findings"] if f["check"] == "unexplained-revision"] == [{"year": 2018}]
    assert on_spark["release"]["engines"]["diff"] == "spark"


# -- a release read by the cluster ------------------------------------------------------------------------------

def test_parquet_releases_on_spark_are_read_from_files_in_the_staging_folder_and_the_log(spark, spark_reads, run,
                                                                                        workspace, tmp_path):
    """The driver streams the typed rows to a file; Spark reads it, and the baseline from the log's own Parquet copy;
    findings and diff are DuckDB's, and the staged file is gone after."""
    from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, to_parquet

    staging = workspace.root / "staging [1]"  # a folder name Hadoop would read as a pattern
    staging.mkdir()
    (workspace.root / "audit.yaml").write_text("spark:\n  staging: staging [1]\n")
    folder = EXAMPLE_CSV.parent.parent
    to_parquet(EXAMPLE_CSV, tmp_path / "2023-09.parquet")
    to_parquet(folder / "releases" / "2024-03-revised-example.csv", tmp_path / "2024-03.parquet")
    assert run("ingest", EXAMPLE, tmp_path / "2023-09.parquet", "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09",
               "--engine", "spark").exit_code == 0
    run("publish", EXAMPLE)
    revised = [EXAMPLE, tmp_path / "2024-03.parquet", "--waivers", EXAMPLE_WAIVERS,
               "--notes", folder / "revision-notes-2024-03.yaml", "--format", "json"]
    spark_reads.clear()

    on_spark = run("check", *revised, "--engine", "spark")
    on_duckdb = run("check", *revised)

    assert on_spark.exit_code == on_duckdb.exit_code == 1
    assert json.loads(on_spark.output)["findings"] == json.loads(on_duckdb.output)["findings"]
    assert json.loads(on_spark.output)["revisions"] == json.loads(on_duckdb.output)["revisions"]
    files = [f for _, read in spark_reads for f in read]
    assert spark_reads and all(read for _, read in spark_reads), "every table reached Spark as a file"
    assert any("/staging%20%5B1%5D/audit-staged-" in f for f in files) and any(".data/" in f for f in files)
    assert list(staging.iterdir()) == []


# Keys written many ways: repeated exactly, in other letters, with spaces or a tab inside or around, with a part
# missing, and in a second part that is a number; most keys once.
KEYED_CASES = """CREATE TABLE cases AS SELECT
    CASE WHEN k % 41 = 0 THEN NULL WHEN k % 2 = 0 THEN 'North' WHEN i % 71 = 0 THEN 'SOUTH' ELSE 'South' END AS place,
    2020 + k % 3 AS year,
    CASE WHEN i % 97 = 0 THEN 'C-' || lpad(CAST(k AS VARCHAR), 5, '0')
         WHEN i % 89 = 0 THEN 'c-' || lpad(CAST(k AS VARCHAR), 5, '0') || ' '
         WHEN i % 83 = 0 THEN 'C-  ' || lpad(CAST(k AS VARCHAR), 5, '0')
         WHEN i % 79 = 0 THEN chr(9) || 'C-' || chr(9) || lpad(CAST(k AS VARCHAR), 5, '0')
         ELSE 'C-' || lpad(CAST(k AS VARCHAR), 5, '0') END AS case_no,
    i AS n
    FROM (SELECT i, CASE WHEN i % 97 = 0 OR i % 89 = 0 OR i % 83 = 0 OR i % 79 = 0 THEN i - 1 ELSE i END AS k
          FROM range(1, 6001) t(i))"""
KEY_CHECKS = [
    {"type": "expect_primary_key_to_be_unique", "kwargs": {"columns": ["place", "year", "case_no"]}},
    {"type": "expect_key_values_not_to_differ_only_in_form",
     "kwargs": {"columns": ["place", "year", "case_no"], "text": ["place", "case_no"]}},
]


def test_the_key_checks_share_one_pass_on_spark_with_the_findings_of_duckdb(spark, tmp_path, monkeypatch):
    """On Spark, as on DuckDB, the checks of one key read the rows of one pass that groups by the folded key's
    number (64 bits on both engines), not every row each: the findings are DuckDB's. The pass's rows and the
    staged release are cached by no one after (Spark reads a staged release from its file)."""
    from contextlib import contextmanager

    from audit.engine import DUCKDB
    from audit.engine.spark import SparkEngine
    from audit.validate.suite import run_suite
    from audit.validate.translate import findings_from_results

    con = duckdb.connect()
    con.execute(KEYED_CASES)
    engine = SparkEngine({"staging": tmp_path})
    spark.catalog.clearCache()  # what earlier tests of the module's session cached
    kept: list[str] = []
    original = SparkEngine.rows_kept

    @contextmanager
    def recording(self, con, table, condition):
        with original(self, con, table, condition) as rows:
            kept.append(spark.sql(f"SELECT count(*) FROM {spark_sql(rows)}").collect()[0][0])
            yield rows

    monkeypatch.setattr(SparkEngine, "rows_kept", recording)

    def findings_on(chosen):
        result = run_suite(con, "cases", "suite", KEY_CHECKS, ["place", "year", "case_no"], chosen)
        return findings_from_results(con, result.results, ["place", "year", "case_no"])[0]

    with engine.readable(con, {"cases": None}):
        on_spark = findings_on(engine)
    on_duckdb = findings_on(DUCKDB)

    assert on_spark == on_duckdb
    assert {f.check for f in on_duckdb} == {"unique", "key-variant"}
    # One pass; it kept the rows whose folded key repeats, and no row more.
    (repeating,) = con.execute(f"SELECT count(*) FROM cases WHERE {repeats_sql(['place', 'year', 'case_no'], 'cases')}"
                               ).fetchone()
    assert kept == [repeating] and 0 < repeating < 600
    assert not [t for t in spark.catalog.listTables() if t.name.startswith("__audit")]
    assert spark._jsparkSession.sharedState().cacheManager().isEmpty()


# Conditions with a subquery in `x IN (...)`, and how many of those subqueries run alone first on Spark: one that
# reads the outer row cannot, and one inside another stays in it.
SUBQUERY_CONDITIONS = [
    (repeats_sql(["place", "year", "case_no"], "cases"), 1),
    ("year IN (SELECT year FROM cases WHERE n = 17) AND n < 700", 1),
    ("n IN (SELECT max(c2.n) FROM cases c2 WHERE c2.place = cases.place)", 0),
    ("year IN (SELECT year FROM cases WHERE n IN (SELECT n FROM cases WHERE n < 3)) AND n % 7 = 0", 1),
    ("place IN (SELECT place FROM cases WHERE n < 0)", 1),
    ("place NOT IN (SELECT place FROM cases WHERE n BETWEEN 1 AND 30) AND year IN (2020, 2021)", 1),
    ("n IN (SELECT n FROM cases WHERE n % 500 = 0) OR case_no IN (SELECT case_no FROM cases WHERE n = 9)", 2),
]


@pytest.mark.parametrize("condition, run_first", SUBQUERY_CONDITIONS)
def test_rows_kept_on_spark_are_duckdbs_with_each_subquery_that_runs_alone_run_first(spark, tmp_path, condition,
                                                                                      run_first):
    """Spark's pass runs an IN's subquery first, cached, so that it knows its size (a small one is broadcast to
    every row rather than sorted with them): the rows kept are DuckDB's for every kind of subquery, and nothing
    stays cached or registered after."""
    from audit.engine.spark import SparkEngine

    con = duckdb.connect()
    con.execute(KEYED_CASES)
    engine = SparkEngine({"staging": tmp_path})
    spark.catalog.clearCache()  # what earlier tests of the module's session cached

    with engine.readable(con, {"cases": None}), engine.rows_kept(con, "cases", condition) as rows:
        lookups = [t.name for t in spark.catalog.listTables() if t.name.startswith("__audit_lookup")]
        on_spark = sorted((tuple(r) for r in spark.sql(f"SELECT * FROM {spark_sql(rows)}").collect()), key=repr)
    on_duckdb = sorted(con.execute(f"SELECT * FROM cases WHERE {condition}").fetchall(), key=repr)

    assert on_spark == on_duckdb
    assert len(lookups) == run_first
    assert not [t for t in spark.catalog.listTables() if t.name.startswith("__audit")]
    assert spark._jsparkSession.sharedState().cacheManager().isEmpty()


def test_an_in_subquery_is_taken_apart_only_at_the_top_and_text_is_left_alone():
    from audit.engine.dialect import lookups_apart

    query, lookups = lookups_apart("SELECT * FROM t WHERE a IN (SELECT b FROM u WHERE c IN (SELECT 1)) "
                                   "AND d IN ('x IN (SELECT 2)', 'y') AND e NOT IN (SELECT f FROM v)")

    assert [sub for _, sub in lookups] == ["SELECT b FROM u WHERE c IN (SELECT 1)", "SELECT f FROM v"]
    (first, _), (second, _) = lookups
    assert query == (f"SELECT * FROM t WHERE a IN (SELECT * FROM {first}) AND d IN ('x IN (SELECT 2)', 'y') "
                     f"AND NOT e IN (SELECT * FROM {second})")


def test_the_spark_translation_keeps_duckdbs_64_bit_hash_and_leaves_text_alone():
    assert spark_sql("SELECT hash(a, 'hash(b)') FROM {batch} WHERE c IN ('hash(')") == \
        "SELECT XXHASH64(a, 'hash(b)') FROM {batch} WHERE c IN ('hash(')"


def test_a_bad_value_in_a_parquet_release_on_spark_is_the_same_one_line_error(spark, run, tmp_path):
    from tests.conftest import EXAMPLE, EXAMPLE_CSV

    with duckdb.connect() as con:
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{EXAMPLE_CSV}', thousands = ',')")
        con.execute("ALTER TABLE t ALTER \"Homicide\" TYPE DOUBLE")
        con.execute("UPDATE t SET \"Homicide\" = 342.5 WHERE \"Year\" = 2019")
        con.execute(f"COPY t TO '{tmp_path / 'bad.parquet'}' (FORMAT parquet)")

    on_spark = run("check", EXAMPLE, tmp_path / "bad.parquet", "--engine", "spark")

    assert on_spark.exit_code == 2
    assert on_spark.output == run("check", EXAMPLE, tmp_path / "bad.parquet").output


def test_audit_yaml_chooses_the_engine_and_the_command_line_overrides_it(spark, run, workspace):
    from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS

    (workspace.root / "audit.yaml").write_text("engine: spark\n")

    def engines(*engine: str):
        result = run("check", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, *engine, "--format", "json")
        return json.loads(result.output)["release"].get("engines")

    assert engines() == {"spark": 11, "duckdb": []}
    assert engines("--engine", "duckdb") is None


@pytest.mark.parametrize("settings, said", [
    ("spark: {master: 'local[1]', remote: 'sc://localhost:15002'}", "give a master or a Spark Connect remote, not both"),
    ("spark: {staging: no-such-folder}", "no-such-folder is not a folder"),
    ("engine: flink", "audit.yaml"),
])
def test_spark_settings_that_cannot_work_are_a_one_line_configuration_error(run, workspace, settings, said):
    from tests.conftest import EXAMPLE, EXAMPLE_CSV

    (workspace.root / "audit.yaml").write_text(settings + "\n")

    result = run("check", EXAMPLE, EXAMPLE_CSV, "--engine", "spark") if "engine:" not in settings else \
        run("check", EXAMPLE, EXAMPLE_CSV)

    assert result.exit_code == 2 and said in result.output and len(result.output.strip().splitlines()) == 1
