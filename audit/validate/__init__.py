"""Validate: run a dataset's GX suite on a loaded release inside DuckDB and return findings."""

from __future__ import annotations

import duckdb

from audit.dataset import Dataset
from audit.findings import Finding


def validate_release(con: duckdb.DuckDBPyConnection, table: str, dataset: Dataset) -> list[Finding]:
    """Every finding of the dataset's suite on `table`, one per failing row, in suite order."""
    from audit.validate.suite import run_suite
    from audit.validate.translate import findings_from_results

    results = run_suite(con, table, dataset.suite_path, dataset.primary_key)
    return findings_from_results(con, results, dataset.primary_key, dataset.label)
