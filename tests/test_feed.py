"""`audit feed`: a DCAT-US 1.1 data.json of every published dataset, valid against the standard's
own JSON Schemas (copied into tests/schemas/dcat-us-1.1 from ../shared/schemas)."""

from __future__ import annotations

import json

import pytest

from audit import pipeline
from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_REVISED, EXAMPLE_WAIVERS, complete_notes, copy_of_built, dcat_errors

PORTAL = """portal:
  base_url: https://data.example.gov/crime
  publisher: {name: City of Example}
  contact: {name: Data office, email: opendata@example.gov}
"""


@pytest.fixture
def two_versions(built_workspaces, tmp_path_factory, workspace):
    """The example published twice, with portal settings (built once, copied for each test)."""
    return copy_of_built(built_workspaces, tmp_path_factory, workspace, "example-two-versions", _publish_two)


def _publish_two(workspace):
    (workspace.root / "audit.yaml").write_text(PORTAL)
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    pipeline.publish(workspace, EXAMPLE)
    notes = complete_notes(workspace.root.parent)
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_REVISED, EXAMPLE_WAIVERS, "2024-03", notes)
    pipeline.publish(workspace, EXAMPLE)


def test_the_feed_lists_the_latest_version_and_validates_as_dcat_us(two_versions, run):
    result = run("feed")

    assert result.exit_code == 0, result.output
    catalog = json.loads((two_versions.publish_root / "data.json").read_text())
    assert dcat_errors(catalog) == []
    (entry,) = catalog["dataset"]
    assert entry["title"] == "Baltimore violent crime, 2017-2022"
    assert entry["identifier"] == f"https://data.example.gov/crime/{EXAMPLE}/"
    assert entry["temporal"] == "2017-01-01/2022-12-31"
    assert entry["license"] == "https://opendatacommons.org/licenses/pddl/1-0/"
    assert entry["contactPoint"]["hasEmail"] == "mailto:opendata@example.gov" and entry["accessLevel"] == "public"
    downloads = {d["downloadURL"]: d["mediaType"] for d in entry["distribution"]}
    latest = f"https://data.example.gov/crime/{EXAMPLE}/1.0.1/"
    assert downloads[latest + "data/violent-crime.csv"] == "text/csv"
    assert downloads[latest + "revisions.csv"] == "text/csv"
    assert downloads[latest + "datapackage.json"] == "application/json"
    # Every download the feed names is a file that was published.
    for url in downloads:
        assert (two_versions.publish_root / url.removeprefix("https://data.example.gov/crime/")).is_file(), url


def test_federal_codes_are_emitted_when_configured(two_versions):
    (two_versions.root / "audit.yaml").write_text(PORTAL + "  bureau_code: ['015:11']\n  program_code: ['015:001']\n")

    _, catalog = pipeline.feed(two_versions)

    assert catalog["dataset"][0]["bureauCode"] == ["015:11"] and dcat_errors(catalog) == []


def test_the_validator_is_not_a_rubber_stamp(two_versions):
    _, catalog = pipeline.feed(two_versions)
    del catalog["dataset"][0]["publisher"]
    catalog["dataset"][0]["distribution"][0]["mediaType"] = "csv"

    assert len(dcat_errors(catalog)) >= 2


def test_a_feed_without_portal_settings_is_a_config_error(workspace, run):
    result = run("feed")

    assert result.exit_code == 2 and "portal:" in result.output
