"""`audit verify --site`: what the public reads is held to the packages the site offers, the office's key and its
witnesses' cosignatures. Each alteration a web host could make is named; the untouched site verifies."""

from __future__ import annotations

import json
import shutil

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import pipeline
from audit.workspace import Workspace
from tests.conftest import EXAMPLE, PROJECT, publish_both_example_releases
from tests.witnesses import audit


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A signed office's site (two versions), as its host serves it, with the office's public key on it."""
    root = tmp_path_factory.mktemp("served") / "office"
    for folder in ("datapackages", "expectations"):
        shutil.copytree(PROJECT / folder, root / folder)
    assert audit("keygen", root / "keys" / "office.pem")[0] == 0
    (root / "audit.yaml").write_text(
        "signing_key: keys/office.pem\nsite: {public_key: keys/office.pem.pub}\nportal: {base_url: "
        "'https://data.example.gov/crime/', publisher: {name: Police}, contact: {name: Unit, email: u@example.gov}}\n")
    workspace = Workspace.at(root)
    publish_both_example_releases(workspace)
    return pipeline.site(workspace).root, root / "keys" / "office.pem.pub"


@pytest.fixture
def site(served, tmp_path):
    folder, key = served
    copy = tmp_path / "site"
    shutil.copytree(folder, copy)
    return copy, key


def check(site_folder, key):
    return audit("verify", "--site", site_folder, "--public-key", key)


def test_the_site_as_built_verifies(site):
    code, out = check(*site)

    assert code == 0, out


def test_a_download_in_data_json_that_leads_to_no_package_file_is_named(site):
    folder, key = site
    (folder / "forged.csv").write_text("year,homicide\n2020,300\n")
    catalog = json.loads((folder / "data.json").read_text())
    catalog["dataset"][0]["distribution"][0]["downloadURL"] = "https://data.example.gov/crime/forged.csv"
    (folder / "data.json").write_text(json.dumps(catalog))

    code, out = check(folder, key)

    assert code == 1
    assert "data.json's download 'https://data.example.gov/crime/forged.csv' is no file of a package" in out


def test_a_link_that_runs_script_is_named(site):
    folder, key = site
    page = folder / "index.html"
    page.write_text(page.read_text().replace("</main>", '<a href="javascript:alert(1)">data</a></main>', 1))

    code, out = check(folder, key)

    assert code == 1 and "a link with the scheme 'javascript'" in out


def test_a_site_that_serves_another_public_key_is_named(site):
    folder, key = site
    other = Ed25519PrivateKey.generate().public_key()
    (folder / "office-public-key.pem").write_bytes(other.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

    code, out = check(folder, key)

    assert code == 1 and "which is not the office's public key" in out


def test_an_old_version_served_as_the_latest_is_named(site):
    folder, key = site
    index_path = next((folder / "packages").glob("*/index.json"))
    index = json.loads(index_path.read_text())
    index["latest"] = "1.0.0"
    index_path.write_text(json.dumps(index))

    code, out = check(folder, key)

    assert code == 1 and "names 1.0.0 as the latest, but the site offers 1.0.1" in out


def test_a_package_replaced_by_a_forged_one_fails_and_so_do_the_links_and_entries_to_it(site):
    folder, key = site
    package = next((folder / "packages").glob("*/1.0.1"))
    data = package / "data" / "violent-crime.csv"
    data.write_text(data.read_text().replace("2020,584573,9378,335,", "2020,584573,9343,300,"))

    code, out = check(folder, key)

    assert code == 1
    assert "data/violent-crime.csv is not the file that was published" in out
    assert "feed.atom's entry" in out and "names a version no package of the site verifies as" in out


@pytest.mark.parametrize("kind", ["zip", "SHA256SUMS"])
def test_a_version_offered_whole_with_other_files_than_its_package_is_named(site, kind):
    """Issue 29: each version is offered whole (a zip and its SHA256SUMS). A zip or list that holds other files
    than the package the page vouches for (a forged figure in the data) is named."""
    import zipfile

    folder, key = site
    [offered] = sorted((folder / "packages" / EXAMPLE).glob(f"{EXAMPLE}-1.0.1.{kind}"))
    if kind == "zip":
        with zipfile.ZipFile(offered, "a") as archive:
            archive.writestr(f"{EXAMPLE}/1.0.1/data/violent-crime-2.csv", "year,homicide\n2020,300\n")
    else:
        offered.write_text("0" * 64 + offered.read_text()[64:])  # the first file's digest, another file's

    code, out = check(folder, key)

    assert code == 1
    assert f"{EXAMPLE}-1.0.1.{kind}" in out and "does not hold exactly the files of version 1.0.1" in out
