"""`audit feed`: a DCAT-US 1.1 catalog (`data.json`) of every published dataset, for portals to harvest.

CKAN, Socrata and ArcGIS Hub read this file. It is built from what is actually
published (each dataset's index.json and its latest package), never from the
log, so it lists only packages a reader can download. Download URLs are the
workspace's `portal.base_url` (audit.yaml) joined with the package paths, i.e.
the publication root is served as-is at that URL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audit.errors import ConfigError
from audit.files import write_atomically
from audit.publish.coverage import iso_interval
from audit.publish.index import read_index

CATALOG_HEAD = {
    "@context": "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld",
    "@type": "dcat:Catalog",
    "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
    "describedBy": "https://project-open-data.cio.gov/v1.1/schema/catalog.json",
}
DATA_PACKAGE_SPEC = "https://specs.frictionlessdata.io/data-package/"


def portal_settings(config: dict[str, Any], source: str) -> dict[str, Any]:
    """The workspace's `portal:` settings, checked: base_url, publisher, contact (name, email)."""
    portal = config.get("portal")
    if not isinstance(portal, dict):
        raise ConfigError(f"{source}: a portal feed needs a 'portal:' section with base_url, publisher and contact")
    missing = [k for k in ("base_url", "publisher", "contact") if not portal.get(k)]
    contact = portal.get("contact") or {}
    missing += [f"contact.{k}" for k in ("name", "email") if isinstance(contact, dict) and not contact.get(k)]
    if missing:
        raise ConfigError(f"{source}: portal settings lack {', '.join(missing)}")
    return portal


def build_catalog(root: Path, portal: dict[str, Any], base: str | None = None,
                  landing: dict[str, str] | None = None) -> dict[str, Any]:
    """The catalog of every dataset published under `root`, served at `base` (default: portal.base_url);
    `landing` gives a dataset's landing page (default: its latest package's README)."""
    base = (base or portal["base_url"]).rstrip("/") + "/"
    datasets = []
    for index_path in sorted(root.glob("*/index.json")):
        index = read_index(index_path.parent)
        if index and index.get("latest"):
            entry = _dataset_entry(index_path.parent, index, base, portal)
            if landing and index_path.parent.name in landing:
                entry["landingPage"] = landing[index_path.parent.name]
            datasets.append(entry)
    return {**CATALOG_HEAD, "dataset": datasets}


def _dataset_entry(folder: Path, index: dict[str, Any], base: str, portal: dict[str, Any]) -> dict[str, Any]:
    latest = next(v for v in index["versions"] if v["version"] == index["latest"])
    package = json.loads((folder / latest["path"] / "datapackage.json").read_text(encoding="utf-8"))
    url = f"{base}{folder.name}/{latest['path']}"
    publisher = portal["publisher"]
    entry: dict[str, Any] = {
        "@type": "dcat:Dataset",
        # The dataset's one identifier, wherever the catalog is served (the portal's feed, the site's copy): the
        # office's own address for it, so that a harvester never takes one dataset for two.
        "identifier": f"{portal['base_url'].rstrip('/')}/{folder.name}/",
        "title": package.get("title") or folder.name,
        "description": (package.get("description") or package.get("title") or folder.name).strip(),
        "keyword": package.get("keywords") or [folder.name],
        "issued": index["versions"][0]["published"][:10],
        "modified": package.get("created") or latest["published"],
        "publisher": {"@type": "org:Organization",
                      "name": publisher["name"] if isinstance(publisher, dict) else str(publisher)},
        "contactPoint": {"@type": "vcard:Contact", "fn": portal["contact"]["name"],
                         "hasEmail": "mailto:" + portal["contact"]["email"].removeprefix("mailto:")},
        "accessLevel": portal.get("access_level", "public"),
        "landingPage": f"{url}README.md",
        "describedBy": f"{url}datapackage.json",
        "describedByType": "application/json",
        "distribution": [_distribution(r, url) for r in package.get("resources", [])] + [{
            "@type": "dcat:Distribution", "title": "Data package descriptor (Frictionless)",
            "downloadURL": f"{url}datapackage.json", "mediaType": "application/json", "format": "JSON",
            "conformsTo": DATA_PACKAGE_SPEC,
        }],
    }
    licences = [x.get("path") for x in package.get("licenses", []) if str(x.get("path", "")).startswith("http")]
    if licences:
        entry["license"] = licences[0]
    coverage = (package.get("audit") or {}).get("temporal")
    if coverage:
        entry["temporal"] = iso_interval(coverage)
    for key, setting in (("bureauCode", "bureau_code"), ("programCode", "program_code"),
                         ("accrualPeriodicity", "accrual_periodicity")):
        if portal.get(setting):
            entry[key] = portal[setting]
    return entry


def _distribution(resource: dict[str, Any], url: str) -> dict[str, Any]:
    out = {
        "@type": "dcat:Distribution",
        "title": resource.get("title") or resource.get("name"),
        "downloadURL": url + resource["path"],
        "mediaType": resource.get("mediatype") or "application/octet-stream",
        "format": str(resource.get("format") or "").upper() or None,
    }
    if resource.get("description"):
        out["description"] = resource["description"]
    return {k: v for k, v in out.items() if v is not None}


def write_feed(root: Path, portal: dict[str, Any], out: Path) -> dict[str, Any]:
    """Write the catalog to `out` atomically; return it."""
    catalog = build_catalog(root, portal)
    write_atomically(out, json.dumps(catalog, indent=2, ensure_ascii=False) + "\n")
    return catalog
