"""The one place we adapt Great Expectations to DuckDB (audit/engine/gx_duckdb.py).

If a GX upgrade breaks the adapter, these fail. If GX fixes the upstream bug,
`test_stock_engine_still_needs_the_fix` fails: that is the signal to drop the adapter.
"""

from __future__ import annotations

import duckdb
import great_expectations as gx
import pytest
import sqlalchemy
from great_expectations.execution_engine import SqlAlchemyExecutionEngine

from audit.engine.gx_duckdb import DuckDBExecutionEngine, add_duckdb_datasource
from audit.validate import expectations as _custom  # noqa: F401  (registers our expectation types)


@pytest.fixture
def con():
    connection = duckdb.connect()
    connection.execute(
        "CREATE TABLE t AS SELECT range AS id, range % 10 AS a, range % 3 AS b, "
        "CASE WHEN range = 7 THEN 99 ELSE range % 10 + range % 3 END AS total FROM range(1000)"
    )
    yield connection
    connection.close()


def run(con, expectations):
    context = gx.get_context(mode="ephemeral")
    datasource = add_duckdb_datasource(context, "t", con)
    batch = datasource.add_table_asset("t", table_name="t").add_batch_definition_whole_table("all")
    suite = context.suites.add(gx.ExpectationSuite("s", expectations=expectations))
    result = gx.ValidationDefinition(name="v", data=batch, suite=suite).run(result_format="COMPLETE")
    return result.results


def test_standard_expectations_run_inside_duckdb(con):
    results = run(con, [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "a", "min_value": 0, "max_value": 8}},
        {"type": "expect_table_row_count_to_equal", "kwargs": {"value": 1000}},
    ])

    assert [r.exception_info.get("raised_exception", False) for r in results] == [False, False, False]
    assert [r.success for r in results] == [True, False, True]
    assert results[1].result["unexpected_count"] == 100


def test_custom_expectation_returns_every_failing_row_beyond_gx_sample(con):
    con.execute("UPDATE t SET total = total + 1 WHERE id < 500")  # 500 failing rows > GX's 200-row sample

    [result] = run(con, [{"type": "expect_column_values_to_equal_sum_of_columns",
                          "kwargs": {"column": "total", "parts": ["a", "b"]}}])

    rows = result.result["details"]["failing_rows"]
    assert len(rows) == 500
    assert {r["id"] for r in rows} == set(range(500))


def query_count(engine_type, con) -> list:
    from duckdb_engine import ConnectionWrapper

    engine = sqlalchemy.create_engine("duckdb:///:memory:", creator=lambda: ConnectionWrapper(con.cursor()))
    try:
        return engine_type(engine=engine).execute_query(sqlalchemy.text("SELECT count(*) FROM t")).fetchall()
    finally:
        engine.dispose()


def test_our_engine_keeps_query_results_after_the_connection_returns(con):
    assert query_count(DuckDBExecutionEngine, con) == [(1000,)]


def test_stock_engine_still_needs_the_fix(con):
    # Upstream drops the pending DuckDB result when the connection goes back to the pool.
    assert query_count(SqlAlchemyExecutionEngine, con) == []


def test_datasource_uses_our_engine(con):
    context = gx.get_context(mode="ephemeral")
    datasource = add_duckdb_datasource(context, "t", con)

    assert isinstance(datasource.get_execution_engine(), DuckDBExecutionEngine)
