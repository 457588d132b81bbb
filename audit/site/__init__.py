"""`audit site`: the public site over the published packages, for residents, journalists and auditors.

    published/ --read (model.py: packages, verified as an outsider would)--> Dataset records
               --render (Jinja2 templates in audit/publish/templates/)--> site/index.html, datasets/<name>.html,
                 glossary.html, feed.atom, data.json, packages/ (the published files, to download)

The pages are static and self-contained (no script, no request to another host), so a city can host the
folder anywhere, and they say only what the packages show.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.errors import TamperError
from audit.files import HeldFiles
from audit.findings import CHECKS
from audit.outputs import MARKER, Output, mark
from audit.publish.branding import branding
from audit.site.charts import dataset_charts
from audit.site.model import Dataset, Download, Trust, Version, read_dataset, size_text

PACKAGES = "packages"
BUILDING = ".building"
REPLACED = ".replaced"


@dataclass
class Site:
    root: Path
    pages: list[Path]
    datasets: list[Dataset]
    catalog: bool


def _site_branding(config: dict[str, Any], workspace_root: Path) -> dict[str, Any]:
    """The branding as the templates read it; the site's name falls back to the portal's publisher."""
    brand = branding(config, workspace_root)
    publisher = (config.get("portal") or {}).get("publisher") or {}
    name = brand.name or (publisher.get("name") if isinstance(publisher, dict) else None) or "Open public safety data"
    return {"name": name, "accent": brand.accent, "logo": brand.logo, "public_key": brand.public_key}


def _copy_tree(source: Path, target: Path) -> None:
    """The published files, hard-linked where the disk allows (no second copy of a large package). The publication
    root's own catalog (`audit feed`'s data.json) is not among them: its addresses are the portal's, and under
    packages/ they would lead nowhere; the site writes its own catalog, of the same datasets under the same
    identifiers."""
    for path in source.rglob("*"):
        if path.is_symlink() or not path.is_file() or path == source / "data.json":
            continue  # a published folder holds no links; none is followed out of it
        to = target / path.relative_to(source)
        to.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, to)
        except OSError:
            shutil.copy2(path, to)


def _published_files(packages: Path) -> list[Path]:
    """The files copied from the publication root into the site's packages/, without the archives the site writes
    beside each dataset's versions (`write_archive`)."""
    return sorted(p for p in packages.rglob("*") if p.is_file()
                  and not (p.parent.parent == packages and p.suffix in (".zip", ".SHA256SUMS")))


def build_site(publish_root: Path, out: Path, config: dict[str, Any], workspace_root: Path,
               trust: Trust | None = None) -> Site:
    """Write the site for every dataset published under `publish_root` into `out` (replaced whole)."""
    site = _site_branding(config, workspace_root)
    portal = config.get("portal") or {}
    base = (portal.get("site_url") or portal.get("base_url") or "").rstrip("/")
    base = base + "/" if base else ""
    # Built in a hidden folder inside `out` (never beside it: the folder around `out` is not the tool's), then
    # put in place entry by entry: a reader may see an old page beside a new one for a moment, never half a page.
    work = out / BUILDING
    try:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        mark(out, Output.SITE)
        return _build(work, out, publish_root, site, portal, base, workspace_root, trust)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(out / REPLACED, ignore_errors=True)


def write_archive(work: Path, name: str, version: Version) -> tuple[Download, Download]:
    """One version as a reader downloads it whole: `packages/NAME/NAME-VERSION.zip`, whose folders are NAME/VERSION/
    (so `audit verify --package NAME/VERSION` reads it as unpacked), and `NAME-VERSION.SHA256SUMS`, every file's
    digest in the form `sha256sum -c` checks. The archive is the same bytes for the same files (its times fixed):
    `audit verify --site` holds it to the package it unpacks to (audit.verify.site)."""
    import zipfile

    from audit.files import file_sha256

    folder = work / PACKAGES / name
    files = sorted(p for p in version.folder.rglob("*") if p.is_file())
    # Each file's digest, as its download link already has it (read once, not again for the list).
    within = version.folder.relative_to(work).as_posix() + "/"
    digests = {d.href.removeprefix(within): d.sha256 for d in version.downloads}
    archive = folder / f"{name}-{version.version}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in files:
            info = zipfile.ZipInfo(f"{name}/{version.version}/{path.relative_to(version.folder).as_posix()}",
                                   date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(info, path.read_bytes())
    sums = folder / f"{name}-{version.version}.SHA256SUMS"
    relative = [p.relative_to(version.folder).as_posix() for p in files]
    sums.write_text("".join(f"{digests.get(rel) or file_sha256(p)}  {name}/{version.version}/{rel}\n"
                            for p, rel in zip(files, relative)), encoding="utf-8")
    def download(title: str, path: Path) -> Download:
        return Download(title, f"{PACKAGES}/{name}/{path.name}", path.stat().st_size, file_sha256(path))

    return download("Every file of this version (zip)", archive), download("Their sha256 digests (SHA256SUMS)", sums)


def _build(work: Path, out: Path, publish_root: Path, site: dict[str, Any], portal: dict[str, Any], base: str,
           workspace_root: Path, trust: Trust | None) -> Site:
    from audit.publish import templates
    from audit.publish.feed import build_catalog

    _copy_tree(publish_root, work / PACKAGES)
    # Hard links share the published files: each is verified, then read again for its page, its archive and its
    # digests. The same files for all of them, or the site would say "verified" of files it did not check.
    held = HeldFiles.of(work / PACKAGES, _published_files)
    datasets = []
    for index in sorted((work / PACKAGES).glob("*/index.json")):
        dataset = read_dataset(index.parent, f"{PACKAGES}/{index.parent.name}/", trust)
        if dataset is not None:
            dataset.charts = dataset_charts(dataset.latest.folder)
            datasets.append(dataset)
    for dataset in datasets:
        for version in dataset.versions:
            version.archive, version.sums = write_archive(work, dataset.name, version)
    environment = templates.environment()
    built = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    catalog = bool(portal.get("publisher") and portal.get("contact") and base)
    # Whom a reader asks about the data: the office's contact from audit.yaml's portal settings, on every page.
    given = portal.get("contact")
    contact: dict[str, Any] = given if isinstance(given, dict) else {}
    common = {"site": site, "built": built.strftime("%Y-%m-%d %H:%M UTC"), "catalog": catalog, "size": size_text,
              "contact": {"name": str(contact.get("name") or ""),
                          "email": str(contact.get("email") or "").removeprefix("mailto:")}}
    if site["logo"]:
        shutil.copy2(site["logo"], work / site["logo"].name)
        site["logo"] = site["logo"].name
    if site["public_key"]:
        shutil.copy2(site["public_key"], work / "office-public-key.pem")
    pages = []

    def write(relative: str, template: str, **values: Any) -> None:
        path = work / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(environment.get_template(template).render(**common, **values), encoding="utf-8")
        pages.append(out / relative)

    write("index.html", "index.html.j2", root="", datasets=datasets)
    for dataset in datasets:
        write(f"datasets/{dataset.name}.html", "dataset.html.j2", root="../", d=dataset)
    write("glossary.html", "glossary.html.j2", root="", checks=sorted(CHECKS.items()))
    entries = sorted(((d, v) for d in datasets for v in d.versions), key=lambda e: e[1].published, reverse=True)
    feed_id = base + "feed.atom" if base else "urn:x-audit-site:" + re.sub(r"[^a-z0-9]+", "-", site["name"].lower())
    (work / "feed.atom").write_text(environment.get_template("feed.atom.j2").render(
        site=site, base=base, feed_id=feed_id, entries=entries,
        updated=entries[0][1].published if entries else built.isoformat()), encoding="utf-8")
    if catalog:
        import json

        landing = {d.name: f"{base}datasets/{d.name}.html" for d in datasets}
        document = build_catalog(work / PACKAGES, portal, base + PACKAGES, landing)
        (work / "data.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if held.changed():
        raise TamperError(f"the published packages under {publish_root} were changed while the site was built from "
                          "them; nothing was written")
    _replace_contents(out, work)
    return Site(out, pages, datasets, catalog)


def _replace_contents(out: Path, work: Path) -> None:
    """Move the site built in `work` into `out` in place of what the last build left there (set aside first, so
    each entry is renamed, never half-written; what was set aside is removed afterwards)."""
    replaced = out / REPLACED
    shutil.rmtree(replaced, ignore_errors=True)
    replaced.mkdir()
    keep = {BUILDING, REPLACED, MARKER}
    for entry in out.iterdir():
        if entry.name not in keep:
            entry.rename(replaced / entry.name)
    for entry in work.iterdir():
        entry.rename(out / entry.name)
