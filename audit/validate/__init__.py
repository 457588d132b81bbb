"""Validate: run a dataset's GX suite on a loaded release inside DuckDB and return findings.

The suite run is the dataset's suite file plus what the dataset definition
implies: one expectation per published claim (claims.yaml) and one per field
whose descriptor maps codes to categories.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from audit.dataset import Dataset
from audit.findings import Finding


@dataclass
class Validation:
    findings: list[Finding]
    claims: list[dict[str, Any]] = field(default_factory=list)
    # One per expectation run: expectation, check, columns, first_finding, finding_count.
    expectations: list[dict[str, Any]] = field(default_factory=list)
    gx_result: Any = None  # GX's own ExpectationSuiteValidationResult, for its Data Docs

    def data_docs(self) -> str:
        """This validation as a GX Data Docs page (GX's own renderer; the page loads GX's styles from CDNs)."""
        from great_expectations.render.renderer import ValidationResultsPageRenderer
        from great_expectations.render.view import DefaultJinjaPageView

        return DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(self.gx_result))


def suite_expectations(dataset: Dataset) -> list[dict[str, Any]]:
    """Every expectation run on a release of `dataset`: its suite file, then what its definition implies."""
    from audit.claims import load_claims
    from audit.validate.suite import load_suite_json

    expectations = list(load_suite_json(dataset.suite_path)["expectations"])
    for f in dataset.fields:
        if f.categories:
            expectations.append({
                "type": "expect_column_values_to_have_a_category",
                "kwargs": {"column": f.name, "mapping": f.categories},
            })
    expectations += load_claims(dataset.claims_path, [f.name for f in dataset.fields])
    return expectations


def run_expectations(
    con: duckdb.DuckDBPyConnection, table: str, dataset: Dataset, expectations: list[dict[str, Any]]
) -> Validation:
    from audit.validate.suite import run_suite
    from audit.validate.translate import findings_from_results

    result = run_suite(con, table, str(dataset.suite_path), expectations, dataset.primary_key)
    return Validation(*findings_from_results(con, result.results, dataset.primary_key, dataset.label), gx_result=result)


def validate_release(
    con: duckdb.DuckDBPyConnection, table: str, dataset: Dataset, extra: list[dict[str, Any]] | None = None
) -> Validation:
    """Every finding of the dataset's suite (and `extra` expectations, such as the revision checks a diff
    implies) on `table`, one per failing row, in suite order, and its claims."""
    return run_expectations(con, table, dataset, suite_expectations(dataset) + list(extra or []))
