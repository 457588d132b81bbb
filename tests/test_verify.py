"""`audit verify`: every kind of tampering with the log is caught and named; truncation is caught
through a package; anyone can check a package without the office's log; signed heads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from audit import pipeline
from audit.cli import cli
from audit.log.chain import entry_hash
from audit.workspace import Workspace
from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_REVISED, EXAMPLE_WAIVERS, PROJECT, complete_notes


@pytest.fixture(scope="module")
def office(tmp_path_factory) -> Path:
    """Built once per module: two published versions of the example, 2023-09, then 2024-03 with all its
    revisions explained."""
    root = tmp_path_factory.mktemp("verify") / "office"
    shutil.copytree(PROJECT / "datapackages", root / "datapackages")
    shutil.copytree(PROJECT / "expectations", root / "expectations")
    workspace = Workspace.at(root)
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    pipeline.publish(workspace, EXAMPLE)
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_REVISED, EXAMPLE_WAIVERS, "2024-03", complete_notes(root.parent))
    pipeline.publish(workspace, EXAMPLE)
    return root


@pytest.fixture
def published(office, workspace) -> list[Path]:
    """The module's office copied into this test's workspace: the log and both packages."""
    shutil.copy(office / "audit.duckdb", workspace.log_path)
    shutil.copytree(office / "published", workspace.publish_root)
    return [workspace.publish_root / EXAMPLE / version for version in ("1.0.0", "1.0.1")]


def audit(*args):
    """Run `audit ARGS...` with no workspace: as a journalist holding only the packages would."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def tamper(workspace, *statements: str) -> None:
    """Change the log file behind the tool's back, as anyone holding the file could."""
    with duckdb.connect(str(workspace.log_path)) as con:
        for statement in statements:
            con.execute(statement)


def test_an_untouched_log_and_its_packages_verify(published, run):
    result = run("verify", "--package", published[0], "--package", published[1])

    assert result.exit_code == 0, result.output
    assert "log baltimore-violent-crime: intact" in result.output
    assert result.output.count(": holds") == 2


def test_a_log_that_keeps_every_release_itself_verifies_whatever_audit_yaml_says_of_spark(published, workspace, run):
    """A board verifies an office's workspace on its own machine: audit.yaml may name Spark, with a staging folder
    the board does not have (or no pyspark). The engine is only asked for when the log keeps a release where it lies,
    so a log that keeps every release itself verifies as it would on DuckDB."""
    (workspace.root / "audit.yaml").write_text("engine: spark\nspark:\n  staging: not-on-this-machine\n",
                                                encoding="utf-8")

    result = run("verify", "--package", published[0], "--package", published[1])

    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("verified: every chain is intact, and every publication is in place")


TAMPERING = {
    # name: (statements, the table and words the report must name)
    "a finding's message rewritten": (
        ["UPDATE findings SET message = 'nothing to see' WHERE seq = (SELECT min(seq) FROM findings)"],
        "findings entry seq", "does not match its hash"),
    "a changed value edited": (
        ["UPDATE changes SET new = '11099' WHERE \"column\" = 'violent_crime' AND \"key\" LIKE '%2018%'"],
        "changes entry seq", "does not match its hash"),
    "a waiver deleted": (
        ["DELETE FROM waivers WHERE seq = (SELECT min(seq) FROM waivers)"], "entry seq", "missing"),
    "a revision note inserted": (
        ["INSERT INTO notes SELECT * FROM notes LIMIT 1"], "notes entry seq", "a second entry"),
    "two entries swapped": (
        ["UPDATE releases SET seq = -1 WHERE seq = 1", "UPDATE waivers SET seq = 1 WHERE seq = 2",
         "UPDATE releases SET seq = 2 WHERE seq = -1"], "waivers entry seq 1", "does not link to the entry before it"),
    "an entry forged with a recomputed hash": (None, "entry seq", "does not link to the entry before it"),
    "a stored release row edited": (
        ['UPDATE release_data."baltimore-violent-crime@2023-09" SET homicide = homicide + 1 WHERE year = 2018'],
        "release baltimore-violent-crime@2023-09", "stored rows differ"),
    "a whole table dropped": (["DROP TABLE waivers"], "table waivers is missing", "dropped"),
    "a column dropped": (["ALTER TABLE findings DROP COLUMN waiver_reason"], "findings entry seq", "does not match"),
    "a stored release dropped": (
        ['DROP TABLE release_data."baltimore-violent-crime@2023-09"'], "release baltimore-violent-crime@2023-09",
        "missing"),
}


@pytest.mark.parametrize("kind", TAMPERING)
def test_each_kind_of_tampering_is_caught_and_named(published, workspace, run, kind):
    statements, where, what = TAMPERING[kind]
    if statements is None:
        statements = forged_validation(workspace)
    tamper(workspace, *statements)

    result = run("verify")

    assert result.exit_code == 1, result.output
    assert "NOT verified" in result.output and where in result.output and what in result.output


def forged_validation(workspace) -> list[str]:
    """Mark the first validation a success and recompute its hash, as a careful forger would."""
    with duckdb.connect(str(workspace.log_path), read_only=True) as con:
        cursor = con.execute("SELECT * FROM validations ORDER BY seq LIMIT 1")
        names = [d[0] for d in cursor.description]
        entry = {"table": "validations", **dict(zip(names, cursor.fetchall()[0]))}
    entry["success"] = not entry["success"]
    forged = entry_hash(entry)
    return [f"UPDATE validations SET success = NOT success, hash = '{forged}' WHERE seq = {entry['seq']}"]


def truncate(workspace, after_seq: int) -> None:
    tamper(workspace, *(f"DELETE FROM {t} WHERE seq > {after_seq}" for t in
                        ("releases", "validations", "findings", "waivers", "publications", "notes", "changes",
                         "revisions")))


def test_truncation_is_invisible_in_the_chains_but_caught_through_a_package(published, workspace, run):
    head = json.loads((published[1] / "changelog-head.json").read_text())["seq"]
    truncate(workspace, head - 1)  # the newest entry, the second publication, is gone
    chains = run("verify", "--format", "json")
    assert all(d["ok"] for d in json.loads(chains.output)["datasets"])  # what is left still links up ...
    # ... but the published folder of the lost publication is still there, and the package names its head.
    assert "1.0.1 is a folder the log never published" in chains.output

    result = run("verify", "--package", published[1])

    assert result.exit_code == 1
    assert f"published at seq {head} but the log of baltimore-violent-crime ends at seq {head - 1} (truncated)" \
        in result.output


def test_a_rewritten_log_is_caught_through_a_package(published, workspace, run, tmp_path):
    # Rebuild the history from the start with a different first release: every hash is consistent again.
    # (No command starts a new log beside published packages, so the forger moves them away first.)
    moved = Path(shutil.move(workspace.publish_root, tmp_path / "moved"))
    workspace.log_path.unlink()
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_REVISED, EXAMPLE_WAIVERS, "2023-09")

    result = run("verify", "--package", moved / EXAMPLE / "1.0.0")

    assert result.exit_code == 1
    assert "is not the one this package was published with" in result.output or "truncated" in result.output


def test_anyone_can_check_packages_without_the_office_log(published, tmp_path, run):
    journalist = tmp_path / "journalist"
    copies = [shutil.copytree(p, journalist / p.name) for p in published]

    result = audit("verify", "--package", copies[0], "--package", copies[1], "--format", "json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["datasets"] == [] and [p["ok"] for p in report["packages"]] == [True, True]


def test_an_outsider_sees_a_published_file_that_was_changed(published, tmp_path):
    copy = shutil.copytree(published[0], tmp_path / "copy")
    data = copy / "data" / "violent-crime.csv"
    data.write_text(data.read_text().replace("12430", "12431"))

    result = audit("verify", "--package", copy)

    assert result.exit_code == 1
    assert "data/violent-crime.csv is not the file that was published" in result.output


def test_an_outsider_sees_an_edited_extract_entry(published, tmp_path):
    copy = shutil.copytree(published[1], tmp_path / "copy")
    lines = (copy / "changelog.jsonl").read_text().splitlines()
    changed = next(i for i, line in enumerate(lines) if '"table":"changes"' in line)
    entry = json.loads(lines[changed])
    entry["new"] = entry["old"]
    lines[changed] = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    (copy / "changelog.jsonl").write_text("\n".join(lines) + "\n")

    result = audit("verify", "--package", copy)

    assert result.exit_code == 1
    assert f"changes entry seq {entry['seq']}: its content does not match its hash" in result.output


def test_a_version_that_does_not_continue_the_one_before_is_caught(published, workspace, tmp_path):
    # A second office history: the same first release published, but recorded at another time.
    other = tmp_path / "other"
    shutil.copytree(workspace.root / "datapackages", other / "datapackages")
    shutil.copytree(workspace.root / "expectations", other / "expectations")

    elsewhere = Workspace.at(other)
    pipeline.ingest(elsewhere, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    pipeline.publish(elsewhere, EXAMPLE)

    result = audit("verify", "--package", other / "published" / EXAMPLE / "1.0.0", "--package", published[1])

    assert result.exit_code == 1
    assert "it does not continue version 1.0.0" in result.output


def test_signed_heads_verify_against_the_office_key_only(workspace, tmp_path):
    key, stranger = tmp_path / "keys" / "office.pem", tmp_path / "stranger.pem"
    made = audit("keygen", key)
    assert made.exit_code == 0 and "ed25519:" in made.output
    assert (key.stat().st_mode & 0o777) == 0o600
    assert audit("keygen", stranger).exit_code == 0
    (workspace.root / "audit.yaml").write_text(f"signing_key: {key}\n")
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    package = pipeline.publish(workspace, EXAMPLE).path

    good = audit("verify", "--package", package, "--public-key", f"{key}.pub")
    wrong = audit("verify", "--package", package, "--public-key", f"{stranger}.pub")

    assert good.exit_code == 0 and "signed by ed25519:" in good.output
    assert wrong.exit_code == 1 and "not by the trusted key" in wrong.output
    # A forged head (say, from a rewritten log) cannot carry the office's signature.
    head = json.loads((package / "changelog-head.json").read_text())
    head["head"] = "f" * 64
    (package / "changelog-head.json").write_text(json.dumps(head))
    forged = audit("verify", "--package", package, "--public-key", f"{key}.pub")
    assert forged.exit_code == 1 and "does not verify" in forged.output


def test_a_folder_that_is_not_a_package_is_an_input_error(tmp_path):
    result = audit("verify", "--package", tmp_path)

    assert result.exit_code == 2
    assert "datapackage.json" in result.output and "Traceback" not in result.output


MALFORMED = {
    # what an outsider's copy of a package was turned into: (file, new content)
    "an extract line that is a list": ("changelog.jsonl", "[]\n"),
    "a signature given as a string": ("changelog-head.json", None),
    "a descriptor that is a list": ("datapackage.json", "[]"),
    "a head file that is not JSON": ("changelog-head.json", "{not json"),
}


@pytest.mark.parametrize("kind", MALFORMED)
def test_a_malformed_package_is_a_finding_about_it_and_the_others_are_still_checked(published, tmp_path, kind):
    name, text = MALFORMED[kind]
    broken = Path(shutil.copytree(published[1], tmp_path / "broken"))
    if text is None:
        head = json.loads((broken / name).read_text())
        head["signature"] = "c2lnbmF0dXJl"
        text = json.dumps(head)
    (broken / name).write_text(text)

    result = audit("verify", "--package", broken, "--package", published[0], "--format", "json")

    assert result.exit_code == 1 and "Traceback" not in result.output
    report = json.loads(result.output)
    assert [p["ok"] for p in report["packages"]] == [False, True]
    assert report["packages"][0]["problems"]


def test_each_package_carries_only_the_entries_since_the_one_before(published):
    first, second = [(p / "changelog.jsonl").read_text().splitlines() for p in published]
    head = json.loads((published[0] / "changelog-head.json").read_text())

    assert json.loads(first[0])["seq"] == 1
    assert json.loads(second[0])["seq"] == head["seq"] + 1 and json.loads(second[0])["prev_hash"] == head["head"]
    assert json.loads((published[1] / "changelog-head.json").read_text())["previous"] == {
        "version": "1.0.0", "seq": head["seq"], "head": head["head"]}


def test_a_later_version_alone_says_what_it_cannot_show(published):
    result = audit("verify", "--package", published[1])

    assert result.exit_code == 0, result.output
    assert "not shown: its extract starts after seq" in result.output
    assert "verified, with what could not be shown listed above" in result.output


def test_a_failure_of_the_tool_on_one_package_is_exit_2_not_a_finding_and_the_others_are_checked(
        published, monkeypatch):
    import audit.verify.package as checks

    real = checks.verify_package

    def failing_on_the_second(folder, trusted_key=None):
        if folder == published[1]:
            raise ZeroDivisionError("a bug")
        return real(folder, trusted_key)

    monkeypatch.setattr(checks, "verify_package", failing_on_the_second)

    result = audit("verify", "--package", published[0], "--package", published[1])

    assert result.exit_code == 2, result.output
    assert f"package {published[0]} (baltimore-violent-crime 1.0.0): holds" in result.output
    assert "it could not be checked: the tool failed (ZeroDivisionError: a bug)" in result.output
    assert result.output.splitlines()[-1] == ("NOT verified: the tool failed on a package (see above); nothing was "
                                              "found altered")


def test_a_packages_sha256sums_must_list_its_files_and_be_signed_by_its_key(tmp_path):
    """What a reader with only sha256sum and openssl relies on is held to the publication's own list."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from audit.files import file_sha256
    from audit.log.manifest import SUMS_FILE, SUMS_SIGNATURE, sums_problems, sums_text

    office, stranger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    raw = office.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    (tmp_path / "data.csv").write_text("year,count\n2024,3\n")

    def package(sums: str, key) -> list[str]:
        (tmp_path / SUMS_FILE).write_text(sums)
        (tmp_path / SUMS_SIGNATURE).write_bytes(key.sign(sums.encode()))
        recorded = {name: file_sha256(tmp_path / name) for name in ("data.csv", SUMS_FILE, SUMS_SIGNATURE)}
        return sums_problems(tmp_path, recorded, raw)

    right = sums_text({"data.csv": file_sha256(tmp_path / "data.csv")})
    assert package(right, office) == []
    assert package(right, stranger) == [f"its {SUMS_SIGNATURE} is not a signature of its {SUMS_FILE} by the key it "
                                        "is signed with"]
    assert package(right.replace("data.csv", "other.csv"), office) == [
        f"its {SUMS_FILE} does not list the files its publication lists, with their digests"]
