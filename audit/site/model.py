"""What the public site shows, read from the published packages alone (never from the office's log): what a
resident, a journalist or an outside auditor can download is what the pages describe.

    published/<dataset>/index.json          -> every version, newest first
    published/<dataset>/<version>/          -> datapackage.json (what it is, fields, sources), revisions.csv
                                               (what changed and why), findings.csv (what was found, and
                                               waived), validation.json (claims), the change-log extract

Each package is verified as an outsider would (audit.verify.package.verify_package), and the page says what
that check showed, and what it cannot show.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.findings import number, shown
from audit.log.manifest import EXTRACT_FILE, HEAD_FILE
from audit.publish.index import read_index
from audit.verify.package import PackageCheck, compare_packages, verify_package


@dataclass(frozen=True)
class Download:
    title: str
    href: str             # relative to the site's root
    size: int
    sha256: str           # of the file as served, to compare with what a reader downloaded


@dataclass
class ChangeGroup:
    """Changes one reason explains (or none does)."""
    reason: str
    explained: bool
    waived: bool = False
    reference: str | None = None
    approved_by: str | None = None
    changes: list[str] = field(default_factory=list)


@dataclass
class Version:
    version: str
    release: str
    published: str                      # ISO date-time
    rule: str                           # why this version number
    head: str
    check: PackageCheck
    downloads: list[Download]
    changes: list[ChangeGroup]
    waived: list[tuple[str, str]]       # (finding, the office's reason)
    open_findings: int
    claims: list[dict[str, Any]]
    folder: Path                        # the package's folder, in the site's copy
    previous: str | None = None
    issued: str = ""                    # when its release was issued (the date in its file's name), if known
    archive: Download | None = None     # every file of the version, in one zip (audit.site.write_archive)
    sums: Download | None = None        # their sha256 digests, as `sha256sum -c` reads them

    @property
    def signed_sums(self) -> bool:
        """Whether the package lists its files for sha256sum, signed for openssl (audit.log.manifest)."""
        from audit.log.manifest import SUMS_FILE, SUMS_SIGNATURE

        return all((self.folder / name).is_file() for name in (SUMS_FILE, SUMS_SIGNATURE))

    @property
    def change_count(self) -> int:
        return sum(len(g.changes) for g in self.changes)

    @property
    def unsupported_claims(self) -> list[dict[str, Any]]:
        return [c for c in self.claims if not c.get("supported")]


@dataclass
class Field:
    name: str
    title: str
    type: str
    unit: str
    description: str


@dataclass
class Chart:
    title: str
    svg: str
    rows: list[tuple[str, str]]         # (period, value as printed) for the text alternative
    notes: dict[str, str] = field(default_factory=dict)   # period -> what the chart marks there, in words


@dataclass
class Dataset:
    name: str
    title: str
    description: str
    sources: list[dict[str, Any]]
    licences: list[dict[str, Any]]
    publisher: str
    keywords: list[str]
    fields: list[Field]
    key: list[str]
    coverage: str
    versions: list[Version]             # newest first
    charts: list[Chart] = field(default_factory=list)
    preview: list[list[str]] = field(default_factory=list)   # the latest data's header and first rows, as written

    @property
    def latest(self) -> Version:
        return self.versions[0]

    @property
    def verified(self) -> bool:
        return all(v.check.ok and not v.check.failed for v in self.versions)

    @property
    def summary(self) -> str:
        """The description's first sentence: what a list of datasets shows."""
        text = " ".join(self.description.split())
        end = text.find(". ")
        return text if end < 0 else text[:end + 1]

    @property
    def status(self) -> list[str]:
        """The dataset's state in words, most serious first."""
        out = []
        if not self.verified:
            problem = next((p for v in self.versions for p in v.check.problems), "")
            out.append(f"NOT verified: {problem}" if problem else
                       "NOT verified: a published package does not match its change log")
        else:
            # What was checked, in so many words: "verified" alone reads as "the figures are right", which no
            # check of files and signatures can say (the findings are the next line).
            signed = all(v.check.signed_by for v in self.versions)
            out.append("signature and history verified" if signed else "files and history verified")
        latest = self.latest
        if latest.open_findings:
            out.append(f"{latest.open_findings:,} finding(s) open")
        if latest.waived:
            out.append(f"{len(latest.waived):,} finding(s) waived by the office, with reasons")
        if latest.unsupported_claims:
            out.append(f"{len(latest.unsupported_claims):,} published claim(s) not supported by the data")
        return out


def _csv_rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _cell(text: str) -> str:
    """A CSV cell as written by the packages (JSON numbers, text made spreadsheet-safe) as a reader sees it."""
    if text == "":
        return "(missing)"
    try:
        return shown(json.loads(text))
    except ValueError:
        return text.removeprefix("'")


def _changes(rows: list[dict[str, str]], key: list[str], labels: dict[str, str]) -> list[ChangeGroup]:
    groups: dict[str, ChangeGroup] = {}
    for row in rows:
        where = ", ".join(f"{labels.get(k, k)} {row.get(k, '')}" for k in key if row.get(k, "") != "") or "the table"
        change, column = row.get("change", ""), row.get("column", "")
        label = labels.get(column, column)
        if change == "changed":
            text = f"{where}: {label} changed from {_cell(row.get('old', ''))} to {_cell(row.get('new', ''))}"
        elif change == "relabelled":
            text = f"{where}: {label} relabelled from {_cell(row.get('old', ''))} to {_cell(row.get('new', ''))}"
        elif change in ("added", "removed"):
            text = f"{where}: row {change}"
        else:
            text = f"column {label} {change.removeprefix('column-')}"
        note = row.get("note", "")
        reason = row.get("reason", "")
        if note:
            group = groups.setdefault(note, ChangeGroup(reason or note, True, False, row.get("reference") or None,
                                                         row.get("approved_by") or None))
        elif reason:  # no note, but the office waived it with a reason
            group = groups.setdefault("waived:" + reason, ChangeGroup(reason, False, True))
        else:
            group = groups.setdefault("", ChangeGroup("No revision note explains these changes", False))
        group.changes.append(text)
    return sorted(groups.values(), key=lambda g: (g.explained, g.waived))


def _downloads(folder: Path, href: str, package: dict[str, Any]) -> list[Download]:
    """A version's files, the data first, each with a plain label, its size and its sha256; then what explains the
    data (findings, revisions, report, README), then what a machine or a verifier reads."""
    from audit.files import file_sha256

    resources = package.get("resources", [])
    data = {r.get("path") for r in resources[:1]}
    titles = {r.get("path"): r.get("title") or r.get("name") for r in resources}
    titles.update({p: f"The data (CSV): {titles[p]}" for p in data if p})
    titles.update({"findings.csv": "Findings of the checks (CSV)",
                   "revisions.csv": "What changed since the previous version, and why (CSV)",
                   "report.html": "Validation report (web page)", "README.md": "README: what the data is (text)",
                   "datapackage.json": "Data package descriptor (Frictionless JSON)",
                   "validation.json": "Validation results (machine-readable JSON)",
                   EXTRACT_FILE: "Change log extract (for verification)",
                   HEAD_FILE: "Change log head (for verification)"})
    order = [*sorted(p for p in data if p), "findings.csv", "revisions.csv", "report.html", "README.md",
             "datapackage.json", "validation.json"]
    files = sorted((p for p in folder.rglob("*") if p.is_file()),
                   key=lambda p: (order.index(rel) if (rel := p.relative_to(folder).as_posix()) in order else len(order),
                                  rel))
    return [Download(titles.get(rel) or rel, f"{href}{rel}", path.stat().st_size, file_sha256(path))
            for path in files for rel in [path.relative_to(folder).as_posix()]]


@dataclass(frozen=True)
class Trust:
    """What the site's "verified" requires of a package: signed by `office_key` (the office's configured key, when
    it has one), and cosigned by the `witnesses` the office names (audit.verify.WitnessRequirement), when it does."""

    office_key: bytes | None = None
    witnesses: Any = None


def read_dataset(folder: Path, href: str, trust: Trust | None = None) -> Dataset | None:
    """The dataset published in `folder` (a dataset folder of the publication root); `href` is that folder's
    address from the site's root. None when it has no published version."""
    from audit.verify.witnessed import hold_to_witnesses

    trust = trust or Trust()
    index = read_index(folder)
    if not index or not index.get("versions"):
        return None
    entries = list(reversed(index["versions"]))
    checks = [verify_package(folder / e["path"], trust.office_key) for e in entries]
    compare_packages(checks, with_log=False)
    if trust.witnesses is not None:
        hold_to_witnesses(checks, trust.witnesses)
    latest = _json(folder / entries[0]["path"] / "datapackage.json")
    resource = next((r for r in latest.get("resources", []) if r.get("profile") == "tabular-data-resource"),
                    (latest.get("resources") or [{}])[0])
    schema = resource.get("schema") or {}
    fields = [Field(f["name"], f.get("title") or f["name"], f.get("type", "string"), f.get("unit", ""),
                    f.get("description", "")) for f in schema.get("fields", [])]
    labels = {f.name: f.title for f in fields}
    key = schema.get("primaryKey") or schema.get("matchKey") or []
    key = [key] if isinstance(key, str) else list(key)
    versions = []
    for i, (entry, check) in enumerate(zip(entries, checks)):
        path = folder / entry["path"]
        package = _json(path / "datapackage.json")
        report = _json(path / "validation.json")
        findings = _csv_rows(path / "findings.csv")
        waived = [(f.get("message", ""), f.get("waiver_reason", "")) for f in findings if f.get("waived") == "true"]
        open_ = sum(1 for f in findings if f.get("waived") != "true" and f.get("severity") == "error")
        versions.append(Version(
            version=entry["version"], release=str(entry.get("release", "")), published=entry.get("published", ""),
            rule=(package.get("audit") or {}).get("versionRule", ""), head=entry.get("changeLogHead", ""),
            check=check, downloads=_downloads(path, f"{href}{entry['path']}", package),
            changes=_changes(_csv_rows(path / "revisions.csv"), key, labels), waived=waived, open_findings=open_,
            claims=list(report.get("claims") or []), folder=path,
            issued=str(((package.get("audit") or {}).get("release") or {}).get("issued") or ""),
            previous=entries[i + 1]["version"] if i + 1 < len(entries) else None))
    coverage = (latest.get("audit") or {}).get("temporal") or {}
    data = folder / entries[0]["path"] / str(resource.get("path") or "")
    preview = _first_rows(data) if resource.get("path") and data.is_file() else []
    publisher = next((c.get("title") for c in latest.get("contributors", []) if c.get("role") == "publisher"), "")
    return Dataset(
        name=folder.name, title=latest.get("title") or folder.name, description=latest.get("description") or "",
        sources=list(latest.get("sources") or []), licences=list(latest.get("licenses") or []),
        publisher=publisher or "", keywords=list(latest.get("keywords") or []), fields=fields, key=key,
        coverage=f"{coverage['start']} to {coverage['end']}" if coverage.get("start") else "",
        versions=versions, preview=preview)


PREVIEW_ROWS = 10


def _first_rows(path: Path) -> list[list[str]]:
    """The header and the first PREVIEW_ROWS rows of a published CSV, as written (the reader sees the file)."""
    import itertools

    with path.open(newline="", encoding="utf-8") as handle:
        return [list(row) for row in itertools.islice(csv.reader(handle), PREVIEW_ROWS + 1)]


def size_text(size: int) -> str:
    for unit, scale in (("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{number(size)} bytes"
