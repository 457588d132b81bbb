"""Hostile text in an office's files never becomes something a reader's browser, spreadsheet or chart runs: links
are http, https or mailto only, every CSV cell that starts like a formula is defused (the office's own text too),
Markdown shows text as text, and a chart's label is never TeX. And nothing is written into the home folder."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys

import pytest
import yaml

from audit import pipeline
from tests.conftest import EXAMPLE, EXAMPLE_CORRECTED, EXAMPLE_CSV, EXAMPLE_WAIVERS

pytestmark = pytest.mark.slow  # publishes twice, builds a site, and runs the tool in processes of its own

SCRIPT = "<script>alert(1)</script>"


def hostile_office(workspace, tmp_path):
    """The example with hostile text in its descriptor, waivers and notes; ingested twice and published twice."""
    path = workspace.root / "datapackages" / EXAMPLE / "datapackage.yaml"
    descriptor = yaml.safe_load(path.read_text())
    descriptor["description"] += f" {SCRIPT} [click](javascript:alert(2))"
    descriptor["sources"][0]["path"] = "javascript:alert(3)"
    descriptor["licenses"][0]["path"] = "JavaScript:alert(4)"
    descriptor["resources"][0]["schema"]["fields"][3]["title"] = "Homicides ($ per $ case)"
    path.write_text(yaml.safe_dump(descriptor))
    waivers = yaml.safe_load(EXAMPLE_WAIVERS.read_text())
    waivers["waivers"][0]["reason"] = '=HYPERLINK("http://evil.example","details")'
    hostile_waivers = tmp_path / "waivers.yaml"
    hostile_waivers.write_text(yaml.safe_dump(waivers))
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, hostile_waivers, "2023-09")
    pipeline.publish(workspace, EXAMPLE)
    notes = tmp_path / "notes.yaml"
    notes.write_text(yaml.safe_dump({"notes": [
        {"id": "n", "where": {"year": 2020}, "columns": ["aggravated_assault", "violent_crime"],
         "reason": "@SUM(A1:A9) reclassified", "reference": "+1 555 0100", "approved_by": "-Director"},
        {"id": "m", "where": {"year": 2018}, "columns": ["homicide", "violent_crime"], "reason": "ruling",
         "approved_by": "office"},
        {"id": "r", "where": {"year": 2019}, "columns": ["robbery", "violent_crime"], "reason": "late",
         "approved_by": "office"}]}))
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CORRECTED, hostile_waivers, "2024-06", notes=notes)
    return pipeline.publish(workspace, EXAMPLE).path


def test_no_published_file_carries_a_link_that_runs_or_a_cell_that_computes(workspace, tmp_path):
    package = hostile_office(workspace, tmp_path)
    site = pipeline.site(workspace)

    pages = [p.read_text() for p in site.root.rglob("*.html")]
    assert pages and not any("href=\"javascript:" in p.lower() for p in pages)
    assert all(SCRIPT not in p for p in pages)
    readme = (package / "README.md").read_text()
    assert SCRIPT not in readme and "\\<script\\>" in readme
    assert not re.search(r"(?<!\\)\]\(javascript:", readme)  # an escaped \] starts no link
    assert "<javascript:" not in readme.lower()
    for name in ("findings.csv", "revisions.csv"):
        cells = [c for row in csv.reader((package / name).open()) for c in row]
        assert not [c for c in cells if c[:1] in "=+-@" and len(c) > 1 and not c.lstrip("+-").replace(".", "")
                    .replace(",", "").isdigit()], name
    revisions = (package / "revisions.csv").read_text()
    assert "'@SUM(A1:A9) reclassified" in revisions and "'-Director" in revisions
    assert "'=HYPERLINK" in (package / "findings.csv").read_text()


def test_publishing_writes_nothing_into_the_home_folder(workspace, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"),
           "XDG_CONFIG_HOME": str(home / ".config")}
    env.pop("MPLCONFIGDIR", None)
    run = lambda *args: subprocess.run([sys.executable, "-m", "audit", *map(str, args), "--workspace",  # noqa: E731
                                        str(workspace.root)], env=env, capture_output=True, text=True, timeout=300)
    assert run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS).returncode == 0
    assert run("publish", EXAMPLE).returncode == 0

    assert list(home.rglob("*")) == []
