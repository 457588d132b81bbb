"""One publication: choose its version, build its package aside, record it, move it into place.

See `folder` for why a crash at any point loses nothing, `versioning` for the version
rule and `index` for the index of a dataset's versions.
"""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.crashpoints import crash_point
from audit.dataset import Dataset
from audit.errors import ConfigError, StateError
from audit.findings import Report
from audit.log import ChangeLog
from audit.log.store import as_json, who
from audit.log.verify import EXTRACT_FILE
from audit.publish import folder
from audit.publish.coverage import temporal_coverage
from audit.publish.index import write_index
from audit.publish.package import published_schema, write_data_files, write_descriptor, write_extract
from audit.publish.revisions import PublishedRevisions
from audit.publish.versioning import next_version, schema_sha256


@dataclass
class Publication:
    path: Path
    version: str          # the package's version (see `versioning`)
    why: str              # which part of the version rule gave it
    already_published: bool = False


def relative_path(root: Path, path: Path) -> str:
    """How the log records a folder: relative to the workspace when inside it, since the log extract
    is published and the office's own folders need not be."""
    return str(path.relative_to(root) if path.is_relative_to(root) else path)


def existing_publication(root: Path, log: ChangeLog, dataset: Dataset, publication: dict[str, Any]) -> Publication:
    """A release already published: its package, put in place first if a crash left it pending."""
    target = root / publication["path"]
    if not folder.complete(target, publication["hash"]):
        raise StateError(f"{publication['release_id']} was published to {target}, which is gone; "
                         "copy the package back from where it was published")
    _update_index(root, log, dataset, target.parent)
    return Publication(target, publication["package_version"], "published before", already_published=True)


def publish_release(
    root: Path, log: ChangeLog, dataset: Dataset, release: dict[str, Any], report: Report, out: Path,
    signing_key: Path | None = None, data_docs: Path | None = None,
) -> Publication:
    """Publish `release` (recorded, with no blocking findings) under `out`/<dataset>/<version>/, with the
    GX Data Docs page of its validation (`data_docs`) if ingest left one."""
    from audit.log.signing import Signer

    check_publishable(dataset, report)
    signer = Signer(signing_key) if signing_key else None
    earlier = log.publications(dataset.name)
    schema_sha = schema_sha256(published_schema(dataset))
    previous = earlier[-1] if earlier else None
    version, why = next_version(previous and previous["package_version"],
                                previous is not None and previous["schema_sha256"] != schema_sha,
                                (report.revisions or {}).get("counts"))
    target = (out / dataset.name / version).resolve()
    if target.exists():
        raise StateError(f"{target} already exists: a published package is never overwritten")
    revisions = published_revisions(log, report, release)
    folder.clear_abandoned(target.parent, {p["hash"][:16] for p in earlier})
    staging = folder.staging_folder(target)
    try:
        files = write_data_files(staging, log.con, log.data_table(release["data_table"]), dataset, report, revisions,
                                 version, data_docs)
        entry = log.next_entry("publications", dataset.name, {
            "release_id": release["release_id"], "package_version": version, "path": relative_path(root, target),
            "files": as_json(files), "schema_sha256": schema_sha,
            "signing_key": signer.fingerprint if signer else None, "recorded_by": who(),
        })
        change_log = {"path": EXTRACT_FILE, "seq": entry["seq"], "head": entry["hash"]}
        if signer:
            change_log["signature"] = signer.sign(entry["hash"])
        write_extract(staging, itertools.chain(log.entries(dataset.name), [entry]))
        coverage = temporal_coverage(log.con, log.data_table(release["data_table"]), dataset)
        write_descriptor(staging, dataset, report, version, change_log, revisions, why, coverage)
        crash_point("publish-package-written")
        folder.seal(staging, folder.pending_folder(target, entry["hash"]))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    crash_point("publish-before-commit")
    with log.transaction():
        log.append_entry(entry)
    crash_point("publish-after-commit")
    folder.complete(target, entry["hash"])
    _update_index(root, log, dataset, target.parent)
    return Publication(target, version, why)


def check_publishable(dataset: Dataset, report: Report) -> None:
    """What a package must document before it may go out: a licence, a description of every field, and,
    where rates are published (the suite checks rate math), the population source and its vintage, since
    a rate means little without them. Every gap is named at once."""
    gaps = []
    if not dataset.descriptor.get("licenses"):
        gaps.append("a licence (licenses: [{name: PDDL-1.0, path: https://opendatacommons.org/licenses/pddl/1-0/}])")
    undocumented = [f.name for f in dataset.fields if not str(f.descriptor.get("description", "")).strip()]
    if undocumented:
        gaps.append(f"a description of each field (none for {', '.join(undocumented)})")
    if any(o["check"] == "rate-math" for o in report.expectations):
        source = dataset.population_source
        if source is None or not source.get("vintage"):
            gaps.append("the population source and its vintage, since it publishes rates (sources: [{title: US Census "
                        "Bureau population estimates, kind: population, vintage: Vintage 2023 estimates}])")
    if gaps:
        raise ConfigError(f"{dataset.descriptor_path}: {dataset.name} cannot be published without "
                          + "; ".join(gaps))


def published_revisions(log: ChangeLog, report: Report, release: dict[str, Any]) -> PublishedRevisions | None:
    """The release's changes against its baseline, with notes and waivers, as packages and reports show them."""
    if report.revisions is None:
        return None
    revisions = PublishedRevisions.from_log(report, log.changes(release["release_id"]),
                                            log.notes(release["release_id"]))
    baseline = log.publication_of(report.revisions["baseline"]["release_id"])
    if baseline is not None:  # name the version readers know, with the office's release label
        revisions.baseline_version = f"{baseline['package_version']} (release {revisions.baseline_version})"
    return revisions


def _update_index(root: Path, log: ChangeLog, dataset: Dataset, dataset_folder: Path) -> None:
    here = [p for p in log.publications(dataset.name) if (root / p["path"]).parent == dataset_folder]
    write_index(dataset_folder, dataset.name, here)
