"""The site says "verified" only for packages signed by the office's own key and, where the office names witnesses,
cosigned by them: a package re-signed with another key, or one no witness saw, is shown as NOT verified."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import pipeline
from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, keeping_its_times, read_verification_steps
from tests.witnesses import audit

pytestmark = pytest.mark.slow  # publishes and builds the site twice


def signed_office(workspace):
    assert audit("keygen", workspace.root / "keys" / "office.pem")[0] == 0
    (workspace.root / "audit.yaml").write_text("signing_key: keys/office.pem\n")
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    return pipeline.publish(workspace, EXAMPLE).path


def test_a_package_re_signed_with_another_key_is_not_verified_on_the_site(workspace):
    package = signed_office(workspace)
    assert pipeline.site(workspace).datasets[0].verified
    head = json.loads((package / "changelog-head.json").read_text())
    other = Ed25519PrivateKey.generate()
    from cryptography.hazmat.primitives import serialization

    raw = other.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    head["signature"]["publicKey"] = base64.b64encode(raw).decode()
    head["signature"]["signature"] = base64.b64encode(other.sign(head["head"].encode())).decode()
    (package / "changelog-head.json").write_text(json.dumps(head))

    site = pipeline.site(workspace)

    [dataset] = site.datasets
    assert not dataset.verified and dataset.status[0].startswith("NOT verified: signed by ed25519:")


def test_with_witnesses_named_a_package_they_never_cosigned_is_not_verified_on_the_site(workspace):
    signed_office(workspace)
    assert audit("witness", "keygen", "board.example/w1", workspace.root / "keys" / "board")[0] == 0
    (workspace.root / "audit.yaml").write_text(
        "signing_key: keys/office.pem\nwitnesses:\n  quorum: 1\n  cosigners:\n"
        "    - {url: 'http://127.0.0.1:9', key: keys/board.vkey}\n")

    [dataset] = pipeline.site(workspace).datasets

    assert not dataset.verified and "cosigned by 0 of the 1 witnesses required" in dataset.status[0]
    glossary = (workspace.root / "site" / "glossary.html").read_text()
    assert 'id="verified"' in glossary and "It does not mean the figures are true" in glossary


def test_a_package_changed_while_the_site_is_built_is_not_put_on_it(workspace, monkeypatch):
    """The site verifies each package, then reads its files again for its page, its archive and its digests: a data
    file rewritten in between (its size and time kept) stops the build, and no page says "verified" of it."""
    import audit.site
    from audit.errors import TamperError

    signed_office(workspace)
    verified = audit.site.read_dataset

    def rewritten_after(folder, *args, **kwargs):
        dataset = verified(folder, *args, **kwargs)
        (data,) = dataset.latest.folder.glob("data/*.csv")
        keeping_its_times(data, lambda: data.write_text(data.read_text().replace("10624", "10625")))
        return dataset

    monkeypatch.setattr(audit.site, "read_dataset", rewritten_after)
    with pytest.raises(TamperError, match="were changed while the site was built from them; nothing was written"):
        pipeline.site(workspace)

    assert not (workspace.root / "site" / "index.html").exists()


def test_a_reader_with_only_openssl_and_sha256sum_checks_a_signed_version_as_the_page_says(workspace, browser,
                                                                                            tmp_path):
    """Issue 29: the no-install route. The page's OpenSSL and sha256sum lines, run as printed in a folder holding
    what its links give (no `audit` on the PATH), say the office signed the files; a file altered, with or without
    its line in SHA256SUMS changed to match, is caught by one of the two."""
    import os
    import subprocess

    signed_office(workspace)
    (workspace.root / "audit.yaml").write_text("signing_key: keys/office.pem\nsite: {public_key: keys/office.pem.pub}\n")
    site = pipeline.site(workspace)
    reader = tmp_path / "reader"
    blocks = read_verification_steps(browser, site.root / "datasets" / f"{EXAMPLE}.html", (".zip", ".pem"), reader)
    lines = [line for block in blocks for line in block.splitlines()
             if line.strip() and not line.startswith(("audit ", "sha256sum -c " + EXAMPLE))]
    bare = {**os.environ, "PATH": "/usr/bin:/bin"}  # no install of this tool

    def follow(first: int = 0) -> list[subprocess.CompletedProcess]:
        return [subprocess.run(line, shell=True, cwd=reader, env=bare, capture_output=True, text=True,
                               stdin=subprocess.DEVNULL) for line in lines[first:]]

    done = follow()
    assert [line.split()[0] for line in lines] == ["unzip", "openssl", "(cd"]
    assert all(d.returncode == 0 for d in done), [(d.args, d.stdout, d.stderr) for d in done]
    assert "Signature Verified Successfully" in done[1].stdout and ": OK" in done[2].stdout
    package = reader / EXAMPLE / "1.0.0"
    data = package / "data" / "violent-crime.csv"
    data.write_text(data.read_text().replace("10624", "10625"))
    assert follow(1)[1].returncode != 0  # sha256sum: the file is not the one listed (the zip is not unpacked again)
    import hashlib

    sums = package / "SHA256SUMS"
    sums.write_text("".join(
        f"{hashlib.sha256(data.read_bytes()).hexdigest()}  data/violent-crime.csv\n" if "violent-crime.csv" in line
        else line + "\n" for line in sums.read_text().splitlines()))
    altered = follow(1)
    assert altered[1].returncode == 0 and altered[0].returncode != 0  # the list matches, but the office never signed it
