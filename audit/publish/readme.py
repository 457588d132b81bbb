"""The package README: what a resident, journalist or council aide needs to read the data."""

from __future__ import annotations

from audit.dataset import Dataset
from audit.findings import Report
from audit.publish.markdown import md, md_link
from audit.publish.revisions import PublishedRevisions, readme_section


def _sources(dataset: Dataset) -> list[str]:
    out = []
    for source in dataset.descriptor.get("sources", []):
        line = f"- {'Population: ' if source.get('kind') == 'population' else ''}{md(source.get('title', ''))}"
        if source.get("vintage"):
            line += f" (vintage: {md(source['vintage'])})"
        if source.get("path"):
            line += f" {md_link(source['path'])}"
        out.append(line)
    return out or ["- (not stated)"]


def _contributors(dataset: Dataset) -> list[str]:
    people = dataset.descriptor.get("contributors", [])
    return [f"- {md(c.get('title', ''))}" + (f" ({md(c['role'])})" if c.get("role") else "") for c in people] \
        or ["- (not stated)"]


def render_readme(
    dataset: Dataset, report: Report, version: str, revisions: PublishedRevisions | None = None,
    version_rule: str = "",
    coverage: dict | None = None,
) -> str:
    release = report.release.version
    lines = [f"# {md(dataset.title)}", "", f"Version {version}" + (f", release {md(release)}" if release else "")
             + (f" ({version_rule})" if version_rule else "") + ".", ""]
    if coverage:
        lines += [f"The data cover {coverage['start']} to {coverage['end']} (by `{coverage['field']}`).", ""]
    description = dataset.descriptor.get("description", "").strip()
    lines += [md(description), ""] if description else []
    lines += ["## Sources", "", *_sources(dataset), ""]
    lines += ["## Contributors", "", *_contributors(dataset), ""]
    licences = ", ".join(md(x.get("title") or x.get("name", "")) for x in dataset.descriptor.get("licenses", []))
    lines += ["## Licence", "", licences or "(not stated)", ""]
    lines += ["## What is in this package", ""]
    lines += [
        f"- `{dataset.data_path}`: the data, {report.release.rows} rows, "
        "plain numbers with no thousands separators.",
        "- `findings.csv` and `validation.json`: everything the validation found, including accepted findings.",
        "- `datapackage.json`: the description of every column, with its unit.",
        "- `changelog.jsonl`: the office's change log for this dataset up to this publication (see below).",
        "- `report.html`: this release's audit as a web page, with a chart of each total over time.",
        "- `changelog-head.json`: the head of that change log, signed where the office signs its packages.",
        "- `SHA256SUMS` and `SHA256SUMS.sig` (where the office signs): every other file's sha256, and the office's "
        "signature of that list, which `openssl pkeyutl -verify -pubin -inkey office-public-key.pem -rawin -in "
        "SHA256SUMS -sigfile SHA256SUMS.sig` checks with no other tool.",
        *(["- `revisions.csv`: every value changed and every row added or removed since the previous "
           "published version, with the reason."] if revisions else []),
        "",
        *(readme_section(dataset, revisions) if revisions else []),
        "## Columns",
        "",
    ]
    for field in dataset.fields:
        unit = f" ({md(field.descriptor['unit'])})" if field.descriptor.get("unit") else ""
        lines.append(f"- {md(field.name)}{unit}: {md(field.descriptor.get('description', ''))}")
    lines += ["", "## Checks and caveats", ""]
    waived, others = report.waived, report.warnings
    if not report.findings:
        lines.append("Every check of the validation suite passed.")
    if waived:
        lines += ["The data office accepted these findings and publishes the data with them. Read the figures with care:", ""]
        for f in waived:
            lines.append(f"- **{md(f.describe_key())}**: {md(f.message)}. Accepted because: {md(f.waiver_reason)}")
        lines.append("")
    for f in others:
        lines.append(f"- ({f.severity}) {md(f.describe_key())}: {md(f.message)}")
    if report.normalisations:
        from audit.ingest.normalise import normalisation_text

        lines += ["", "## How the file received was read", "",
                  "To read the file as received, the office's tool made these changes, and nothing else:", ""]
        lines += [f"- {md(normalisation_text(n))}" for n in report.normalisations]
    if report.claims:
        lines += ["", "## Published statements checked against this data", ""]
        for c in report.claims:
            verdict = "supported by the data" if c.supported else (
                "not supported: the data give " + ("nothing for the rows it names" if c.computed is None
                                                    else f"{c.computed:,.2f}"))
            source = f" ({md(c.source)})" if c.source else ""
            lines.append(f"- \"{md(c.statement)}\"{source}: {verdict}.")
    lines += [
        "",
        "## Checking this package",
        "",
        "`changelog.jsonl` holds the entries the office's change log recorded for this dataset since its previous "
        "package (all of them, for the first): each release received, every value that changed and its revision "
        "note, every validation finding and waiver, and last this publication. Each entry carries the sha256 hash "
        "of its own content and of the entry before it, so no entry can be changed, removed or reordered without "
        "breaking the chain, and the first one links to the last entry of the previous package. The last entry, "
        "this publication, names the sha256 of every other file in this folder, this README and `datapackage.json` "
        "included. Its hash, the chain head, is in `changelog-head.json` (with the office's Ed25519 signature of "
        "it, when the office signs): that file and the extract are the two files the entry cannot name, since they "
        "hold its hash.",
        "",
        "To check it: `audit verify --package <this folder>` (with no access to the office; give every version "
        "from the first to check that each continues the one before), or recompute each hash as the sha256 of "
        "the entry's JSON without its `hash` key, keys sorted, no spaces. The office can show the same entry is "
        "still in its log with `audit verify --workspace <its folder> --package <this folder>`.",
        "",
    ]
    return "\n".join(lines)
