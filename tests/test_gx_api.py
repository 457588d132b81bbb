"""The suites run through Great Expectations' own API, as a GX user runs a suite (issue 29): `import audit.gx`, a
suite loaded with `gx.ExpectationSuite`, a DuckDB datasource, a `ValidationDefinition`. The verdict is the one
`audit check` gives for the same release without its waivers."""

from __future__ import annotations

import duckdb
import great_expectations as gx

from tests.conftest import EXAMPLE, EXAMPLE_CSV, PROJECT


def test_a_suite_runs_through_gx_s_own_validation_definition(workspace):
    import audit.gx
    from audit.ingest import load_release

    con = duckdb.connect()
    load_release(con, workspace.dataset(EXAMPLE), EXAMPLE_CSV)  # the release, typed, as table `release`
    context = gx.get_context(mode="ephemeral")
    source = audit.gx.add_duckdb_datasource(context, "releases", con)
    batch = source.add_table_asset("release", table_name="release").add_batch_definition_whole_table("all")
    suite = context.suites.add(audit.gx.load_suite(PROJECT / "expectations" / f"{EXAMPLE}.json"))

    result = context.validation_definitions.add(
        gx.ValidationDefinition(name="check the example", data=batch, suite=suite)).run()

    failed = [r.expectation_config.type for r in result.results if not r.success]
    assert not result.success and "expect_column_values_to_equal_sum_of_columns" in failed
    sums = next(r for r in result.results if r.expectation_config.type == "expect_column_values_to_equal_sum_of_columns")
    # 2021 and 2022, the example's two known defects: each failing row, with its key and figures, in the result.
    assert sums.result["observed_value"] == 2
    assert sorted(row["year"] for row in sums.result["details"]["failing_rows"]) == [2021, 2022]


def test_a_suite_file_loads_as_a_gx_suite_once_audit_gx_is_imported():
    import audit.gx

    suite = audit.gx.load_suite(PROJECT / "expectations" / f"{EXAMPLE}.json")

    assert isinstance(suite, gx.ExpectationSuite) and len(suite.expectations) > 3
