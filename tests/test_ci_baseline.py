"""`audit check --baseline PACKAGE` (issue 29): a pull request's check compares a release with the latest published
package, verified first, so the binary change log need not be in git beside the data. The workspace a CI job checks
out has the descriptors and suites only."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from audit.cli import cli
from audit.workspace import Workspace
from tests.conftest import (
    EXAMPLE,
    EXAMPLE_CORRECTED,
    EXAMPLE_CSV,
    EXAMPLE_REVISED,
    EXAMPLE_WAIVERS,
    PROJECT,
    copy_of_built,
    keeping_its_times,
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


def test_a_baseline_package_changed_once_it_verified_is_not_compared_with(published, ci, tmp_path, monkeypatch):
    """The package is verified, then its data read again as the baseline: a data file rewritten in between (its
    size and modification time kept) is refused, rather than compared with as if it had verified."""
    from audit.verify import package

    copied = tmp_path / "1.0.1"
    shutil.copytree(published / "1.0.1", copied)
    data = copied / "data" / "violent-crime.csv"
    verified = package.verify_package

    def rewritten_after(*args, **kwargs):
        result = verified(*args, **kwargs)
        keeping_its_times(data, lambda: data.write_text(data.read_text().replace("10624", "10625")))
        return result

    monkeypatch.setattr(package, "verify_package", rewritten_after)
    result = check(ci, EXAMPLE_CORRECTED, "--waivers", EXAMPLE_WAIVERS, "--baseline", copied)

    assert result.exit_code == 1
    assert "the package was changed while it was checked and read, so nothing was compared with it" in result.output


def test_a_baseline_no_key_ties_to_the_office_is_said_to_be_unsigned(published, ci):
    json_report = check(ci, EXAMPLE_CORRECTED, "--waivers", EXAMPLE_WAIVERS, "--baseline", published / "1.0.1")
    github = CliRunner().invoke(cli, ["check", EXAMPLE, str(EXAMPLE_CORRECTED), "--waivers", str(EXAMPLE_WAIVERS),
                                      "--baseline", str(published / "1.0.1"), "--format", "github",
                                      "--workspace", str(ci)], catch_exceptions=False)

    baseline = json.loads(json_report.output)["revisions"]["baseline"]
    assert baseline["held"] is False and "nothing ties it to the office" in baseline["vouched"]
    assert "::warning title=audit unsigned baseline::package 1.0.1 verified" in github.output


def test_a_package_signed_by_another_key_than_the_office_names_is_not_compared_with(built_workspaces,
                                                                                   tmp_path_factory, workspace, ci):
    """A forged package: self-consistent, signed, but by a key that is not the office's."""
    from tests.witnesses import audit

    def signed_by_a_stranger(ws):
        assert audit("keygen", ws.root / "stranger.pem")[0] == 0
        (ws.root / "audit.yaml").write_text("signing_key: stranger.pem\n")
        return publish_both_example_releases(Workspace.at(ws.root))

    forged = copy_of_built(built_workspaces, tmp_path_factory, workspace, "example-published-by-a-stranger",
                           signed_by_a_stranger).publish_root / EXAMPLE / "1.0.1"
    assert audit("keygen", ci / "office.pem")[0] == 0
    (ci / "audit.yaml").write_text("site: {public_key: office.pem.pub}\n")

    result = check(ci, EXAMPLE_CORRECTED, "--waivers", EXAMPLE_WAIVERS, "--baseline", forged)

    assert result.exit_code == 1
    assert "the package does not verify, so nothing was compared with it" in result.output
