"""Every command that reads a recorded release's rows holds them to the digest recorded with them first: rows
altered in the log (a table inside it, or the Parquet copy beside it) are tampering, exit 1, and the command says
so and writes nothing, rather than report, chart, compare or reconcile figures no release had."""

from __future__ import annotations

import duckdb
import pytest

from audit.log import copies
from tests.conftest import (
    EXAMPLE,
    EXAMPLE_CORRECTED,
    EXAMPLE_CORRECTED_NOTES,
    EXAMPLE_CSV,
    EXAMPLE_WAIVERS,
    ONE_FIGURE_CHANGED,
    add_dataset,
    keeping_its_times,
    rewrite_parquet,
    to_parquet,
)
from tests.test_checks_incidents import INCIDENT_SUITE, INCIDENTS, SUMMARY, make_incidents, summary_of, write_csv


@pytest.fixture
def office(workspace):
    """An incident table and the summary it is reconciled with (tests/test_checks_incidents.py)."""
    add_dataset(workspace, "incidents", INCIDENTS, INCIDENT_SUITE)
    add_dataset(workspace, "summary", SUMMARY, [])
    return workspace


def altered(workspace, release_id: str) -> None:
    """One figure of a recorded release changed where the log keeps its rows: its table, or its Parquet copy (its
    modification time set back)."""
    kept = [p for p in copies.folder(workspace.log_path).glob("*") if release_id in p.name] \
        if copies.folder(workspace.log_path).exists() else []
    if kept:
        keeping_its_times(kept[0], lambda: rewrite_parquet(kept[0], ONE_FIGURE_CHANGED))
        return
    with duckdb.connect(str(workspace.log_path)) as con:
        con.execute(ONE_FIGURE_CHANGED.replace("UPDATE t", f'UPDATE release_data."{release_id}"'))


def two_releases_recorded(run, tmp_path, as_parquet: bool) -> None:
    """The example's 2023-09 release, then its 2024-06 correction with the notes that explain it, each recorded
    (as CSV, kept in the log; or as Parquet, kept as a copy beside it)."""
    first, second = EXAMPLE_CSV, EXAMPLE_CORRECTED
    if as_parquet:
        first, second = tmp_path / "2023-09.parquet", tmp_path / "2024-06.parquet"
        to_parquet(EXAMPLE_CSV, first)
        to_parquet(EXAMPLE_CORRECTED, second)
    assert run("ingest", EXAMPLE, first, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09").exit_code == 0
    assert run("ingest", EXAMPLE, second, "--waivers", EXAMPLE_WAIVERS, "--notes", EXAMPLE_CORRECTED_NOTES,
               "--version", "2024-06").exit_code in (0, 1)


@pytest.mark.parametrize("kept_as", ["a table in the log", "a parquet copy beside it"])
@pytest.mark.parametrize("command", ["diff", "report"])
def test_a_recorded_release_altered_in_the_log_is_refused_by_every_command_that_reads_it(run, workspace, tmp_path,
                                                                                       kept_as, command):
    two_releases_recorded(run, tmp_path, as_parquet=kept_as == "a parquet copy beside it")
    assert run(command, EXAMPLE, *(["--version", "2023-09"] if command == "report" else [])).exit_code == 0
    altered(workspace, f"{EXAMPLE}@2023-09")

    refused = run(command, EXAMPLE, *(["--version", "2023-09"] if command == "report" else []))

    assert refused.exit_code == 1, refused.output
    assert f"release {EXAMPLE}@2023-09" in refused.output and "stored rows differ from those recorded" in refused.output
    assert len(refused.output.strip().splitlines()) == 1


def test_a_recorded_summary_altered_in_the_log_is_not_reconciled(office, run, tmp_path):
    incidents = make_incidents()
    assert run("ingest", "incidents", write_csv(tmp_path / "i.csv", incidents)).exit_code == 0
    assert run("ingest", "summary", write_csv(tmp_path / "s.csv", summary_of(incidents))).exit_code == 0
    assert run("reconcile", "incidents", "summary").exit_code == 0
    with duckdb.connect(str(office.log_path)) as con:
        (table,) = con.execute("SELECT data_table FROM releases WHERE dataset = 'summary'").fetchone()
        con.execute(f'UPDATE release_data."{table}" SET robbery = robbery + 1')

    refused = run("reconcile", "incidents", "summary")

    assert refused.exit_code == 1
    assert "stored rows differ from those recorded" in refused.output and "so it was not reconciled" in refused.output
    assert len(refused.output.strip().splitlines()) == 1  # the refusal alone: no report of the altered figures


def test_a_parquet_copy_changed_while_it_is_published_is_not_published(run, workspace, tmp_path, monkeypatch):
    """`publish` reads a release's copy beside the log for the data file, the report page and the coverage: the data
    file is held to the recorded digest, and the copy to one file for all three reads. Rewritten once the data file
    is written (its size and time kept), it is tampering, and nothing is published."""
    from audit.publish import publication

    release = tmp_path / "2023-09.parquet"
    to_parquet(EXAMPLE_CSV, release)
    assert run("ingest", EXAMPLE, release, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09").exit_code == 0
    (kept,) = copies.folder(workspace.log_path).glob("*")
    written = publication.write_data_files

    def copy_rewritten_after(*args, **kwargs):
        written(*args, **kwargs)
        altered(workspace, f"{EXAMPLE}@2023-09")

    monkeypatch.setattr(publication, "write_data_files", copy_rewritten_after)
    refused = run("publish", EXAMPLE)

    assert refused.exit_code == 1, refused.output
    assert "were changed while they were published; nothing was published" in refused.output
    assert not list(workspace.publish_root.glob("*/*/datapackage.json"))


def test_a_parquet_copy_swapped_while_verify_reads_it_is_named_as_such(run, workspace, tmp_path, monkeypatch):
    """`verify` digests each release's copy, then recomputes the diffs with it: a copy changed after its digest
    matched makes those diffs differ, and verify says which copy changed, not only that the changes disagree."""
    from audit.log.store import ChangeLog

    two_releases_recorded(run, tmp_path, as_parquet=True)
    assert run("verify").exit_code == 0
    (kept,) = [p for p in copies.folder(workspace.log_path).glob("*") if "2023-09" in p.name]
    digested = ChangeLog.stored_rows_problem

    def swapped_after(log, release, *args, **kwargs):
        problem = digested(log, release, *args, **kwargs)
        if release.version == "2023-09":
            altered(workspace, f"{EXAMPLE}@2023-09")
        return problem

    monkeypatch.setattr(ChangeLog, "stored_rows_problem", swapped_after)
    found = run("verify")

    assert found.exit_code == 1, found.output
    assert f"release {EXAMPLE}@2023-09: its stored rows ({kept.name}) were changed while verify read them" in found.output
