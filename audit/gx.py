"""This tool's suites in Great Expectations' own API, for an office that runs GX itself.

    import great_expectations as gx
    import audit.gx                        # registers every expectation of ours with GX

    context = gx.get_context(mode="ephemeral")
    source = audit.gx.add_duckdb_datasource(context, "releases", con)   # con: a DuckDB connection
    batch = source.add_table_asset("release", table_name="release").add_batch_definition_whole_table("all")
    suite = context.suites.add(audit.gx.load_suite("expectations/baltimore-violent-crime.json"))
    result = context.validation_definitions.add(gx.ValidationDefinition(name="check", data=batch, suite=suite)).run()

GX finds an expectation type only once its class is defined, and GX 1.24 loads no plugins by entry point: importing
this module is what registers ours (`audit check` does the same). Importing `audit` alone does not, so that the
command line starts without Great Expectations where a command does not need it. The DuckDB datasource is ours
(audit.engine.gx_duckdb): GX 1.24's SQL engine cannot run these expectations on DuckDB as it stands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.engine.gx_duckdb import add_duckdb_datasource
from audit.validate import expectations as _registers  # noqa: F401  (defining the classes registers them)

__all__ = ["add_duckdb_datasource", "load_suite"]


def load_suite(path: str | Path) -> Any:
    """The suite in `path` (a suite file of this tool, GX's own JSON format) as a `gx.ExpectationSuite`, read as
    `audit check` reads it (strictly: a key given twice, NaN, text that is not UTF-8 are refused)."""
    import great_expectations as gx

    from audit.validate.suite import load_suite_json

    data = load_suite_json(Path(path))
    return gx.ExpectationSuite(name=str(data.get("name") or Path(path).stem),
                               expectations=list(data.get("expectations") or []))
