"""A release is read more than once (its digest, DuckDB's read, a Parquet release's checks and the log's copy). A
file rewritten, replaced or added to between two of those reads, even keeping its size and modification time, is an
input error: exit 2, one line naming the file, and nothing recorded, whatever kind of file and whichever command.
An office file is read once, and what the log records of it is what was read."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil

import pytest

from audit import pipeline
from audit.ingest import read
from audit.log import copies
from tests.conftest import (
    EXAMPLE,
    EXAMPLE_CSV,
    EXAMPLE_WAIVERS,
    ONE_FIGURE_CHANGED,
    keeping_its_times,
    log_rows,
    rewrite_parquet,
    to_parquet,
)


def one_digit_changed(path) -> None:
    """The same file, of the same size, with its last figure one lower (2022's aggravated assaults, 5369 -> 5368)."""
    text = path.read_bytes()
    keeping_its_times(path, lambda: path.write_bytes(text[:-2] + b"8" + text[-1:]))


def csv_release(tmp_path, blank_line: bool):
    path = tmp_path / "release.csv"
    text = EXAMPLE_CSV.read_text()
    # A blank line sends the file to the usual reading (a copy of its cells) rather than a view over it.
    lines = text.splitlines(keepends=True)
    path.write_text("".join(lines[:2] + ["\n"] + lines[2:]) if blank_line else text)
    return path, path


def workbook(tmp_path):
    import openpyxl

    def save(target, last: int) -> None:
        book = openpyxl.Workbook()
        rows = list(csv.reader(EXAMPLE_CSV.open()))
        rows[-1][-1] = str(last)
        for row in rows:
            book.active.append([int(c.replace(",", "")) if i and c else c for i, c in enumerate(row)]
                               if row[0] != "Year" else row)
        book.save(target)

    path = tmp_path / "release.xlsx"
    save(path, 5369)
    save(tmp_path / "altered.xlsx", 5368)
    return path, path


def parquet_rewrite(path) -> None:
    rewrite_parquet(path, ONE_FIGURE_CHANGED)


def parquet_folder(tmp_path):
    folder = tmp_path / "release"
    folder.mkdir()
    to_parquet(EXAMPLE_CSV, folder / "part-0.parquet", "year < 2020")
    to_parquet(EXAMPLE_CSV, folder / "part-1.parquet", "year >= 2020")
    return folder, folder / "part-1.parquet"


def parquet_file(tmp_path):
    path = tmp_path / "release.parquet"
    to_parquet(EXAMPLE_CSV, path)
    return path, path


# Each kind of release: how it is made (the release, and the file in it that is changed), how that file is changed,
# and the step after which it is changed: the first read of its bytes (its digest) for a file whose rows are then
# read into a table; the whole read for Parquet, whose files the checks or the log's copy read again.
KINDS = {
    "csv read where it lies": (lambda p: csv_release(p, False), one_digit_changed, "digest"),
    "csv read as cells": (lambda p: csv_release(p, True), one_digit_changed, "digest"),
    "workbook replaced": (workbook, lambda path: keeping_its_times(
        path, lambda: shutil.copyfile(path.with_name("altered.xlsx"), path)), "digest"),
    "parquet rewritten": (parquet_file, lambda path: keeping_its_times(path, lambda: parquet_rewrite(path)), "read"),
    "parquet folder, a file added": (parquet_folder, lambda path: shutil.copyfile(
        path, path.with_name("part-2.parquet")), "read"),
}


def changed_after(monkeypatch, moment: str, change) -> None:
    """Change the file once, just after `moment` (whichever of its functions comes first)."""
    done: list = []

    def once(real):
        def wrapped(*args, **kwargs):
            result = real(*args, **kwargs)
            if not done:
                done.append(change())
            return result
        return wrapped

    if moment == "digest":  # a text file's bytes are read (and digested) first, a workbook's digested first
        monkeypatch.setattr(read, "prepare_text", once(read.prepare_text))
        monkeypatch.setattr(read, "file_sha256", once(read.file_sha256))
    else:  # the release read (and its cells scanned), before it is checked and copied
        monkeypatch.setattr(pipeline, "_office_inputs", once(pipeline._office_inputs))


@pytest.mark.parametrize("command", ["check", "ingest"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_release_changed_while_it_is_read_is_refused_with_nothing_recorded(run, workspace, tmp_path, monkeypatch,
                                                                             kind, command):
    make, change, moment = KINDS[kind]
    release, changed = make(tmp_path)
    changed_after(monkeypatch, moment, lambda: change(changed))

    refused = run(command, EXAMPLE, release, "--waivers", EXAMPLE_WAIVERS)

    assert refused.exit_code == 2, refused.output
    assert refused.output.startswith(f"error: {release}: changed while it was read"), refused.output
    assert len(refused.output.strip().splitlines()) == 1
    assert not workspace.log_path.exists() and not copies.folder(workspace.log_path).exists()


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_release_left_alone_while_it_is_read_is_recorded(run, workspace, tmp_path, kind):
    """The counterpart: the same files, unchanged, are checked and recorded (nothing else trips the check)."""
    make, _, _ = KINDS[kind]
    release, _ = make(tmp_path)

    ingested = run("ingest", EXAMPLE, release, "--waivers", EXAMPLE_WAIVERS, "--format", "json")

    assert ingested.exit_code == 0, ingested.output
    assert json.loads(ingested.output)["release"]["rows"] == 6


def test_a_parquet_release_copied_only_as_it_is_recorded_is_held_to_its_files_too(run, workspace, tmp_path,
                                                                                   monkeypatch):
    """Where the engine reads a Parquet release where it lies (Spark), the log's copy is made from its files as the
    release is recorded, the last time they are read: a file rewritten before then is refused there."""
    release, changed = parquet_file(tmp_path)
    monkeypatch.setattr(pipeline, "_copy_first", lambda *args: None)
    changed_after(monkeypatch, "read", lambda: keeping_its_times(changed, lambda: parquet_rewrite(changed)))

    refused = run("ingest", EXAMPLE, release, "--waivers", EXAMPLE_WAIVERS)

    assert refused.exit_code == 2 and refused.output.startswith(f"error: {release}: changed while it was read")
    assert not workspace.log_path.exists() and not copies.folder(workspace.log_path).exists()


def test_the_suite_recorded_with_a_release_is_the_one_that_ran_though_its_file_changes_after(run, workspace,
                                                                                            monkeypatch):
    """The log records the digest of the suite that checked the release: the bytes read to run it, not the file as
    it is when the release is recorded (here, an expectation removed once the checks ran)."""
    suite = workspace.dataset(EXAMPLE).suite_path
    ran = suite.read_bytes()
    recording = pipeline._recording

    def suite_rewritten_first(*args, **kwargs):
        entries = json.loads(ran)
        entries["expectations"] = entries["expectations"][1:]
        suite.write_text(json.dumps(entries))
        return recording(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_recording", suite_rewritten_first)
    assert run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS).exit_code == 0

    [validation] = log_rows(workspace, "validations")
    assert suite.read_bytes() != ran
    assert validation["suite_sha256"] == hashlib.sha256(ran).hexdigest()


def test_a_data_file_changed_while_publish_checks_it_is_not_published(run, workspace, monkeypatch):
    """`publish` reads the data file it wrote twice, for its rows (held to the release's digest) and for its bytes
    (the digest the publication entry names): rewritten between the two, keeping its size and time, it is refused
    as tampering (exit 1), and nothing is published."""
    from audit.publish import publication

    assert run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS).exit_code == 0
    rows_checked = publication.require_written_rows

    def rewritten_after(log, path, *args):
        rows_checked(log, path, *args)
        one_digit_changed(path)

    monkeypatch.setattr(publication, "require_written_rows", rewritten_after)
    refused = run("publish", EXAMPLE)

    assert refused.exit_code == 1, refused.output
    assert "was changed while it was checked; nothing was published" in refused.output
    assert log_rows(workspace, "publications") == []
    assert not list(workspace.publish_root.glob("*/*/datapackage.json"))


def test_a_baseline_copy_changed_while_the_next_release_is_compared_with_it_records_nothing(run, workspace, tmp_path,
                                                                                          monkeypatch):
    """A published Parquet release is kept as a file beside the log. The next ingest digests that file (its rows as
    recorded), then the diff reads it again: rewritten in between, keeping its size and time, it is tampering (exit
    1), and the new release is not recorded against rows that are not the baseline's."""
    from audit.log.store import ChangeLog

    first, second = tmp_path / "2023.parquet", tmp_path / "2024.parquet"
    to_parquet(EXAMPLE_CSV, first)
    to_parquet(EXAMPLE_CSV, second, "year < 2022")
    assert run("ingest", EXAMPLE, first, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09").exit_code == 0
    assert run("publish", EXAMPLE).exit_code == 0
    (kept,) = copies.folder(workspace.log_path).glob("*")
    digested = ChangeLog.require_stored_rows

    def rewritten_after(log, release, *args, **kwargs):
        digested(log, release, *args, **kwargs)
        keeping_its_times(kept, lambda: parquet_rewrite(kept))

    monkeypatch.setattr(ChangeLog, "require_stored_rows", rewritten_after)
    refused = run("ingest", EXAMPLE, second, "--waivers", EXAMPLE_WAIVERS, "--version", "2024-03")

    assert refused.exit_code == 1, refused.output
    assert "were changed while they were read" in refused.output and "nothing was recorded" in refused.output
    assert [r["version"] for r in log_rows(workspace, "releases")] == ["2023-09"]


@pytest.mark.parametrize("copied", ["before the checks", "as it is recorded"])
def test_the_logs_copy_changed_before_its_digest_records_nothing(run, workspace, tmp_path, monkeypatch, copied):
    """The copy of a Parquet release the log keeps is a file beside it, written first (on DuckDB, before the checks
    read it; where the engine reads the release in place, as it is recorded) and digested as it is recorded: a copy
    rewritten in between, keeping its size and time, is tampering (exit 1), and nothing is recorded or left."""
    from audit.log import digest

    release, _ = parquet_file(tmp_path)
    if copied == "as it is recorded":
        monkeypatch.setattr(pipeline, "_copy_first", lambda *args: None)
    pending = copies.pending_copy(workspace.log_path, f"{EXAMPLE}@2023-09")
    digested = digest.table_digest

    def rewritten_first(con, table):
        if pending.exists():
            keeping_its_times(pending, lambda: parquet_rewrite(pending))
        return digested(con, table)

    monkeypatch.setattr(digest, "table_digest", rewritten_first)
    refused = run("ingest", EXAMPLE, release, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09")

    assert refused.exit_code == 1, refused.output
    assert "was changed while it was recorded; nothing was recorded" in refused.output
    assert log_rows(workspace, "releases") == []
    assert not pending.exists()
