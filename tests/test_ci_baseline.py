"""`audit check --baseline PACKAGE` (issue 29): a pull request's check compares a release with the latest published
package, verified first, so the binary change log need not be in git beside the data. The workspace a CI job checks
out has the descriptors and suites only."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import (
    EXAMPLE,
    EXAMPLE_CORRECTED,
    EXAMPLE_CSV,
    EXAMPLE_REVISED,
    EXAMPLE_WAIVERS,
    PROJECT,
    copy_of_built,
    publish_both_example_releases,
)


@pytest.fixture
def published(built_workspaces, tmp_path_factory, workspace):
    """The example's two published packages (1.0.0, 1.0.1), built once."""
    return copy_of_built(built_workspaces, tmp_path_factory, workspace, "example-published-twice",
                         publish_both_example_releases).publish_root / EXAMPLE


@pytest.fixture
def ci(tmp_path):
    """What a CI job checks out: the descriptors and suites, no change log."""
    root = tmp_path / "checkout"
    for folder in ("datapackages", "expectations"):
        shutil.copytree(PROJECT / folder, root / folder)
    return root


def check(ci, *args):
    from click.testing import CliRunner

    from audit.cli import cli

    return CliRunner().invoke(cli, ["check", EXAMPLE, *map(str, args), "--format", "json", "--workspace", str(ci)],
                              catch_exceptions=False)


def test_a_release_is_compared_with_the_published_package_and_no_log_is_needed(published, ci):
    same = check(ci, EXAMPLE_CORRECTED, "--waivers", EXAMPLE_WAIVERS, "--baseline", published / "1.0.1")
    revised = check(ci, EXAMPLE_REVISED, "--waivers", EXAMPLE_WAIVERS, "--baseline", published / "1.0.0")

    assert same.exit_code == 0, same.output
    summary = json.loads(same.output)["revisions"]
    assert summary["baseline"]["version"] == "2024-06" and summary["counts"]["unexplained"] == 0
    assert revised.exit_code == 1
    assert json.loads(revised.output)["revisions"]["counts"]["unexplained"] > 0
    assert not (ci / "audit.duckdb").exists()


def test_a_baseline_package_that_does_not_verify_is_not_compared_with(published, ci, tmp_path):
    altered = tmp_path / "1.0.1"
    shutil.copytree(published / "1.0.1", altered)
    data = altered / "data" / "violent-crime.csv"
    data.write_text(data.read_text().replace("10624", "10625"))

    result = check(ci, EXAMPLE_CSV, "--baseline", altered)

    assert result.exit_code == 1
    assert "the package does not verify, so nothing was compared with it" in result.output
