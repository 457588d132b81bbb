"""The files of one data package: clean CSV data, the findings and report, a described schema, the change
log extract, a README. Where they are written, and when, is `publish.folder`'s business."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import duckdb

from audit.dataset import Dataset
from audit.diff.window import file_date
from audit.files import file_sha256
from audit.findings import Report
from audit.formulas import spreadsheet_safe, spreadsheet_safe_sql
from audit.log.manifest import EXTRACT_FILE, HEAD_FILE
from audit.log.store import as_json
from audit.publish import revisions as published_revisions
from audit.publish.branding import Branding
from audit.publish.readme import render_readme
from audit.publish.report_page import render_report_page
from audit.publish.revisions import PublishedRevisions
from audit.sql import alongside, ident, literal

REPORT_PAGE = "report.html"
# Field properties that only tell ingest how to read the incoming file: the published
# CSV is clean, so its schema must not carry them.
INGEST_ONLY_PROPERTIES = ("aliases", "groupChar", "decimalChar", "bareNumber", "trueValues", "falseValues",
                          "missingValues")

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


def published_schema(dataset: Dataset) -> dict[str, Any]:
    schema = json.loads(json.dumps(dataset.schema))
    schema.pop("missingValues", None)
    for field in schema["fields"]:
        for prop in INGEST_ONLY_PROPERTIES:
            field.pop(prop, None)
    return schema


def published_columns(dataset: Dataset) -> str:
    """The SELECT list of the published data file: every field in schema order, text that starts like a
    formula with a leading ' (see the formula-injection check)."""
    return ", ".join(f"{spreadsheet_safe_sql(ident(f.name))} AS {ident(f.name)}" if f.type == "string"
                     else ident(f.name) for f in dataset.fields)


def _write_findings_csv(path: Path, report: Report) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([f["name"] for f in FINDINGS_SCHEMA["fields"]])
        for f in report.findings:
            # Every cell protected from spreadsheet formulas, the office's own text (a waiver's reason) too.
            writer.writerow([spreadsheet_safe(cell) for cell in (
                f.check, f.severity, json.dumps(f.key), json.dumps(f.columns), json.dumps(f.expected),
                json.dumps(f.observed), f.message, "true" if f.waived else "false", f.waiver_reason or "")])


def write_data_files(
    folder: Path,
    con: duckdb.DuckDBPyConnection,
    data_table: str,
    dataset: Dataset,
    report: Report,
    revisions: PublishedRevisions | None = None,
    package_version: str | None = None,
    brand: Branding | None = None,
) -> None:
    """Write the package's data files and its report page into `folder`.

    GX's Data Docs page of the validation stays in the workspace (data-docs/): it puts failing values into
    its markup unescaped and loads its styles from other hosts, so it is not safe to publish."""
    data_path = dataset.data_path
    (folder / data_path).parent.mkdir(parents=True, exist_ok=True)
    target = literal(str(folder / data_path))
    columns = published_columns(dataset)
    # Rows in the order the office released them (the stored copy keeps it): sorting ten million rows by key
    # would double the cost of writing them. DuckDB writes them while Python writes the other files.
    copy = f"COPY (SELECT {columns} FROM {data_table}) TO {target} (HEADER, DELIMITER ',')"
    with alongside(con, lambda cursor: cursor.execute(copy)) as copying:
        _write_findings_csv(folder / "findings.csv", report)
        (folder / "validation.json").write_text(report.to_json() + "\n", encoding="utf-8")
        if revisions is not None:
            published_revisions.write_csv(folder / published_revisions.FILE_NAME, dataset, revisions)
        page = render_report_page(con, data_table, dataset, report, revisions, package_version, brand)
        (folder / REPORT_PAGE).write_text(page, encoding="utf-8")
    copying.result()


def write_descriptor(
    folder: Path,
    dataset: Dataset,
    report: Report,
    version: str,
    revisions: PublishedRevisions | None = None,
    version_rule: str = "",
    coverage: dict[str, Any] | None = None,
    digests: dict[str, str] | None = None,
    issued: date | None = None,
) -> None:
    """Write datapackage.json and README.md (with each resource's size and sha256, from `digests` by path where
    the caller has them), which say why the package has the version it has (`version_rule`)
    and where its log extract and head are. They name no hash of the head: the publication entry, whose hash
    is the head, covers them."""
    data_path = dataset.data_path
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
                "schema": published_schema(dataset),
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
        descriptor["resources"].append(published_revisions.resource(dataset))
    descriptor["resources"].append({
        "name": "changelog",
        "path": EXTRACT_FILE,
        "title": "Change log extract",
        "description": "The entries of the office's change log for this dataset since its previous package, up to "
                       "and including this publication, one JSON object a line, hash-chained: check it with "
                       "`audit verify --package`.",
        "format": "txt",  # JSON lines; "jsonl" would make frictionless read it as a table
        "mediatype": "application/x-ndjson",
        "encoding": "utf-8",
    })
    descriptor["resources"].append({
        "name": "changelog-head",
        "path": HEAD_FILE,
        "title": "Change log head",
        "description": "The hash of this publication's log entry (the last line of the extract), which lists every "
                       "other file of this package by its sha256, and the office's signature of it if it signs.",
        "format": "json",
        "mediatype": "application/json",
        "encoding": "utf-8",
    })
    for resource in descriptor["resources"]:
        _size_and_digest(folder, resource, digests or {})
    release = report.release.to_dict()
    # When the release was issued: as the office says (publish --issued), else where its file's name says (an
    # export's as-of date, crime-2025-06-02.csv): a back-filled history published in one afternoon keeps its own
    # dates beside the day each package was made.
    issued = issued or file_date(str(report.release.source or ""))
    if issued is not None:
        release["issued"] = issued.isoformat()
    descriptor["audit"] = {"release": release, "versionRule": version_rule, "temporal": coverage,
                           "changeLog": {"extract": EXTRACT_FILE, "head": HEAD_FILE}}
    (folder / "datapackage.json").write_text(json.dumps(descriptor, indent=2) + "\n", encoding="utf-8")
    readme = render_readme(dataset, report, version, revisions, version_rule, coverage)
    (folder / "README.md").write_text(readme, encoding="utf-8")


def _size_and_digest(folder: Path, resource: dict[str, Any], digests: dict[str, str]) -> None:
    """A resource's `bytes` and `hash` (sha256), as the Data Package standard gives them, so that a reader checks
    the file with any Frictionless tool (`frictionless validate` reports a hash-count or byte-count error) without
    this one. The log extract and head are written after the descriptor (the publication entry lists the
    descriptor's own digest), so they carry none: the chain itself covers them."""
    path = folder / resource["path"]
    if resource["name"] in ("changelog", "changelog-head") or not path.is_file():
        return
    resource["bytes"] = path.stat().st_size
    resource["hash"] = f"sha256:{digests.get(resource['path']) or file_sha256(path)}"


def write_extract(folder: Path, entries: Iterable[dict[str, Any]]) -> None:
    """The dataset's log entries, one canonical JSON object a line (the form that is hashed, plus `hash`)."""
    with (folder / EXTRACT_FILE).open("w", encoding="utf-8", newline="\n") as handle:
        for entry in entries:
            handle.write(as_json(entry) + "\n")
