"""The outsider's recipe in docs/verification.md, run as written: Python's standard library and openssl only, in a
process that cannot import this tool, against a package published with a real witness's cosignature."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, PROJECT
from tests.witnesses import WitnessProcess, audit, write_settings

pytestmark = pytest.mark.slow  # starts a witness process


def test_the_documented_recipe_checks_a_figure_with_only_the_standard_library_and_openssl(tmp_path):
    assert shutil.which("openssl"), "the recipe needs openssl"
    office = tmp_path / "office"
    for folder in ("datapackages", "expectations"):
        shutil.copytree(PROJECT / folder, office / folder)
    assert audit("keygen", office / "keys" / "office.pem")[0] == 0
    witness = WitnessProcess(tmp_path / "w", "board.example/w1", office / "keys" / "office.pem.pub").start()
    try:
        write_settings(office, [witness], quorum=1)
        assert audit("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--workspace", office)[0] == 0
        assert audit("publish", EXAMPLE, "--workspace", office)[0] == 0
    finally:
        witness.stop()
    document = (PROJECT / "docs" / "verification.md").read_text(encoding="utf-8")
    recipe = re.search(r"### How an outsider checks one published figure.*?```python\n(.*?)```", document, re.S).group(1)
    script = tmp_path / "check_figure.py"
    script.write_text(recipe)
    package = office / "published" / EXAMPLE / "1.0.0"
    command = [sys.executable, "-I", "-S", script, package, office / "keys" / "office.pem.pub", witness.vkey,
               "2020", "homicide"]  # -I -S: no site packages, no working folder on the path: no `audit` to import

    checked = subprocess.run(command, capture_output=True, text=True, timeout=60)

    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("2020 homicide = 335: published in city.example/crime-audit/") \
        and "cosigned by board.example/w1" in checked.stdout
    # An older entry, with the proof `audit prove` gives: the second recipe holds it to the same checkpoint.
    entry_recipe = re.search(r"```python\n(# check_entry\.py.*?)```", document, re.S).group(1)
    (tmp_path / "check_entry.py").write_text(entry_recipe)
    code, proof = audit("prove", EXAMPLE, "--seq", "2", "--format", "json", "--workspace", office)
    assert code == 0, proof
    (tmp_path / "proof.json").write_text(proof)
    entry_command = [sys.executable, "-I", "-S", tmp_path / "check_entry.py", package, tmp_path / "proof.json"]
    checked_entry = subprocess.run(entry_command, capture_output=True, text=True, timeout=60)
    assert checked_entry.returncode == 0, checked_entry.stderr
    assert "entry seq 2 (" in checked_entry.stdout
    forged = json.loads(proof)
    forged["entry"]["recorded_by"] = "someone else"
    forged["entry"]["hash"] = hashlib.sha256(json.dumps({k: v for k, v in forged["entry"].items() if k != "hash"},
                                                        sort_keys=True, separators=(",", ":"),
                                                        ensure_ascii=False).encode()).hexdigest()
    (tmp_path / "proof.json").write_text(json.dumps(forged))
    assert subprocess.run(entry_command, capture_output=True, text=True, timeout=60).returncode != 0
    # And it is no rubber stamp: a figure changed in the data file fails at step 1.
    data = package / "data" / "violent-crime.csv"
    assert "2020,584573,9403,335," in data.read_text()
    data.write_text(data.read_text().replace("2020,584573,9403,335,", "2020,584573,9403,300,"))
    assert subprocess.run(command, capture_output=True, text=True, timeout=60).returncode != 0
