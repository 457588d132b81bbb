"""No output path loses the office's data: every place a command writes (a publication root, a site, a report page,
a catalog) is refused with one line and exit 2 where it would write over the office's records, into a published
package, through a link, or over files the tool did not write; and nothing of the workspace changes.

One office is published once for the module; each case runs one command through the CLI and compares every byte
of the workspace before and after.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from audit import pipeline
from audit.cli import cli
from audit.workspace import Workspace
from tests.conftest import EXAMPLE, EXAMPLE_CORRECTED, EXAMPLE_CSV, EXAMPLE_WAIVERS, PROJECT, assert_refused

PACKAGE = f"published/{EXAMPLE}/1.0.0"

pytestmark = pytest.mark.slow  # every refused path of the corpus through the CLI, each compared byte by byte


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    """A workspace with the example published once (1.0.0), a report page, a catalog and a site; beside it, a
    folder of someone else's files and a link to it."""
    workspace = example_office(tmp_path_factory.mktemp("outputs") / "office")
    pipeline.publish(workspace, EXAMPLE)
    pipeline.report_page(workspace, EXAMPLE)
    pipeline.feed(workspace)
    pipeline.site(workspace)
    others = workspace.root.parent / "someone-else"
    others.mkdir()
    (others / "notes.txt").write_text("not the tool's\n", encoding="utf-8")
    (others / "page.html").write_text("<p>not the tool's</p>\n", encoding="utf-8")
    (others / "data.json").write_text('{"mine": true}\n', encoding="utf-8")
    (workspace.root.parent / "link-to-elsewhere").symlink_to(others, target_is_directory=True)
    return workspace


def example_office(root: Path) -> Workspace:
    """The example's datasets with its first release recorded, and portal settings for a catalog."""
    root.mkdir(parents=True)
    shutil.copytree(PROJECT / "datapackages", root / "datapackages")
    shutil.copytree(PROJECT / "expectations", root / "expectations")
    (root / "audit.yaml").write_text(
        "recorded_by: Records Unit\nportal: {base_url: 'https://data.example.gov/', publisher: {name: Police}, "
        " contact: {name: Records Unit, email: records@example.gov}}\n", encoding="utf-8")
    workspace = Workspace.at(root)
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    return workspace


def audit(office, *args) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [*map(str, args), "--workspace", str(office.root)], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def refused(office, args: list[str], says: str) -> None:
    assert_refused([*args, "--workspace", office.root], says, office.root.parent)


# Each case: the command (with {ws} for the workspace, {out} for the folder beside it), and what its line says.
CASES = {
    # The site is replaced whole: never over the workspace, its records or a published package.
    "site over the workspace": (["site", "--out", "{ws}"], "holds the change log"),
    "site over the folder around the workspace": (["site", "--out", "{out}"], "holds the change log"),
    "site over the published packages": (["site", "--out", "{ws}/published"], "is the folder of published packages"),
    "site over the descriptors": (["site", "--out", "{ws}/datapackages"], "is the datasets' descriptors"),
    "site over the suites": (["site", "--out", "{ws}/expectations"], "is the datasets' suites"),
    "site over one published version": (["site", "--out", "{ws}/" + PACKAGE], "lies inside the folder of published"),
    "site over the log's copies": (["site", "--out", "{ws}/audit.duckdb.data"], "is a file of the change log"),
    "site over the root folder": (["site", "--out", "/"], "is the root folder"),
    "site over the home folder": (["site", "--out", str(Path.home())], "home folder"),
    "site over someone's files": (["site", "--out", "{out}/someone-else"], "holds files the tool did not write"),
    "site through a link": (["site", "--out", "{out}/link-to-elsewhere"], "is a symbolic link"),
    "site into the root it reads": (["site", "--root", "{ws}/published", "--out", "{ws}/published/site"],
                                    "lies inside the folder of published packages"),
    # A catalog or a report page is one file: never a record, never a published file, never someone's file.
    "catalog over a published file": (["feed", "--out", "{ws}/" + PACKAGE + "/README.md"], "lies inside"),
    "catalog over a dataset's index": (["feed", "--out", f"{{ws}}/published/{EXAMPLE}/index.json"], "lies inside"),
    "catalog over the settings": (["feed", "--out", "{ws}/audit.yaml"], "is the workspace's settings"),
    "catalog over the log": (["feed", "--out", "{ws}/audit.duckdb"], "is the change log"),
    "catalog into the descriptors": (["feed", "--out", "{ws}/datapackages/catalog.json"], "lies inside the datasets'"),
    "catalog over someone's file": (["feed", "--out", "{out}/someone-else/data.json"], "was not written by the tool"),
    "catalog over a special file": (["feed", "--out", "/dev/null"], "is not a regular file"),
    "report over a published page": (["report", EXAMPLE, "--out", "{ws}/" + PACKAGE + "/report.html"], "lies inside"),
    "report over a suite": (["report", EXAMPLE, "--out", f"{{ws}}/expectations/{EXAMPLE}.json"], "lies inside"),
    "report over someone's page": (["report", EXAMPLE, "--out", "{out}/someone-else/page.html"],
                                   "was not written by the tool"),
    "report through a link": (["report", EXAMPLE, "--out", "{out}/link-to-elsewhere/new.html"], "symbolic link"),
    # A publication root gets new versions beside the old, never a version inside another.
    "publish into a published version": (["publish", EXAMPLE, "--out", "{ws}/" + PACKAGE], "lies inside"),
    "publish into a dataset's versions": (["publish", EXAMPLE, "--out", f"{{ws}}/published/{EXAMPLE}"], "lies inside"),
    "publish over the descriptors": (["publish", EXAMPLE, "--out", "{ws}/datapackages"], "is the datasets' descriptors"),
    "publish over the workspace": (["publish", EXAMPLE, "--out", "{ws}"], "holds the change log"),
    "publish over someone's files": (["publish", EXAMPLE, "--out", "{out}/someone-else"], "did not write"),
    "publish over the root folder": (["publish", EXAMPLE, "--out", "/"], "is the root folder"),
}


@pytest.mark.parametrize("case", CASES)
def test_an_output_path_that_would_lose_data_is_refused(office, case):
    args, says = CASES[case]
    args = [a.replace("{ws}", str(office.root)).replace("{out}", str(office.root.parent)) for a in args]

    refused(office, args, says)


def test_the_workspace_still_verifies_after_every_refusal(office):
    code, out, err = audit(office, "verify", "--package", office.root / PACKAGE)

    assert code == 0, out + err


def test_a_published_package_outside_the_workspace_is_never_written_into(office, tmp_path):
    portal = tmp_path / "portal"
    copy = example_office(tmp_path / "second")
    pipeline.publish(copy, EXAMPLE, portal)

    refused(copy, ["report", EXAMPLE, "--out", portal / EXAMPLE / "1.0.0" / "report.html"],
            "lies inside the published package")
    refused(copy, ["feed", "--out", portal / EXAMPLE / "index.json"], "a dataset's published versions")
    refused(copy, ["site", "--out", portal], "holds files the tool did not write")


def test_the_site_is_replaced_inside_its_folder_and_nothing_is_written_beside_it(office, tmp_path):
    out = tmp_path / "public"

    for _ in range(2):
        code, _, err = audit(office, "site", "--out", out)
        assert code == 0, err

    assert sorted(p.name for p in tmp_path.iterdir()) == ["public"]
    assert json.loads((out / ".audit-output").read_text())["holds"] == "site"
    assert not [p for p in out.iterdir() if p.name in (".building", ".replaced")]
    assert (out / "index.html").is_file() and (out / "packages" / EXAMPLE / "1.0.0" / "datapackage.json").is_file()


def test_a_report_page_and_a_catalog_the_tool_wrote_may_be_written_again(office, tmp_path):
    page, catalog = tmp_path / "page.html", tmp_path / "data.json"

    for _ in range(2):
        assert audit(office, "report", EXAMPLE, "--out", page)[0] == 0
        assert audit(office, "feed", "--out", catalog)[0] == 0


@pytest.mark.parametrize("linked", ["audit.duckdb", "audit.duckdb.data", "published"])
def test_a_record_that_is_a_link_is_refused_before_anything_is_written(office, tmp_path, linked):
    root = tmp_path / "office"
    shutil.copytree(office.root, root, symlinks=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    source = root / linked
    if source.exists():
        source.rename(elsewhere / linked)
    else:
        (elsewhere / linked).mkdir()
    source.symlink_to(elsewhere / linked)
    copy = Workspace.at(root)

    command = ["publish", EXAMPLE] if linked == "published" else ["ingest", EXAMPLE, EXAMPLE_CORRECTED, "--version", "2024-06"]
    refused(copy, command, "is a symbolic link")
