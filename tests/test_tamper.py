"""Every attack of the tamper corpus (tests/tamper/attacks.py) is detected: `audit verify` exits 1 naming what was
altered, or the command the attack needed refuses with nothing written. One office is built per module and
copied for each attack."""

from __future__ import annotations

import pytest

from tests.tamper.attacks import ATTACKS, build_office, fresh_copy

pytestmark = pytest.mark.slow  # the whole tamper corpus, each attack on a fresh office


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_office(tmp_path_factory.mktemp("tamper-template") / "office")


def test_the_untouched_office_verifies(template, tmp_path):
    office = fresh_copy(template, tmp_path / "copy")

    result = office.verify()

    assert result.exit_code == 0, result.output
    assert result.output.count(": holds") == 3 and "signed by ed25519:" in result.output
    assert "verified: every chain is intact, and every publication is in place" in result.output


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name.replace(" ", "-") for a in ATTACKS])
def test_each_attack_is_detected(template, tmp_path, attack):
    office = fresh_copy(template, tmp_path / "copy")

    outcome = attack.run(office)

    assert outcome.detected, outcome.how
