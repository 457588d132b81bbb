"""Independent oversight: two real witness processes (HTTP on this machine), each with its own key and state, cosign
the office's checkpoints; an outsider holding only the packages, the office's public key and the witnesses' keys
finds what the office's own verify could not: a rebuilt history, a rollback, an equivocation, a backdated log."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, EXAMPLE_CORRECTED, EXAMPLE_CORRECTED_NOTES, EXAMPLE_CSV, EXAMPLE_WAIVERS, PROJECT
from tests.witnesses import WitnessProcess, audit, write_settings

pytestmark = pytest.mark.slow  # starts and stops witness processes

NAMES = ("board.example/w1", "news.example/w2")


@pytest.fixture(scope="module")
def witnessed(tmp_path_factory):
    """An office with a signing key and two witnesses (quorum 2) that has published the example's 1.0.0 with their
    cosignatures; a copy of it made just before, for the attacks; and the two witnesses, running."""
    base = tmp_path_factory.mktemp("witnessed")
    office = base / "office"
    for folder in ("datapackages", "expectations"):
        shutil.copytree(PROJECT / folder, office / folder)
    assert audit("keygen", office / "keys" / "office.pem")[0] == 0
    office_key = office / "keys" / "office.pem.pub"
    witnesses = [WitnessProcess(base / f"w{i + 1}", name, office_key).start() for i, name in enumerate(NAMES)]
    write_settings(office, witnesses, quorum=2)
    assert run(office, "ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09")[0] == 0
    before_publishing = base / "before-publishing"
    shutil.copytree(office, before_publishing)
    code, out = run(office, "publish", EXAMPLE)
    assert code == 0, out
    shutil.copytree(office, base / "after-first")
    yield office, witnesses, before_publishing
    for w in witnesses:
        w.stop()


def run(office: Path, *args) -> tuple[int, str]:
    return audit(*args, "--workspace", office)


def outsider(packages: list[Path], office: Path, witnesses: list[WitnessProcess], *extra) -> tuple[int, str]:
    """`audit verify` as someone with only the packages, the office's public key and the witnesses' keys."""
    keys = [a for w in witnesses for a in ("--witness-key", w.vkey)]
    return audit("verify", *[a for p in packages for a in ("--package", p)], "--public-key",
                 office / "keys" / "office.pem.pub", *keys, *extra)


def snapshot(folder: Path) -> dict[str, bytes]:
    """What a reader of the folder sees: every file but the hidden ones (a package still pending)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)}


def test_a_package_carries_the_quorums_cosignatures_and_an_outsider_verifies_it(witnessed):
    office, witnesses, _ = witnessed
    package = office / "published" / EXAMPLE / "1.0.0"

    code, out = outsider([package], office, witnesses, "--quorum", "2", "--witness", witnesses[0].url)

    assert code == 0, out
    assert all(f"cosigned by {name} at " in out for name in NAMES)
    head = json.loads((package / "changelog-head.json").read_text())
    assert head["checkpoint"].startswith(f"city.example/crime-audit/{EXAMPLE}\n{head['seq']}\n")


def test_a_history_rebuilt_by_the_key_holder_gets_no_cosignature_and_is_not_put_in_place(witnessed, tmp_path):
    """The key holder deletes the log and records a changed 2017 figure from scratch: a checkpoint of the same size
    as the one the witnesses cosigned, with another root. Both refuse it and keep the two as evidence."""
    office, witnesses, before = witnessed
    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(before, rebuilt)
    (rebuilt / "audit.duckdb").unlink()
    forged = tmp_path / "forged.csv"
    forged.write_text(replaced(EXAMPLE_CSV, '2020,"584,573","9,403",335', '2020,"584,573","9,368",300'))
    assert run(rebuilt, "ingest", EXAMPLE, forged, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09")[0] == 0
    evidence = [len(list((w.folder / "state" / "evidence").iterdir())) for w in witnesses]

    code, out = run(rebuilt, "publish", EXAMPLE)

    assert code == 2 and "0 of the 2 witness cosignatures needed" in out, out
    assert all(f"{name} at " in out and "a fork of the log" in out for name in NAMES)
    assert not (rebuilt / "published" / EXAMPLE / "1.0.0").exists()
    assert [len(list((w.folder / "state" / "evidence").iterdir())) for w in witnesses] == [n + 1 for n in evidence]
    kept = max((witnesses[0].folder / "state" / "evidence").iterdir()).read_text()
    assert kept.count(f"city.example/crime-audit/{EXAMPLE}\n") == 2  # the checkpoint it cosigned, and the fork


def test_an_old_version_served_as_the_latest_is_a_rollback_the_witness_shows(witnessed):
    office, witnesses, _ = witnessed
    publish_the_corrected_release(office)
    old, new = (office / "published" / EXAMPLE / v for v in ("1.0.0", "1.0.1"))

    served_old = outsider([old], office, witnesses, "--witness", witnesses[1].url)
    served_both = outsider([old, new], office, witnesses, "--witness", witnesses[1].url)

    assert served_old[0] == 1 and "a later publication exists that was not given here" in served_old[1]
    assert served_both[0] == 0, served_both[1]


def test_another_next_version_for_another_audience_is_refused_as_a_fork(witnessed, tmp_path):
    """Equivocation: from the office as it was after 1.0.0, the key holder records other releases and publishes
    another 1.0.1. Its log does not extend the one the witnesses cosigned at 1.0.1, so none cosigns it."""
    office, witnesses, _ = witnessed
    publish_the_corrected_release(office)  # 1.0.1 for the first audience, cosigned
    other = tmp_path / "other-audience"
    shutil.copytree(witnessed_after_first(office), other)
    notes = tmp_path / "notes.yaml"  # the 2020 note made to cover the homicides too
    notes.write_text(replaced(EXAMPLE_CORRECTED_NOTES, "columns: [aggravated_assault, violent_crime]",
                              "columns: [aggravated_assault, violent_crime, homicide]"))
    for version, homicides, total in (("2024-06", 300, "9,343"), ("2024-07", 299, "9,342")):
        # a history longer than the one the witnesses cosigned at 1.0.1, so they ask for a proof from it
        forged = tmp_path / f"{version}.csv"
        forged.write_text(replaced(EXAMPLE_CORRECTED, '2020,"584,573","9,378",335', f'2020,"584,573","{total}",{homicides}'))
        assert run(other, "ingest", EXAMPLE, forged, "--waivers", EXAMPLE_WAIVERS, "--notes", notes,
                   "--version", version)[0] == 0
    latest_before = [latest(w) for w in witnesses]

    code, out = run(other, "publish", EXAMPLE, "--version", "2024-07")

    assert code == 2 and "not consistent with the checkpoint it cosigned last" in out, out
    assert not (other / "published" / EXAMPLE / "1.0.1").exists()
    assert [latest(w) for w in witnesses] == latest_before  # what the witnesses vouch for is still the office's


def test_a_witness_restarted_keeps_its_state_and_publish_waits_for_the_quorum(witnessed, tmp_path):
    office, witnesses, _ = witnessed
    publish_the_corrected_release(office)
    w1, w2 = witnesses
    w1.stop()
    w1.start()  # a new process over the same state folder, on another port
    w2.stop()
    write_settings(office, witnesses, quorum=2)
    code, out = run(office, "ingest", *late_rape_reports(tmp_path, 1), "--version", "2024-09")
    assert code == 0, out
    published = snapshot(office / "published")

    refused = run(office, "publish", EXAMPLE)

    assert refused[0] == 2 and "1 of the 2 witness cosignatures needed" in refused[1], refused[1]
    assert f"{NAMES[1]} at {w2.url}: it cannot be reached" in refused[1]
    assert snapshot(office / "published") == published  # nothing in place, no index naming it
    pending = run(office, "verify")
    assert pending[0] == 1 and "is half-published" in pending[1]
    w2.start()
    write_settings(office, witnesses, quorum=2)

    code, out = run(office, "publish", EXAMPLE)

    # The same checkpoint, asked for again: the restarted witness took up from the size it had cosigned.
    assert code == 0, out
    assert (office / "published" / EXAMPLE / "1.0.2" / "datapackage.json").is_file()
    checked = outsider([office / "published" / EXAMPLE / "1.0.2"], office, witnesses, "--quorum", "2")
    assert checked[0] == 0, checked[1]


def test_a_revision_reason_rewritten_and_rehashed_by_the_key_holder_is_refused(witnessed, tmp_path):
    """The key holder rewrites why a 2018 figure changed, and re-hashes every entry after it, as a careful forger
    would: the chain holds again, but it is not the history the witnesses cosigned at 1.0.1."""
    import duckdb

    from tests.tamper.attacks import rehash_chain

    office, witnesses, _ = witnessed
    publish_the_corrected_release(office)
    rewritten = tmp_path / "rewritten"
    shutil.copytree(office, rewritten)
    with duckdb.connect(str(rewritten / "audit.duckdb")) as con:
        [(first,)] = con.execute(f"SELECT min(seq) FROM notes WHERE dataset = '{EXAMPLE}'").fetchall()
        con.execute(f"UPDATE notes SET note = replace(note, 'ruled a homicide', 'reclassified at the chief''s "
                    f"request') WHERE dataset = '{EXAMPLE}'")
        rehash_chain(con, EXAMPLE, first)
    write_settings(rewritten, witnesses, quorum=2)
    assert run(rewritten, "ingest", *late_rape_reports(tmp_path, 2), "--version", "2024-10")[0] == 0

    code, out = run(rewritten, "publish", EXAMPLE)

    assert code == 2 and "0 of the 2 witness cosignatures needed" in out, out
    assert "not consistent with the checkpoint it cosigned last" in out or "a fork of the log" in out


def publish_the_corrected_release(office: Path) -> None:
    """The office's own next version, 1.0.1 (once, whichever test asks first)."""
    if (office / "published" / EXAMPLE / "1.0.1").is_dir():
        return
    code, out = run(office, "ingest", EXAMPLE, EXAMPLE_CORRECTED, "--waivers", EXAMPLE_WAIVERS,
                    "--notes", EXAMPLE_CORRECTED_NOTES, "--version", "2024-06")
    assert code == 0, out
    assert run(office, "publish", EXAMPLE)[0] == 0


def late_rape_reports(folder: Path, more: int) -> list:
    """`audit ingest` arguments of the corrected release with `more` late-reported 2018 rapes, and the note that
    explains them."""
    revised = folder / "revised.csv"
    revised.write_text(replaced(EXAMPLE_CORRECTED, '2018,"602,443","11,100",309,361',
                                f'2018,"602,443","{11_100 + more:,}",309,{361 + more}'))
    notes = folder / "notes.yaml"
    notes.write_text("version: 1\nnotes:\n  - {id: r, where: {year: 2018}, columns: [rape, violent_crime], "
                     "reason: A late report., approved_by: Records Unit}\n")
    return [EXAMPLE, revised, "--waivers", EXAMPLE_WAIVERS, "--notes", notes]


def replaced(path: Path, old: str, new: str) -> str:
    text = path.read_text()
    assert old in text, old
    return text.replace(old, new, 1)


def latest(witness: WitnessProcess) -> str:
    from audit.witness.client import latest_checkpoint

    return latest_checkpoint(witness.url, f"city.example/crime-audit/{EXAMPLE}")[1]


def witnessed_after_first(office: Path) -> Path:
    return office.parent / "after-first"


def test_a_history_recorded_with_the_clock_set_back_is_caught_by_the_witnesses_times(witnessed, tmp_path, monkeypatch):
    """The key holder rebuilds under another origin with the office's clock set back to 2018: the witnesses cosign (a
    log new to them), but by their own clocks, and a publication recorded years before anyone saw it is backdated."""
    import audit.log.store as store

    office, witnesses, before = witnessed
    backdated = tmp_path / "backdated"
    shutil.copytree(before, backdated)
    (backdated / "audit.duckdb").unlink()
    write_settings(backdated, witnesses, quorum=2, origin="city.example/crime-audit-2")
    monkeypatch.setattr(store, "_now", lambda: "2018-03-01T09:00:00+00:00")
    assert run(backdated, "ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09")[0] == 0
    assert run(backdated, "publish", EXAMPLE)[0] == 0

    code, out = outsider([backdated / "published" / EXAMPLE / "1.0.0"], backdated, witnesses, "--quorum", "2")

    assert code == 1 and "was recorded at 2018-03-01T09:00:00+00:00, but no witness saw it before" in out, out


def ci_checkout(office: Path, folder: Path) -> Path:
    """What a pull request's CI job checks out of such an office: descriptors, suites, and an audit.yaml naming the
    office's public key and its witnesses, with no change log and no private key."""
    for name in ("datapackages", "expectations"):
        shutil.copytree(office / name, folder / name)
    shutil.copy(office / "keys" / "office.pem.pub", folder / "office.pub")
    settings = (office / "audit.yaml").read_text().replace("signing_key: keys/office.pem\n",
                                                           "site: {public_key: office.pub}\n")
    (folder / "audit.yaml").write_text(settings)
    return folder


def test_a_ci_check_against_a_package_names_its_key_and_witnesses_and_refuses_an_old_one(witnessed, tmp_path):
    office, witnesses, _ = witnessed
    publish_the_corrected_release(office)
    ci = ci_checkout(office, tmp_path / "checkout")
    folder = office / "published" / EXAMPLE
    newest = json.loads((folder / "index.json").read_text())["latest"]  # other tests here publish versions too

    latest = audit("check", EXAMPLE, EXAMPLE_CORRECTED, "--waivers", EXAMPLE_WAIVERS, "--baseline", folder / newest,
                   "--workspace", ci)
    rolled_back = audit("check", EXAMPLE, EXAMPLE_CORRECTED, "--waivers", EXAMPLE_WAIVERS, "--baseline",
                        folder / "1.0.0", "--workspace", ci)

    assert latest[0] in (0, 1) and "does not verify" not in latest[1], latest[1]  # 1: changes since, if any
    assert f"baseline: package {newest} verified: its files and change-log extract hold, signed by the office's " \
        "key" in latest[1] and all(name in latest[1] for name in NAMES)
    assert rolled_back[0] == 1 and "a later publication exists" in rolled_back[1], rolled_back[1]
    assert not (ci / "audit.duckdb").exists()
