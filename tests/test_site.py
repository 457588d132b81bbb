"""The public site, built for the example after its two publications and opened page by page in a real headless
Chromium (Debian's, which `make test` installs): no console error, no request to any host, no broken link,
every version and change reachable from the home page, and axe-core's accessibility rules (which `make test`
fetches from the npm registry) find no serious or critical violation. The Atom feed and data.json are checked
against their standards."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

from audit import pipeline
from audit.workspace import Workspace
from tests.conftest import (
    EXAMPLE,
    EXAMPLE_CSV,
    EXAMPLE_WAIVERS,
    PROJECT,
    dcat_errors,
    publish_both_example_releases,
    read_verification_steps,
)

AXE = PROJECT / ".cache" / "axe-core" / "package" / "axe.min.js"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The example's workspace after `make audit`'s publications (1.0.0, then the corrected 1.0.1), and its site."""
    root = tmp_path_factory.mktemp("site") / "office"
    for folder in ("datapackages", "expectations"):
        shutil.copytree(PROJECT / folder, root / folder)
    # The portal settings data.json is built from (the example's keys and witness are `make audit`'s own).
    settings = yaml.safe_load((PROJECT / "audit.yaml").read_text())
    (root / "audit.yaml").write_text(yaml.safe_dump({"portal": settings["portal"]}))
    workspace = Workspace.at(root)
    publish_both_example_releases(workspace)
    return pipeline.site(workspace)


def links(page) -> list[str]:
    return page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")


def test_every_page_loads_offline_with_no_error_and_every_link_resolves(site, browser):
    seen, queue, problems = set(), [site.root / "index.html"], []
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        page = browser.new_page()
        errors, requests = [], []
        page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        page.on("request", lambda r, requests=requests: requests.append(r.url))
        page.goto(path.as_uri())
        problems += [f"{path.name}: console error {e}" for e in errors]
        problems += [f"{path.name}: requested {r}" for r in requests if not r.startswith("file:")]
        for href in links(page):
            url = urlparse(href)
            if url.scheme != "file":
                continue  # a source's or licence's own page: a link out, never loaded by the page
            target = Path(unquote(url.path))
            if not target.exists():
                problems.append(f"{path.name}: broken link {href}")
            elif url.fragment and target.suffix == ".html" and f'id="{url.fragment}"' not in target.read_text():
                problems.append(f"{path.name}: no #{url.fragment} in {target.name}")
            elif target.suffix == ".html":
                queue.append(target)
        page.close()
    assert problems == []
    # The site's pages, and each version's own validation report in its package.
    assert {p.name for p in seen} == {"index.html", "glossary.html", f"{EXAMPLE}.html", "report.html"}


def test_every_version_and_change_of_the_example_is_reachable_from_the_home_page(site, browser):
    page = browser.new_page()
    page.goto((site.root / "index.html").as_uri())
    page.click("text=Baltimore violent crime")
    text = page.inner_text("main")

    assert "verified" in text and "2 finding(s) waived by the office, with reasons" in text
    # A preview of the data, as an accessible table with a caption and column headers (issue 29).
    preview = page.locator("#preview + table")
    assert preview.locator("caption").inner_text().startswith("The first 6 rows of version 1.0.1's data file")
    assert preview.locator("thead th").count() == 7 and preview.locator("tbody tr").count() == 6
    # Whom to ask, on every page: the office's contact from audit.yaml (issue 29: no contact anywhere).
    assert "Questions about these data: City data office (example) (opendata@example.gov)." in page.inner_text("footer")
    # The badge says what was verified (issue 29: "verified" beside waived findings read as "the data is correct"),
    # and links to what that means.
    badge = page.locator("main .status.good a")
    assert badge.inner_text() in ("signature and history verified", "files and history verified")
    assert badge.get_attribute("href").endswith("glossary.html#verified")
    for version in ("1.0.0", "1.0.1"):
        assert page.locator(f'[id="v{version}"]').count() == 1
    # Each of the six revisions of 1.0.1, grouped under the reason the office gave.
    assert "6 change(s) since version 1.0.0" in text
    assert "Year 2018: Homicide changed from 308 to 309" in text
    assert "Reason: One 2018 death, first recorded as undetermined, was ruled a homicide" in text
    downloads = [h for h in links(page) if "/packages/" in h]
    assert any(h.endswith("1.0.0/data/violent-crime.csv") for h in downloads)
    assert any(h.endswith("1.0.1/revisions.csv") for h in downloads)
    # Each version's files: the data first, each with a label of its own, its size and its sha256 (issue 29).
    items = page.locator('[id="v1.0.1"] details:last-of-type li').all_text_contents()
    assert items[0].startswith("The data (CSV): ")
    labels = [item.split(" (")[0] for item in items]
    assert len(labels) == len(set(labels)) and all("sha256 " in item for item in items)
    # The total's chart marks what the checks found (issue 29: Violent Crime rose while its offences stayed flat,
    # and nothing showed it): the waived years, and what the parts add up to, in the chart and in its table.
    marked = page.locator("figure").first.locator("table").all_text_contents()[0]
    assert "1 finding(s) waived by the office; its parts add up to 9,399" in marked
    assert "stroke-dasharray" in page.locator("figure").first.inner_html()
    # The chart has its figures as a table, and its axis starts at zero.
    assert "The axis starts at zero." in text and page.locator("figure table").count() >= 1


def test_no_serious_or_critical_accessibility_violation(site, browser):
    assert AXE.is_file(), f"{AXE} is missing: `make test` fetches axe-core from the npm registry"
    violations = []
    for path in sorted(site.root.rglob("*.html")):
        if "packages" in path.parts:
            continue  # the packages' own report pages are tested with the report
        page = browser.new_page()
        page.goto(path.as_uri())
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']})")
        violations += [f"{path.name}: {v['id']} ({v['impact']}): {v['help']}" for v in result["violations"]
                       if v["impact"] in ("serious", "critical")]
        page.close()
    assert violations == []


def test_the_atom_feed_lists_every_version_with_its_changes(site):
    feed = ET.parse(site.root / "feed.atom").getroot()

    assert feed.tag == f"{ATOM}feed"
    for element in (feed, *feed.findall(f"{ATOM}entry")):  # RFC 4287: id, title and updated, everywhere
        assert all(element.find(f"{ATOM}{name}") is not None for name in ("id", "title", "updated"))
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
                            element.find(f"{ATOM}updated").text)
    # RFC 4287's other rules a reader relies on: an author for the feed, ids that are absolute IRIs and unique,
    # and an alternate link on every entry (no RELAX NG validator for Atom runs offline here).
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None
    ids = [e.text for e in feed.iter(f"{ATOM}id")]
    assert len(ids) == len(set(ids)) and all(re.match(r"[a-z][a-z0-9+.-]*:", i) for i in ids)
    entries = feed.findall(f"{ATOM}entry")
    assert all(e.find(f"{ATOM}link[@rel='alternate']") is not None for e in entries)
    assert [e.find(f"{ATOM}title").text for e in entries] == [
        "Baltimore violent crime, 2017-2022: version 1.0.1", "Baltimore violent crime, 2017-2022: version 1.0.0"]
    assert entries[0].find(f"{ATOM}id").text.startswith("urn:sha256:")
    assert "6 change(s) since version 1.0.0" in entries[0].find(f"{ATOM}summary").text
    # Each entry links its version's data file as an enclosure, with its size (issue 29), and the file is there.
    for entry in entries:
        [data] = entry.findall(f"{ATOM}link[@rel='enclosure']")
        assert data.get("type") == "text/csv" and data.get("href").endswith("/data/violent-crime.csv")
        local = site.root / data.get("href").split("/crime/", 1)[1]
        assert int(data.get("length")) == local.stat().st_size


def test_data_json_is_dcat_us_and_its_landing_pages_are_the_sites_pages(site):
    catalog = json.loads((site.root / "data.json").read_text())

    assert dcat_errors(catalog) == []
    [dataset] = catalog["dataset"]
    assert dataset["landingPage"] == f"https://data.example.gov/crime/datasets/{EXAMPLE}.html"
    assert dataset["distribution"][0]["downloadURL"].startswith("https://data.example.gov/crime/packages/")
    # One identifier for the dataset wherever its catalog is served (the portal's data.json names it the same), and
    # no copy of the portal's catalog under packages/, whose addresses would lead nowhere there (issue 29).
    assert dataset["identifier"] == f"https://data.example.gov/crime/{EXAMPLE}/"
    assert not (site.root / "packages" / "data.json").exists()


def test_the_offices_name_logo_and_colour_come_from_audit_yaml_and_a_too_light_colour_is_refused(tmp_path):
    root = tmp_path / "office"
    for folder in ("datapackages", "expectations"):
        shutil.copytree(PROJECT / folder, root / folder)
    (root / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    (root / "audit.yaml").write_text("site: {name: Office of Example Data, logo: logo.svg, accent: '#7a1f5c'}\n")
    workspace = Workspace.at(root)
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, waivers=EXAMPLE_WAIVERS, version="2023-09")
    package = pipeline.publish(workspace, EXAMPLE).path

    page = (package / "report.html").read_text()
    assert "Office of Example Data" in page and 'src="data:image/svg+xml;base64,' in page and "#7a1f5c" in page
    built = pipeline.site(workspace)
    home = (built.root / "index.html").read_text()
    assert "Office of Example Data" in home and 'src="logo.svg"' in home and (built.root / "logo.svg").is_file()

    (root / "audit.yaml").write_text("site: {accent: '#bbbbbb'}\n")
    from audit.errors import ConfigError

    with pytest.raises(ConfigError, match="too light for text on white"):
        pipeline.site(Workspace.at(root))


@pytest.mark.parametrize("width", [360, 1280])
def test_every_page_fits_a_phone_and_a_desktop_without_scrolling_sideways(site, browser, width):
    """Issue 29: at 390 px the home table was 420 px wide with its status cut off, the dataset page 816 px. Every
    page of the site, and each version's report page, fits the window's width; a table too wide for it scrolls
    inside its own box, and long hashes and names wrap."""
    too_wide = []
    for path in sorted(site.root.rglob("*.html")):
        page = browser.new_page(viewport={"width": width, "height": 800})
        page.goto(path.as_uri())
        scrolled = page.evaluate("document.documentElement.scrollWidth")
        if scrolled > width:
            too_wide.append((path.relative_to(site.root).as_posix(), scrolled))
        page.close()
    assert too_wide == []


def test_the_pages_own_verification_steps_work_when_followed_literally(site, browser, tmp_path):
    """Issue 29: the steps the dataset page gives, followed word for word in an empty folder: every version's zip
    and SHA256SUMS downloaded from the page's own links, then each command of the page run as printed (unzip,
    sha256sum -c, then the tool's audit verify). Saving the files one by one made the tool report a missing file,
    a false alarm; now each step ends as the page says it should."""
    import os
    import subprocess

    folder = tmp_path / "reader"
    blocks = read_verification_steps(browser, site.root / "datasets" / f"{EXAMPLE}.html", (".zip", ".SHA256SUMS"),
                                     folder)
    wholes = list(folder.iterdir())  # what a reader's browser saved from the page's links
    env = {**os.environ, "PATH": f"{PROJECT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}

    outputs = []
    for line in (line for block in blocks for line in block.splitlines() if line.strip()):
        done = subprocess.run(line, shell=True, cwd=folder, env=env, capture_output=True, text=True)
        assert done.returncode == 0, (line, done.stdout, done.stderr)
        outputs.append(done.stdout)

    assert len(wholes) == 4 and len(blocks) == 2
    checked = [o for o in outputs if ": OK" in o]
    assert checked and all(line.endswith(": OK") for o in checked for line in o.strip().splitlines())
    assert "verified" in outputs[-1]


def test_a_year_with_no_residents_has_no_rate_on_the_sites_chart(workspace, tmp_path):
    """The site charts each total per 100,000 residents from the package's own file, when its suite checks a rate
    over the population. A year whose population is 0 has no rate: the chart's text alternative says "no value"
    there (DuckDB's division gave infinity, printed "inf"); the years beside it keep theirs."""
    from audit.site.charts import dataset_charts
    from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS

    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    package = tmp_path / "package"
    shutil.copytree(pipeline.publish(workspace, EXAMPLE).path, package)
    # The example checks its rates as claims; a suite's rate check over the population is what charts rates.
    report = json.loads((package / "validation.json").read_text(encoding="utf-8"))
    report["expectations"].append({"expectation": "expect_column_values_to_equal_rate", "check": "rate-math",
                                   "columns": ["rate", "violent_crime", "population"], "first_finding": 0,
                                   "finding_count": 0, "subject": None})
    (package / "validation.json").write_text(json.dumps(report), encoding="utf-8")
    data = next(package.glob("data/*.csv"))
    lines = data.read_text(encoding="utf-8").splitlines()
    population = lines[0].split(",").index("population")
    first = lines[1].split(",")
    first[population] = "0"
    data.write_text("\n".join([lines[0], ",".join(first), *lines[2:]]) + "\n", encoding="utf-8")

    rates = [c for c in dataset_charts(package) if "per 100,000 residents" in c.title]
    assert rates and all(dict(c.rows)[first[0]] == "no value" for c in rates)
    assert all(value != "no value" for c in rates for period, value in c.rows if period != first[0])
