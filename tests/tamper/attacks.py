"""Scripted attacks on a data office's workspace, as an insider with write access to it would make them.

Each attack takes a fresh copy of one office (`build_office`: the bundled example published as 1.0.0 and 1.0.1,
signed, and a small text dataset published as 1.0.0), alters something behind the tool's back, and returns how
the tool answered: detected means `audit verify` exits 1 naming what was altered, or the command the attack
needed refuses with nothing written. The classes follow the verify issue; each has at least one attack.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb
import yaml
from click.testing import CliRunner

from audit.cli import cli

PROJECT = Path(__file__).resolve().parents[2]
EXAMPLE = "baltimore-violent-crime"
EXAMPLE_DIR = PROJECT / "datapackages" / EXAMPLE
TEXT = "tamper-incidents"
# A value that fails a warning-severity check, so it is published: it must never become markup.
SCRIPT = "<img src=x onerror=alert(1)>"
TEXT_ROWS = ["incident_id,offense,premise", "I1,Larceny,Street", "I2,Robbery,", f"I3,{SCRIPT},Store",
             "I4,Larceny,Store"]


@dataclass
class Outcome:
    detected: bool
    how: str  # the exit code and the line that says so


class Office:
    """One workspace and the ways to run the tool on it and to alter it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # -- the tool -----------------------------------------------------------
    def audit(self, *args: object, workspace: bool = True):
        extra = ["--workspace", str(self.root)] if workspace else []
        return CliRunner().invoke(cli, [*map(str, args), *extra], catch_exceptions=False)

    def audit_process(self, *args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "audit", *map(str, args), "--workspace", str(self.root)],
                              env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=300)

    def package(self, dataset: str, version: str) -> Path:
        return self.root / "published" / dataset / version

    @property
    def packages(self) -> list[Path]:
        return sorted(p.parent for p in (self.root / "published").glob("*/*/datapackage.json"))

    @property
    def public_key(self) -> Path:
        return self.root / "keys" / "office.pem.pub"

    def verify(self, *packages: Path):
        """The office's (or a board's) full check: the log, every package on disk, the office's key."""
        args = [a for p in (packages or self.packages) for a in ("--package", p)]
        return self.audit("verify", *args, "--public-key", self.public_key)

    def verify_alone(self, *packages: Path, key: bool = True):
        """An outsider's check: packages only, no log."""
        args = [a for p in packages for a in ("--package", p)]
        return self.audit("verify", *args, *(["--public-key", self.public_key] if key else []), workspace=False)

    # -- behind the tool's back ----------------------------------------------
    def sql(self, *statements: str) -> list:
        with duckdb.connect(str(self.root / "audit.duckdb")) as con:
            return [con.execute(s).fetchall() for s in statements]

    def stored(self, dataset: str, version: str) -> str:
        return f'release_data."{dataset}@{version}"'

    def snapshot(self) -> dict[str, str]:
        """Every file of the workspace (and beside it) by its sha256: to show a refusal wrote nothing."""
        out = {}
        for path in sorted(self.root.parent.rglob("*")):
            if path.is_file() and not path.is_symlink() and ".lock" not in path.name:
                out[str(path.relative_to(self.root.parent))] = hashlib.sha256(path.read_bytes()).hexdigest()
        return out

    def release_file(self, name: str, text: str) -> Path:
        path = self.root.parent / "incoming" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def revised_release(self) -> list:
        """A next release that revises one figure, with a note explaining it: the ingest arguments."""
        new = self.example_variant("2017,\"610,226\"", "2017,\"610,227\"")
        notes = self.release_file("notes.yaml", yaml.safe_dump({"notes": [
            {"where": {"year": 2017}, "columns": ["population"], "reason": "census revision", "approved_by": "office"}]}))
        return [EXAMPLE, new, "--waivers", EXAMPLE_DIR / "waivers.yaml", "--notes", notes, "--version", "2024-07"]

    def example_variant(self, old: str, new: str) -> Path:
        """The published 2024-06 release with one piece of text replaced."""
        text = (EXAMPLE_DIR / "releases" / "2024-06-corrected-example.csv").read_text(encoding="utf-8")
        assert old in text, old
        return self.release_file("variant.csv", text.replace(old, new, 1))


def expect(result, code: int, *phrases: str) -> Outcome:
    output = result.output
    found = result.exit_code == code and all(p in output for p in phrases)
    lines = [line.strip() for line in output.splitlines() if any(p in line for p in phrases)] or output.splitlines()[-1:]
    return Outcome(found, f"exit {result.exit_code}: {lines[0] if lines else ''}"[:300])


def refused(office: Office, before: dict[str, str], result, code: int, *phrases: str) -> Outcome:
    """The command refused (exit `code`, saying `phrases`) and wrote nothing anywhere."""
    outcome = expect(result, code, *phrases)
    written = sorted(set(office.snapshot().items()) ^ set(before.items()))
    if written:
        return Outcome(False, f"{outcome.how}; but it wrote {written[:3]}")
    return outcome


# -- the office ----------------------------------------------------------------


def build_office(root: Path) -> Office:
    """Two published versions of the example (signed), and the text dataset published once."""
    root.mkdir(parents=True)
    shutil.copytree(PROJECT / "datapackages", root / "datapackages")
    shutil.copytree(PROJECT / "expectations", root / "expectations")
    text_folder = root / "datapackages" / TEXT
    text_folder.mkdir()
    fields = [{"name": n, "type": "string", "description": n} for n in ("incident_id", "offense", "premise")]
    (text_folder / "datapackage.yaml").write_text(yaml.safe_dump({
        "name": TEXT, "title": "Tamper test incidents", "licenses": [{"name": "PDDL-1.0"}],
        "resources": [{"name": "incidents", "path": "data/incidents.csv",
                       "schema": {"primaryKey": ["incident_id"], "fields": fields}}]}))
    (root / "expectations" / f"{TEXT}.json").write_text(json.dumps({"name": TEXT, "expectations": [
        {"type": "expect_column_values_to_be_in_set", "severity": "warning",
         "kwargs": {"column": "offense", "value_set": ["Larceny", "Robbery"]}}]}))
    office = Office(root)
    steps = [
        ("keygen", root / "keys" / "office.pem"),
        ("ingest", EXAMPLE, EXAMPLE_DIR / "releases" / "2023-09-npsp-table-1.csv", "--waivers",
         EXAMPLE_DIR / "waivers.yaml", "--version", "2023-09"),
        ("publish", EXAMPLE),
        ("ingest", EXAMPLE, EXAMPLE_DIR / "releases" / "2024-06-corrected-example.csv", "--waivers",
         EXAMPLE_DIR / "waivers.yaml", "--notes", EXAMPLE_DIR / "revision-notes-2024-06.yaml", "--version", "2024-06"),
        ("publish", EXAMPLE),
        ("ingest", TEXT, office.release_file("text-1.csv", "\n".join(TEXT_ROWS) + "\n"), "--version", "1"),
        ("publish", TEXT),
    ]
    for step in steps:
        if step[0] == "keygen":
            result = office.audit(*step, workspace=False)
            (root / "audit.yaml").write_text("signing_key: keys/office.pem\n")
        else:
            result = office.audit(*step)
        if result.exit_code != 0:
            raise RuntimeError(f"building the office: audit {' '.join(map(str, step))} exited {result.exit_code}: "
                               f"{result.output[-500:]}")
    return office


# -- 1. the stored release altered before it is published ------------------------


def columns_swapped_then_published(office: Office) -> Outcome:
    """Swap homicide and rape in a recorded, not yet published release, then publish it."""
    office.audit("ingest", *office.revised_release())
    table = office.stored(EXAMPLE, "2024-07")
    office.sql(f"ALTER TABLE {table} RENAME COLUMN homicide TO x", f"ALTER TABLE {table} RENAME COLUMN rape TO homicide",
               f"ALTER TABLE {table} RENAME COLUMN x TO rape")
    before = office.snapshot()
    return refused(office, before, office.audit("publish", EXAMPLE), 1, "stored rows differ", "not published")


def stored_rows_edited_then_a_dry_run(office: Office) -> Outcome:
    """Change a figure of a recorded, not yet published release, then ask what publishing it would write: a dry run
    writes no file to hold to the recorded digest, so it digests the stored rows themselves."""
    office.audit("ingest", *office.revised_release())
    office.sql(f"UPDATE {office.stored(EXAMPLE, '2024-07')} SET homicide = homicide - 1 WHERE year = 2018")
    before = office.snapshot()
    return refused(office, before, office.audit("publish", EXAMPLE, "--dry-run"), 1, "stored rows differ")


def stored_published_rows_edited(office: Office) -> Outcome:
    """Change a published figure in the log's stored copy (a downgrade: aggravated assault to nothing)."""
    office.sql(f"UPDATE {office.stored(EXAMPLE, '2024-06')} SET aggravated_assault = aggravated_assault - 1 "
               "WHERE year = 2020")
    return expect(office.verify(), 1, "baltimore-violent-crime@2024-06", "stored rows differ")


# -- 2. package files and metadata --------------------------------------------------


def descriptor_points_at_forged_data(office: Office) -> Outcome:
    package = office.package(EXAMPLE, "1.0.1")
    forged = (package / "data" / "violent-crime.csv").read_text().replace("342", "300")
    (package / "data" / "forged.csv").write_text(forged)
    descriptor = json.loads((package / "datapackage.json").read_text())
    descriptor["resources"][0]["path"] = "data/forged.csv"
    (package / "datapackage.json").write_text(json.dumps(descriptor, indent=2))
    return expect(office.verify_alone(package), 1, "datapackage.json is not the file that was published",
                  "data/forged.csv was added")


def readme_caveats_removed(office: Office) -> Outcome:
    package = office.package(EXAMPLE, "1.0.1")
    readme = package / "README.md"
    readme.write_text(readme.read_text().split("## ")[0] + "Every figure was independently audited.\n")
    return expect(office.verify_alone(package), 1, "README.md is not the file that was published")


def licence_and_units_changed(office: Office) -> Outcome:
    package = office.package(EXAMPLE, "1.0.0")
    descriptor = json.loads((package / "datapackage.json").read_text())
    descriptor["licenses"] = [{"name": "CC-BY-NC-4.0"}]
    descriptor["resources"][0]["schema"]["fields"][1]["unit"] = "thousands"
    (package / "datapackage.json").write_text(json.dumps(descriptor, indent=2))
    return expect(office.verify(), 1, "datapackage.json is not the file that was published")


def descriptor_deleted_from_a_published_version(office: Office) -> Outcome:
    """The office's own verify (no --package) must say a published version lost its descriptor, not stop as if
    the folder were no package at all."""
    (office.package(EXAMPLE, "1.0.0") / "datapackage.json").unlink()
    return expect(office.audit("verify"), 1, "version 1.0.0: datapackage.json is missing")


def file_deleted_from_package(office: Office) -> Outcome:
    package = office.package(EXAMPLE, "1.0.1")
    (package / "findings.csv").unlink()
    return expect(office.verify_alone(package), 1, "findings.csv is missing")


def package_rehashed_without_the_key(office: Office) -> Outcome:
    """Forge a whole package consistently: new data, a new publication entry listing it, a new head. Without
    the office's key the head cannot be signed, and the log does not hold it."""
    from audit.log.chain import entry_hash

    package = office.package(EXAMPLE, "1.0.1")
    data = package / "data" / "violent-crime.csv"
    data.write_text(data.read_text().replace("342", "300"))
    lines = (package / "changelog.jsonl").read_text().splitlines()
    entry = json.loads(lines[-1])
    files = json.loads(entry["files"])
    files["data/violent-crime.csv"] = hashlib.sha256(data.read_bytes()).hexdigest()
    entry["files"] = json.dumps(files, sort_keys=True, separators=(",", ":"))
    entry["hash"] = entry_hash(entry)
    lines[-1] = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    (package / "changelog.jsonl").write_text("\n".join(lines) + "\n")
    head = json.loads((package / "changelog-head.json").read_text())
    head["head"] = entry["hash"]
    head.pop("signature")
    (package / "changelog-head.json").write_text(json.dumps(head))
    outsider = office.verify_alone(package)  # with the office's public key: unsigned
    office_check = office.verify(package)
    ok = expect(outsider, 1, "not signed").detected and expect(office_check, 1, "is not the one this package").detected
    return Outcome(ok, f"outsider: {expect(outsider, 1, 'not signed').how}; office: "
                       f"{expect(office_check, 1, 'is not the one').how}")


def extract_cut_short(office: Office) -> Outcome:
    """Drop the first entries of a package's extract (the release it carries), so the history skips them."""
    package = office.package(EXAMPLE, "1.0.1")
    lines = (package / "changelog.jsonl").read_text().splitlines()
    (package / "changelog.jsonl").write_text("\n".join(lines[3:]) + "\n")
    return expect(office.verify_alone(office.package(EXAMPLE, "1.0.0"), package), 1, "are missing (deleted or moved)")


def published_extract_edited(office: Office) -> Outcome:
    """Edit a change in a package's extract as it lies in the office's published folder: the office's own
    `audit verify` (no --package given) checks every published package, its extract included."""
    package = office.package(EXAMPLE, "1.0.1")
    lines = (package / "changelog.jsonl").read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if '"table":"changes"' in line)
    entry = json.loads(lines[at])
    entry["new"] = entry["old"]
    lines[at] = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    (package / "changelog.jsonl").write_text("\n".join(lines) + "\n")
    return expect(office.audit("verify"), 1, "version 1.0.1: its change log extract", "does not match its hash")


# -- 3. the revision gate -------------------------------------------------------------


def baseline_edited_to_hide_a_revision(office: Office) -> Outcome:
    """Make the published baseline equal the new release's changed value, so ingest would see no revision."""
    office.sql(f"UPDATE {office.stored(EXAMPLE, '2024-06')} SET population = 610227 WHERE year = 2017")
    new = office.example_variant("2017,\"610,226\"", "2017,\"610,227\"")
    before = office.snapshot()
    result = office.audit("ingest", EXAMPLE, new, "--waivers", EXAMPLE_DIR / "waivers.yaml", "--version", "2024-07")
    return refused(office, before, result, 1, "stored rows differ", "nothing was recorded")


def baseline_edited_and_restored_around_an_old_tool(office: Office) -> Outcome:
    """The same, through a tool that did not check the baseline (as before this fix): ingest finds no
    revision and the release is published; then the baseline is restored. Verify redoes the diff."""
    import audit.log.store as store

    table = office.stored(EXAMPLE, "2024-06")
    office.sql(f"UPDATE {table} SET population = 610227 WHERE year = 2017")
    new = office.example_variant("2017,\"610,226\"", "2017,\"610,227\"")
    check = store.ChangeLog.require_stored_rows
    store.ChangeLog.require_stored_rows = lambda self, release, why, digest_them=True: None
    try:
        ingested = office.audit("ingest", EXAMPLE, new, "--waivers", EXAMPLE_DIR / "waivers.yaml", "--version", "2024-07")
        published = office.audit("publish", EXAMPLE)
    finally:
        store.ChangeLog.require_stored_rows = check
    if ingested.exit_code != 0 or published.exit_code != 0:
        return Outcome(False, f"the attack's own steps failed: {ingested.output[-200:]} {published.output[-200:]}")
    office.sql(f"UPDATE {table} SET population = 610226 WHERE year = 2017")
    return expect(office.verify(), 1, "baltimore-violent-crime@2024-07", "recorded changes", "1 change(s) not recorded")


def recorded_change_deleted_and_chain_rehashed(office: Office) -> Outcome:
    """Delete a recorded change and recompute every later hash, as a careful forger would: the packages and
    their signed heads no longer match the log."""
    from audit.log.store import TABLES

    [(seq,)] = office.sql("SELECT min(seq) FROM changes WHERE dataset = 'baltimore-violent-crime'")[0]
    with duckdb.connect(str(office.root / "audit.duckdb")) as con:
        con.execute(f"DELETE FROM changes WHERE seq = {seq} AND dataset = '{EXAMPLE}'")
        for table in TABLES:
            con.execute(f"UPDATE {table} SET seq = seq - 1 WHERE dataset = '{EXAMPLE}' AND seq > {seq}")
        rehash_chain(con, EXAMPLE, seq - 1)
    return expect(office.verify(), 1, "this package was published")


def rehash_chain(con, dataset: str, first_seq: int) -> None:
    """Recompute every hash of `dataset`'s chain from entry `first_seq` on, each linking to the one before, as a
    forger who edited the log directly would: the chain holds again, with other hashes."""
    from audit.log.chain import entry_hash
    from audit.log.store import TABLES

    previous = None
    for seq in range(first_seq, 10_000):
        found = []
        for table in TABLES:
            cursor = con.execute(f"SELECT * FROM {table} WHERE dataset = ? AND seq = ?", [dataset, seq])
            names = [d[0] for d in cursor.description]
            found += [(table, dict(zip(names, row, strict=True))) for row in cursor.fetchall()]
        if not found:
            break
        table, entry = found[0]
        if previous is not None:
            entry["prev_hash"] = previous
        entry["hash"] = entry_hash({"table": table, **entry})
        con.execute(f"UPDATE {table} SET prev_hash = ?, hash = ? WHERE dataset = ? AND seq = ?",
                    [entry["prev_hash"], entry["hash"], dataset, seq])
        previous = entry["hash"]


# -- 4. the stored-release digest ------------------------------------------------------


def null_replaced_by_nul_text(office: Office) -> Outcome:
    """A missing premise becomes the text "\\0": the earlier digest read both as chr(0)."""
    [[(changed,)]] = office.sql(f"UPDATE {office.stored(TEXT, '1')} SET premise = chr(0) WHERE premise IS NULL")
    if not changed:
        return Outcome(False, "the attack found no missing premise to change")
    return expect(office.verify(), 1, f"{TEXT}@1", "stored rows differ")


def cell_boundary_shifted(office: Office) -> Outcome:
    """Move text across a cell boundary ('Larceny' | 'Street' -> 'Larceny\\x1fStreet'... ), which leaves the
    earlier digest's row text (cells joined by chr(31)) unchanged: a collision that needed no search."""
    office.sql(f"UPDATE {office.stored(TEXT, '1')} SET offense = offense || chr(31) || split_part(premise, chr(31), 1), "
               "premise = NULL WHERE incident_id = 'I1'")
    return expect(office.verify(), 1, f"{TEXT}@1", "stored rows differ")


def rows_reordered(office: Office) -> Outcome:
    table = office.stored(EXAMPLE, "2023-09")
    office.sql(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table} ORDER BY year DESC")
    return expect(office.verify(), 1, "baltimore-violent-crime@2023-09", "stored rows differ")


def column_type_widened(office: Office) -> Outcome:
    table = office.stored(EXAMPLE, "2023-09")
    office.sql(f"ALTER TABLE {table} ALTER homicide TYPE DOUBLE")
    return expect(office.verify(), 1, "baltimore-violent-crime@2023-09", "stored rows differ")


# -- 5. packages replaced or deleted ------------------------------------------------------


def newest_version_replaced_by_the_one_before(office: Office) -> Outcome:
    newest, older = office.package(EXAMPLE, "1.0.1"), office.package(EXAMPLE, "1.0.0")
    shutil.rmtree(newest)
    shutil.copytree(older, newest)
    return expect(office.verify(), 1, "version 1.0.1", "is not the package that was published")


def newest_version_deleted(office: Office) -> Outcome:
    shutil.rmtree(office.package(EXAMPLE, "1.0.1"))
    return expect(office.verify(), 1, "version 1.0.1 is missing")


def index_edited_to_hide_a_version(office: Office) -> Outcome:
    index_path = office.root / "published" / EXAMPLE / "index.json"
    index = json.loads(index_path.read_text())
    index["versions"] = index["versions"][:1]
    index["latest"] = "1.0.0"
    index_path.write_text(json.dumps(index))
    return expect(office.verify(), 1, "index.json does not list exactly the versions")


# -- 6. a crash that could hide a version ---------------------------------------------------


def publish_killed_after_its_commit(office: Office) -> Outcome:
    """Kill publish right after the log records the publication; the next command (an ingest of another
    release) must put it in place; until then, verify says it is half-published."""
    office.audit("ingest", *office.revised_release())
    killed = office.audit_process("publish", EXAMPLE, env={"AUDIT_CRASH_AT": "publish-after-commit"})
    if killed.returncode >= 0:
        return Outcome(False, f"publish was not killed: exit {killed.returncode}")
    during = expect(office.verify(), 1, "version 1.0.2 is half-published")
    office.audit("ingest", TEXT, office.release_file("text-2.csv", "\n".join(TEXT_ROWS) + "\n\n"), "--version", "2")
    after = office.verify()
    index = json.loads((office.root / "published" / EXAMPLE / "index.json").read_text())
    whole = after.exit_code == 0 and office.package(EXAMPLE, "1.0.2").is_dir() and index["latest"] == "1.0.2"
    return Outcome(during.detected and whole, f"{during.how}; after the next ingest: verify exit {after.exit_code}, "
                                              f"index latest {index['latest']}")


# -- 7. writes outside the workspace ----------------------------------------------------------


def version_label_with_a_path(office: Office) -> Outcome:
    new = office.example_variant("2017,", "2017,")
    before = office.snapshot()
    result = office.audit("ingest", EXAMPLE, new, "--version", "../../../../escaped")
    return refused(office, before, result, 2, "is not a plain label")


def dataset_folder_is_a_link_outside(office: Office) -> Outcome:
    outside = office.root.parent / "outside"
    outside.mkdir()
    (office.root / "published" / TEXT).rename(outside / TEXT)
    (office.root / "published" / TEXT).symlink_to(outside / TEXT)
    office.audit("ingest", TEXT, office.release_file("text-2.csv", "\n".join(TEXT_ROWS) + "\n\n"), "--version", "2")
    before = office.snapshot()
    return refused(office, before, office.audit("publish", TEXT), 2, "is a symbolic link")


def report_folder_is_a_link_outside(office: Office) -> Outcome:
    outside = office.root.parent / "outside"
    outside.mkdir()
    (office.root / "reports").mkdir()
    (office.root / "reports" / EXAMPLE).symlink_to(outside)
    before = office.snapshot()
    return refused(office, before, office.audit("report", EXAMPLE), 2, "is a symbolic link")


# -- 8. markup in published pages ----------------------------------------------------------------


def script_in_a_published_value(office: Office) -> Outcome:
    """The text dataset's third offence is markup that fails a warning check, so it was published: no page of
    any package may carry it as markup."""
    pages = [p for p in (office.root / "published").rglob("*.html")]
    unsafe = [str(p.relative_to(office.root)) for p in pages if SCRIPT in p.read_text(encoding="utf-8")]
    escaped = any("&lt;img src=x" in p.read_text(encoding="utf-8") for p in pages)
    return Outcome(bool(pages) and not unsafe and escaped,
                   f"{len(pages)} published page(s); carrying the markup unescaped: {unsafe or 'none'}")


# -- 9. what else the log file holds ---------------------------------------------------------------


def meta_row_duplicated(office: Office) -> Outcome:
    office.sql("INSERT INTO meta SELECT * FROM meta")
    return expect(office.verify(), 1, "meta holds the rows [('format', '3'), ('format', '3')]")


def objects_added_to_the_log(office: Office) -> Outcome:
    office.sql("CREATE TABLE extra (x INTEGER)", "CREATE VIEW publications_view AS SELECT * FROM publications",
               "CREATE SCHEMA hidden", "CREATE MACRO twice(x) AS x * 2", "CREATE SEQUENCE counter")
    result = office.verify()
    return expect(result, 1, "table 'extra'", "view 'main.publications_view'", "schema 'hidden'",
                  "macro or function 'main.twice'", "sequence 'main.counter'")


def log_deleted_while_ingest_runs(office: Office) -> Outcome:
    """Delete the log file while ingest is recording: it must not report the release as recorded, and the
    next ingest must not silently start a new history."""
    import audit.log.recording as record

    new = office.example_variant("2017,", "2017,")
    new.write_text(new.read_text() + "\n")
    point = record.crash_point

    def delete_log(name: str) -> None:
        if name == "ingest-before-commit":
            (office.root / "audit.duckdb").unlink()
        point(name)

    record.crash_point = delete_log
    try:
        during = office.audit("ingest", EXAMPLE, new, "--version", "2024-07")
    finally:
        record.crash_point = point
    next_one = office.audit("ingest", EXAMPLE, new, "--version", "2024-07")
    a = expect(during, 2, "was deleted or replaced while this command ran")
    b = expect(next_one, 2, "there is no change log")
    return Outcome(a.detected and b.detected and not (office.root / "audit.duckdb").exists(), f"{a.how}; then {b.how}")


# -- 10. the data bound to the record ---------------------------------------------------------------------


def patched_publisher_writes_another_figure(office: Office) -> Outcome:
    """A publisher modified to write 2017's population one higher than the log recorded, its own read-back check
    removed: the package is signed and listed by its publication entry, but its rows are not the recorded ones."""
    import audit.publish.publication as publication

    assert office.audit("ingest", *office.revised_release()).exit_code == 0
    write, check = publication.write_data_files, publication.require_written_rows

    def forging(folder, *args, **kwargs):
        write(folder, *args, **kwargs)
        data = next((folder / "data").glob("*.csv"))
        data.write_text(data.read_text().replace("2017,610227,", "2017,610228,", 1))

    publication.write_data_files, publication.require_written_rows = forging, lambda *a, **k: None
    try:
        published = office.audit("publish", EXAMPLE)
    finally:
        publication.write_data_files, publication.require_written_rows = write, check
    package = office.package(EXAMPLE, "1.0.2")
    said = "its data file's rows are not the release's recorded rows"
    alone, full = expect(office.verify_alone(package), 1, said), expect(office.verify(), 1, said)
    return Outcome(published.exit_code == 0 and alone.detected and full.detected,
                   f"outsider {alone.how}; office {full.how}")


def parquet_copy_swapped_while_publish_reads_it(office: Office) -> Outcome:
    """Only write access to the folder beside the log: the log's Parquet copy of a release is swapped for a forged
    one while publish runs, after it has found the copy there and before it writes the package from it."""
    import audit.publish.publication as publication
    from audit.log import copies

    variant = office.example_variant("2017,\"610,226\"", "2017,\"610,227\"")
    parquet = variant.with_suffix(".parquet")
    forged = variant.with_name("forged.parquet")
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * FROM read_csv('{variant}', thousands = ',')) TO '{parquet}' (FORMAT parquet)")
    args = office.revised_release()
    args[1] = parquet
    assert office.audit("ingest", *args).exit_code == 0
    (copy,) = [p for p in copies.folder(office.root / "audit.duckdb").iterdir() if p.suffix == ".parquet"]
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * REPLACE (CASE WHEN year = 2018 THEN homicide - 1 ELSE homicide END AS homicide) "
                    f"FROM read_parquet('{copy}')) TO '{forged}' (FORMAT parquet, COMPRESSION zstd)")
    write = publication.write_data_files

    def swap_then_write(*args, **kwargs):
        os.replace(forged, copy)
        write(*args, **kwargs)

    publication.write_data_files = swap_then_write
    try:
        result = office.audit("publish", EXAMPLE)
    finally:
        publication.write_data_files = write
    # The file written from the forged copy does not read back as the recorded rows; the copy is then named.
    outcome = expect(result, 1, "stored rows differ", "not published")
    return Outcome(outcome.detected and not office.package(EXAMPLE, "1.0.2").exists(), outcome.how)


@dataclass(frozen=True)
class Attack:
    name: str
    kind: str  # the class of the verify issue
    run: Callable[[Office], Outcome]


ATTACKS = [Attack(f.__name__.replace("_", " "), kind, f) for kind, f in [
    ("1 stored release", columns_swapped_then_published),
    ("1 stored release", stored_rows_edited_then_a_dry_run),
    ("1 stored release", stored_published_rows_edited),
    ("2 package files", descriptor_points_at_forged_data),
    ("2 package files", readme_caveats_removed),
    ("2 package files", licence_and_units_changed),
    ("2 package files", file_deleted_from_package),
    ("2 package files", descriptor_deleted_from_a_published_version),
    ("2 package files", package_rehashed_without_the_key),
    ("2 package files", extract_cut_short),
    ("2 package files", published_extract_edited),
    ("3 revision gate", baseline_edited_to_hide_a_revision),
    ("3 revision gate", baseline_edited_and_restored_around_an_old_tool),
    ("3 revision gate", recorded_change_deleted_and_chain_rehashed),
    ("4 digest", null_replaced_by_nul_text),
    ("4 digest", cell_boundary_shifted),
    ("4 digest", rows_reordered),
    ("4 digest", column_type_widened),
    ("5 packages on disk", newest_version_replaced_by_the_one_before),
    ("5 packages on disk", newest_version_deleted),
    ("5 packages on disk", index_edited_to_hide_a_version),
    ("6 crash", publish_killed_after_its_commit),
    ("7 paths", version_label_with_a_path),
    ("7 paths", dataset_folder_is_a_link_outside),
    ("7 paths", report_folder_is_a_link_outside),
    ("8 pages", script_in_a_published_value),
    ("9 log objects", meta_row_duplicated),
    ("9 log objects", objects_added_to_the_log),
    ("9 log objects", log_deleted_while_ingest_runs),
    ("10 data bound to the record", patched_publisher_writes_another_figure),
    ("10 data bound to the record", parquet_copy_swapped_while_publish_reads_it),
]]


def fresh_copy(template: Office, where: Path) -> Office:
    """A copy of the template office (and the folder beside it) at `where`/office."""
    shutil.copytree(template.root.parent, where, symlinks=True)
    return Office(where / template.root.name)
