"""Write one data package: clean CSV data, the findings and report, a described schema, a README."""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from audit.dataset import Dataset
from audit.findings import Report
from audit.publish import revisions as published_revisions
from audit.publish.readme import render_readme
from audit.publish.revisions import PublishedRevisions
from audit.sql import ident, literal

# Field properties that only tell ingest how to read the incoming file: the published
# CSV is clean, so its schema must not carry them.
INGEST_ONLY_PROPERTIES = ("aliases", "groupChar", "decimalChar", "bareNumber", "trueValues", "falseValues")

FINDINGS_SCHEMA = {
    "fields": [
        {"name": "check", "type": "string", "description": "Stable code of the check that found it."},
        {"name": "severity", "type": "string", "description": "error, warning or info."},
        {"name": "key", "type": "string", "description": "Primary key of the row (JSON object; empty for the table)."},
        {"name": "columns", "type": "string", "description": "Columns involved (JSON list)."},
        {"name": "expected", "type": "string", "description": "Expected value (JSON)."},
        {"name": "observed", "type": "string", "description": "Observed value (JSON)."},
        {"name": "message", "type": "string", "description": "The finding in plain language."},
        {"name": "waived", "type": "boolean", "description": "Accepted by the data office; see waiver_reason."},
        {"name": "waiver_reason", "type": "string", "description": "Why the finding was accepted."},
    ]
}


def _published_schema(dataset: Dataset) -> dict[str, Any]:
    schema = json.loads(json.dumps(dataset.schema))
    schema.pop("missingValues", None)
    for field in schema["fields"]:
        for prop in INGEST_ONLY_PROPERTIES:
            field.pop(prop, None)
    return schema


def _write_findings_csv(path: Path, report: Report) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([f["name"] for f in FINDINGS_SCHEMA["fields"]])
        for f in report.findings:
            writer.writerow([
                f.check, f.severity, json.dumps(f.key), json.dumps(f.columns), json.dumps(f.expected),
                json.dumps(f.observed), f.message, "true" if f.waived else "false", f.waiver_reason or "",
            ])


def write_package(
    con: duckdb.DuckDBPyConnection,
    data_table: str,
    dataset: Dataset,
    report: Report,
    version: str,
    out: Path,
    chain_head: str,
    revisions: PublishedRevisions | None = None,
) -> Path:
    """Write the package for `data_table` to `out` atomically; return `out`."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _fill(staging, con, data_table, dataset, report, version, chain_head, revisions)
        _replace_dir(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _fill(folder: Path, con, data_table: str, dataset: Dataset, report: Report, version: str, chain_head: str,
          revisions: PublishedRevisions | None) -> None:
    data_path = dataset.resource.get("path") or f"data/{dataset.resource_name}.csv"
    (folder / data_path).parent.mkdir(parents=True, exist_ok=True)
    order = ", ".join(ident(k) for k in dataset.primary_key)
    target = literal(str(folder / data_path))
    con.execute(f"COPY (SELECT * FROM {data_table} ORDER BY {order}) TO {target} (HEADER, DELIMITER ',')")

    _write_findings_csv(folder / "findings.csv", report)
    (folder / "validation.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")

    descriptor = {k: v for k, v in dataset.descriptor.items() if k != "resources"}
    descriptor.update(
        version=version,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        resources=[
            {
                **{k: v for k, v in dataset.resource.items() if k not in ("schema", "path", "sheet")},
                "name": dataset.resource_name,
                "path": data_path,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "profile": "tabular-data-resource",
                "schema": _published_schema(dataset),
            },
            {
                "name": "findings",
                "path": "findings.csv",
                "title": "Validation findings",
                "description": "Every finding of the validation of this release, including waived ones.",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "profile": "tabular-data-resource",
                "schema": FINDINGS_SCHEMA,
            },
            {
                "name": "validation",
                "path": "validation.json",
                "title": "Validation report",
                "description": "The machine-readable validation report (the JSON of `audit check --format json`).",
                "format": "json",
                "mediatype": "application/json",
                "encoding": "utf-8",
            },
        ],
    )
    if revisions is not None:
        published_revisions.write_csv(folder / published_revisions.FILE_NAME, dataset, revisions)
        descriptor["resources"].append(published_revisions.resource(dataset))
    descriptor["audit"] = {"release": report.release, "changeLogHead": chain_head}
    (folder / "datapackage.json").write_text(json.dumps(descriptor, indent=2) + "\n", encoding="utf-8")
    (folder / "README.md").write_text(render_readme(dataset, report, version, chain_head, revisions), encoding="utf-8")


def _replace_dir(staging: Path, out: Path) -> None:
    """Move `staging` to `out`; an existing `out` is swapped out first and then removed."""
    if not out.exists():
        os.rename(staging, out)
        return
    retired = out.with_name(f".{out.name}.old-{os.getpid()}")
    os.rename(out, retired)
    os.rename(staging, out)
    shutil.rmtree(retired, ignore_errors=True)
