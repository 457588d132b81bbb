"""The site says "verified" only for packages signed by the office's own key and, where the office names witnesses,
cosigned by them: a package re-signed with another key, or one no witness saw, is shown as NOT verified."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import pipeline
from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS
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
