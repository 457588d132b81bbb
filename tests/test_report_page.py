"""The HTML report, looked at in a real headless Chromium (Debian's chromium, which `make test` installs):
it loads with no console errors and shows the summary, the chart and the findings."""

from __future__ import annotations

import html
import re
from pathlib import Path

from audit import pipeline
from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_REVISED, EXAMPLE_WAIVERS, PROJECT


def open_page(browser, path: Path, screenshot: Path):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.screenshot(path=str(screenshot), full_page=True)
    return page, problems, requests


def test_the_report_of_a_refused_release_shows_its_findings_and_revisions(workspace, browser, tmp_path):
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    pipeline.publish(workspace, EXAMPLE)
    notes = PROJECT / "datapackages" / EXAMPLE / "revision-notes-2024-03.yaml"
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_REVISED, EXAMPLE_WAIVERS, "2024-03", notes)
    path = pipeline.report_page(workspace, EXAMPLE)

    page, problems, requests = open_page(browser, path, tmp_path / "report.png")

    assert problems == [] and {u.split(":")[0] for u in requests} == {"file"}  # nothing fetched from a network
    assert (tmp_path / "report.png").stat().st_size > 20_000
    assert page.inner_text("#status") == "FAILED"
    findings = page.inner_text("#findings + table")
    assert "unexplained-revision" in findings and "year=2018" in findings and "11,100" in findings
    assert "category-sum" in findings and "Waived" in findings
    revisions = page.inner_text("#revisions + table")
    assert "UNEXPLAINED" in revisions and "year=2018: Violent Crime 11,099 → 11,100" in revisions
    # One chart of the total over time, with the flagged years circled and listed.
    assert page.locator("figure.chart svg").count() == 1
    caption = page.inner_text("figure.chart figcaption")
    assert "2018" in caption and "2021" in caption and "2022" in caption and "2019" not in caption
    page.close()


def test_every_published_package_carries_its_report_and_gx_data_docs_stay_with_the_office(workspace, browser, tmp_path):
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    package = pipeline.publish(workspace, EXAMPLE).path

    page, problems, _ = open_page(browser, package / "report.html", tmp_path / "package-report.png")

    assert problems == []
    assert page.inner_text("#status") == "PASSED" and "published as version 1.0.0" in page.inner_text("body")
    page.close()
    # GX's own rendering of the same validation stays in the workspace: it writes failing values into its markup
    # unescaped and loads assets from other hosts, so a package never carries it.
    assert not (package / "data-docs.html").exists()
    docs = (workspace.root / "data-docs" / EXAMPLE / "2023-09.html").read_text()
    assert "Expectation Validation Result" in docs and "Unsuccessful Expectations" in docs
    # Our expectations are named in words, the office's waivers are shown as waivers, and the page names the
    # suite by its place in the workspace, never by a path of the office's machine.
    words = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", docs)))
    assert "violent_crime equals the sum of homicide, rape, robbery, aggravated_assault in every row." in words
    assert "Waived by the office: 2 of 2 finding(s). Reason: The published table" in words
    assert str(workspace.root) not in docs and "expectations/baltimore-violent-crime.json" in docs
    # Issue 29: the page's verdict is the report's (its findings are waived), it loads nothing from another host
    # (styled offline), and the folder has an index of the releases' pages.
    assert "Status: Succeeded" in words and not re.search(r"src=[\"']https?://|<link\b[^>]*https?://", docs)
    index = (workspace.root / "data-docs" / EXAMPLE / "index.html").read_text()
    assert '<a href="2023-09.html">Release 2023-09</a>' in index
