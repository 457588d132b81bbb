"""A public site held to its packages, as a reader can check it (`audit verify --site DIR`): what the public reads
must be what the office published, signed and witnessed.

- every package the site offers verifies on its own (its extract, files, data and signature; with witness keys,
  their cosignatures), and each dataset's versions continue one another;
- every link of every page that leads into the site resolves, and a download leads to a file of a package that
  verifies; no link runs script (`javascript:`, `data:`);
- every distribution of `data.json` and every entry of `feed.atom` leads to a verified package's file or version,
  and every landing page and entry link to a page of the site;
- the public key the site serves is the office's, as the reader obtained it (`--public-key`).
"""

from __future__ import annotations

import json
import posixpath
import urllib.parse
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

from audit.log.manifest import UNCOVERED
from audit.publish.templates import SAFE_SCHEMES
from audit.verify.package import PackageCheck, checked_package, compare_packages
from audit.verify.witnessed import WitnessRequirement, hold_to_witnesses

PACKAGES = "packages"
KEY_FILE = "office-public-key.pem"
ATOM = "{http://www.w3.org/2005/Atom}"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.hrefs.append(value)


def verify_site(folder: Path, trusted_key: bytes | None, witnesses: WitnessRequirement | None
                ) -> tuple[list[PackageCheck], list[str], list[str]]:
    """The packages the site offers (checked), and the site's problems and caveats."""
    problems: list[str] = []
    caveats: list[str] = []
    checks = {p.parent: checked_package(p.parent, trusted_key)
              for p in sorted((folder / PACKAGES).glob("*/*/datapackage.json"))}
    compare_packages(list(checks.values()), with_log=False)
    if witnesses is not None:
        hold_to_witnesses(list(checks.values()), witnesses)
    good = {path for path, check in checks.items() if check.ok}
    problems += _indexes(folder, checks)
    base = _base(folder)
    for page in sorted(folder.rglob("*.html")):
        if PACKAGES in page.relative_to(folder).parts:
            continue  # a package's own report page is checked as part of the package
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        for href in parser.hrefs:
            problem = _link_problem(folder, page, href, base, good)
            if problem:
                problems.append(f"{page.relative_to(folder)}: {problem}")
    problems += _catalog(folder, base, good)
    problems += _feed(folder, base, checks, good)
    served = folder / KEY_FILE
    if served.is_file():
        from audit.log.signing import load_public_key

        if trusted_key is None:
            caveats.append(f"the public key the site serves ({KEY_FILE}) was not compared with one obtained from the "
                           "office (give --public-key)")
        elif load_public_key(served) != trusted_key:
            problems.append(f"the site serves {KEY_FILE}, which is not the office's public key: a reader who took it "
                            "from the site would trust packages signed by another key")
    return list(checks.values()), problems, caveats


def _base(folder: Path) -> str:
    """Where the site says it is served: its feed's own address, less `feed.atom` ("" when it names none)."""
    try:
        root = ET.parse(folder / "feed.atom").getroot()
    except (OSError, ET.ParseError):
        return ""
    for link in root.findall(f"{ATOM}link"):
        if link.get("rel") == "self" and (link.get("href") or "").endswith("feed.atom"):
            return (link.get("href") or "")[:-len("feed.atom")]
    return ""


def _local(folder: Path, page_dir: str, href: str, base: str) -> str | None:
    """The path inside the site that `href` leads to (from a page in `page_dir`), or None for a link elsewhere."""
    if base and href.startswith(base):
        href = href[len(base):]
    parsed = urllib.parse.urlsplit(href)
    if parsed.scheme or parsed.netloc:
        return None
    if not parsed.path:
        return None  # a fragment of the same page
    return posixpath.normpath(posixpath.join(page_dir, urllib.parse.unquote(parsed.path)))


def _link_problem(folder: Path, page: Path, href: str, base: str, good: set[Path]) -> str | None:
    scheme = urllib.parse.urlsplit(href.strip()).scheme.lower()
    if scheme and scheme not in SAFE_SCHEMES:
        return f"a link with the scheme {scheme!r} ({href[:60]!r}), which a page of the site never needs"
    target = _local(folder, page.parent.relative_to(folder).as_posix(), href, base)
    return None if target is None else _target_problem(folder, target, good, f"its link {href!r}")


def _target_problem(folder: Path, target: str, good: set[Path], what: str) -> str | None:
    if target.startswith("..") or target.startswith("/"):
        return f"{what} leads out of the site"
    path = folder / target
    if not path.exists():
        return f"{what} leads to nothing ({target})"
    parts = Path(target).parts
    if parts and parts[0] == PACKAGES and len(parts) == 3 and path.is_file() and \
            path.name.endswith((".zip", ".SHA256SUMS")):
        return _whole_version_problem(folder, path, good, what)
    if parts and parts[0] == PACKAGES and len(parts) >= 4:
        package = folder / Path(*parts[:3])
        if package not in good:
            return f"{what} leads to a file of a package that does not verify ({'/'.join(parts[1:3])})"
        if path.is_file() and "/".join(parts[3:]) not in UNCOVERED and not _listed(package, "/".join(parts[3:])):
            return f"{what} leads to {target}, which its package's publication does not list"
    return None


def _whole_version_problem(folder: Path, path: Path, good: set[Path], what: str) -> str | None:
    """A version offered whole (audit.site.write_archive: NAME-VERSION.zip, NAME-VERSION.SHA256SUMS) must be exactly
    the files of the package it names, which must verify: the archive unpacks to them byte for byte, the list
    gives each one's digest. Either could otherwise carry other files than the package the page vouches for."""
    import hashlib
    import zipfile

    from audit.files import file_sha256

    name = path.parent.name
    version = path.name.removeprefix(f"{name}-").removesuffix(".zip").removesuffix(".SHA256SUMS")
    package = folder / PACKAGES / name / version
    if package not in good:
        return f"{what} is version {version} of {name}, which does not verify (or is not offered)"
    files = {p.relative_to(package).as_posix(): file_sha256(p) for p in package.rglob("*") if p.is_file()}
    prefix = f"{name}/{version}/"
    try:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                held = {i.filename.removeprefix(prefix): hashlib.sha256(archive.read(i)).hexdigest()
                        for i in archive.infolist() if not i.is_dir()}
        else:
            held = {}
            for line in path.read_text(encoding="utf-8").splitlines():
                digest, _, file = line.partition("  ")
                held[file.removeprefix(prefix)] = digest
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        return f"{what} cannot be read ({exc})"
    if held != files:
        differ = sorted(set(held) ^ set(files)) or sorted(f for f in files if held.get(f) != files[f])
        return f"{what} does not hold exactly the files of version {version} ({', '.join(differ[:3])} differ)"
    return None


def _listed(package: Path, name: str) -> bool:
    try:
        last = (package / "changelog.jsonl").read_text(encoding="utf-8").splitlines()[-1]
        return name in json.loads(json.loads(last).get("files") or "{}")
    except (OSError, IndexError, ValueError, AttributeError):
        return False


def _indexes(folder: Path, checks: dict[Path, PackageCheck]) -> list[str]:
    """Each dataset's index must list exactly the package folders the site offers, the newest as latest."""
    problems = []
    for index_path in sorted((folder / PACKAGES).glob("*/index.json")):
        try:
            index = json.loads(index_path.read_text(encoding="utf-8"))
            listed = {v["version"]: v.get("changeLogHead") for v in index["versions"]}
        except (OSError, ValueError, KeyError, TypeError):
            problems.append(f"{index_path.relative_to(folder)} cannot be read as an index of versions")
            continue
        offered = {p.name: c for p, c in checks.items() if p.parent == index_path.parent}
        if set(listed) != set(offered):
            problems.append(f"{index_path.relative_to(folder)} lists versions {sorted(listed)}, but the site offers "
                            f"{sorted(offered)}")
        for version, head in listed.items():
            if version in offered and head != offered[version].head_hash:
                problems.append(f"{index_path.relative_to(folder)}: version {version}'s head is not its package's")
        if offered:
            newest = max(offered.values(), key=lambda c: c.head_seq)
            if index.get("latest") != newest.version:
                problems.append(f"{index_path.relative_to(folder)} names {index.get('latest')} as the latest, but the "
                                f"site offers {newest.version}, published later")
    return problems


def _catalog(folder: Path, base: str, good: set[Path]) -> list[str]:
    path = folder / "data.json"
    if not path.is_file():
        return []
    try:
        catalog = json.loads(path.read_text(encoding="utf-8"))
        datasets = catalog["dataset"]
    except (OSError, ValueError, KeyError, TypeError):
        return ["data.json cannot be read as a catalog"]
    problems = []
    for entry in datasets:
        for distribution in entry.get("distribution") or []:
            url = str(distribution.get("downloadURL", ""))
            target = _local(folder, "", url, base)
            if target is None or Path(target).parts[:1] != (PACKAGES,) or len(Path(target).parts) < 4:
                problem: str | None = f"data.json's download {url!r} is no file of a package the site offers"
            else:
                problem = _target_problem(folder, target, good, f"data.json's download {url!r}")
            if problem:
                problems.append(problem)
        landing = _local(folder, "", str(entry.get("landingPage", "")), base)
        if landing is not None and not (folder / landing).is_file():
            problems.append(f"data.json's landing page {entry.get('landingPage')!r} is not a page of the site")
    return problems


def _feed(folder: Path, base: str, checks: dict[Path, PackageCheck], good: set[Path]) -> list[str]:
    path = folder / "feed.atom"
    if not path.is_file():
        return []
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        return [f"feed.atom cannot be read as XML ({exc})"]
    heads = {c.head_hash: p for p, c in checks.items()}
    problems = []
    for entry in root.findall(f"{ATOM}entry"):
        title = entry.findtext(f"{ATOM}title") or "?"
        head = (entry.findtext(f"{ATOM}id") or "").removeprefix("urn:sha256:")
        if heads.get(head) not in good:
            problems.append(f"feed.atom's entry {title!r} names a version no package of the site verifies as")
        for link in entry.findall(f"{ATOM}link"):
            target = _local(folder, "", link.get("href") or "", base)
            if target is None or not (folder / target).is_file():
                problems.append(f"feed.atom's entry {title!r} links to {link.get('href')!r}, not a page of the site")
    return problems
