"""A release kept as Parquet, a file or a folder of files, is read where it lies, typed from its columns, and gives
the findings the same release gives as CSV; a value that does not fit its field names the file, row and column."""

from __future__ import annotations

import json
import shutil
import signal

import duckdb
import pytest

from audit import pipeline
from audit.log import copies
from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, to_parquet
from tests.conftest import rewrite_parquet as rewrite


def findings(run, path) -> tuple[int, list]:
    result = run("check", EXAMPLE, path, "--waivers", EXAMPLE_WAIVERS, "--format", "json")
    report = json.loads(result.output)
    return result.exit_code, [(f["check"], f["key"], f["waived"]) for f in report["findings"]]


def test_a_parquet_release_gives_the_findings_of_the_same_release_as_csv(run, tmp_path):
    to_parquet(EXAMPLE_CSV, tmp_path / "release.parquet")

    assert findings(run, tmp_path / "release.parquet") == findings(run, EXAMPLE_CSV)


def test_a_folder_of_parquet_files_is_one_release_in_file_order(run, workspace, tmp_path):
    folder = tmp_path / "lake"
    folder.mkdir()
    to_parquet(EXAMPLE_CSV, folder / "part-0.parquet", "Year < 2020")
    to_parquet(EXAMPLE_CSV, folder / "part-1.parquet", "Year >= 2020")

    assert findings(run, folder) == findings(run, EXAMPLE_CSV)
    assert run("ingest", EXAMPLE, folder, "--waivers", EXAMPLE_WAIVERS, "--version", "lake").exit_code == 0


@pytest.mark.parametrize("hidden", [".part-2.parquet", "_part-2.parquet", "_delta_log/00000000.checkpoint.parquet",
                                    ".spark-staging/part-2.parquet", "part-2.parquet._COPYING_"])
def test_a_file_hidden_in_a_release_folder_is_no_part_of_it_as_spark_reads_it(run, tmp_path, hidden):
    """What Hadoop's listing (and so Spark, reading the folder where it lies) leaves out of a folder, DuckDB leaves
    out too: a name starting with "." or "_", at any depth, or a copy still being made. Such a file takes no part
    in the rows or the digest, so the two engines read the same release from the same folder."""
    folder = tmp_path / "lake"
    folder.mkdir()
    to_parquet(EXAMPLE_CSV, folder / "part-0.parquet", "Year < 2020")
    to_parquet(EXAMPLE_CSV, folder / "part-1.parquet", "Year >= 2020")
    plain = json.loads(run("check", EXAMPLE, folder, "--format", "json").output)["release"]
    (folder / hidden).parent.mkdir(exist_ok=True)
    to_parquet(EXAMPLE_CSV, folder / hidden, "Year >= 2019")  # rows that would repeat a key

    with_hidden = json.loads(run("check", EXAMPLE, folder, "--format", "json").output)["release"]
    assert (with_hidden["rows"], with_hidden["sha256"]) == (plain["rows"], plain["sha256"])


def with_a_fraction_of_a_homicide(path):
    """The example's release as Parquet, its homicides a fraction in 2019 (row 3): no valid integer."""
    with duckdb.connect() as con:
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{EXAMPLE_CSV}', thousands = ',')")
        con.execute("ALTER TABLE t ALTER \"Homicide\" TYPE DOUBLE")
        con.execute("UPDATE t SET \"Homicide\" = 342.5 WHERE \"Year\" = 2019")
        con.execute(f"COPY t TO '{path}' (FORMAT parquet)")
    return path


def test_a_value_that_does_not_fit_its_field_names_file_row_and_column(run, tmp_path):
    result = run("check", EXAMPLE, with_a_fraction_of_a_homicide(tmp_path / "bad.parquet"))

    assert result.exit_code == 2
    assert "bad.parquet, row 3, column 'Homicide': '342.5' is not a valid integer for field 'homicide'" in result.output


def test_a_refused_parquet_release_does_not_wait_for_its_digest(run, tmp_path, monkeypatch):
    """The files' digest is taken while DuckDB reads them; a release refused meanwhile (a bad cell, Ctrl-C) is
    refused at once, not after a digest of gigabytes it no longer needs. Here the digest cannot finish until the
    refusal is out: if the command waited for it, it would finish first (after 30 s) and the test would fail."""
    import threading

    import audit.ingest

    refused, finished_first = threading.Event(), []

    def slow_digest(path):
        finished_first.append(not refused.wait(30))
        return "0" * 64

    monkeypatch.setattr(audit.ingest, "parquet_sha256", slow_digest)

    result = run("check", EXAMPLE, with_a_fraction_of_a_homicide(tmp_path / "bad.parquet"))
    refused.set()

    assert result.exit_code == 2 and "is not a valid integer" in result.output
    assert finished_first in ([], [False])  # the digest was still under way (or not yet started) at the refusal


# -- the log's copy of a Parquet release -------------------------------------------------------------------------


def stored_copies(workspace) -> tuple[list[str], list[str]]:
    """(tables in the log file's release_data schema, files in the folder beside it)."""
    with duckdb.connect(str(workspace.log_path), read_only=True) as con:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'release_data'").fetchall()]
    beside = copies.folder(workspace.log_path)
    return tables, sorted(p.name for p in beside.iterdir()) if beside.is_dir() else []


def test_a_parquet_release_is_kept_as_parquet_beside_the_log_and_verified_there(run, workspace, tmp_path):
    to_parquet(EXAMPLE_CSV, tmp_path / "release.parquet")
    assert run("ingest", EXAMPLE, tmp_path / "release.parquet", "--waivers", EXAMPLE_WAIVERS,
               "--version", "2023-09").exit_code == 0
    assert run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "csv").exit_code == 0

    tables, files = stored_copies(workspace)

    assert tables == [f"{EXAMPLE}@csv"] and len(files) == 1 and files[0].endswith(".parquet")
    assert run("verify").exit_code == 0
    assert run("publish", EXAMPLE, "--version", "2023-09").exit_code == 0


@pytest.mark.parametrize("attack, said", [
    ("a cell changed", "its stored rows differ from those recorded"),
    ("two rows swapped", "its stored rows differ from those recorded"),
    ("the file deleted", "are missing"),
    ("an unnamed file added", "belongs to no recorded release"),
])
def test_a_parquet_copy_altered_beside_the_log_is_found_and_refused(run, workspace, tmp_path, attack, said):
    to_parquet(EXAMPLE_CSV, tmp_path / "release.parquet")
    run("ingest", EXAMPLE, tmp_path / "release.parquet", "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09")
    (copy,) = copies.folder(workspace.log_path).iterdir()

    if attack == "a cell changed":
        rewrite(copy, "UPDATE t SET homicide = homicide - 1 WHERE year = 2019")
    elif attack == "two rows swapped":
        rewrite(copy, "CREATE OR REPLACE TABLE t AS SELECT * FROM t ORDER BY year = 2019, year")
    elif attack == "the file deleted":
        copy.unlink()
    else:
        shutil.copy(copy, copy.with_name("extra.parquet"))
    verified = run("verify")

    assert verified.exit_code == 1 and said in verified.output
    if attack != "an unnamed file added":
        published = run("publish", EXAMPLE, "--version", "2023-09")
        assert published.exit_code != 0 and not list(workspace.publish_root.glob("*/*/datapackage.json"))


@pytest.mark.slow
@pytest.mark.parametrize("point", ["ingest-data-stored", "ingest-before-commit", "ingest-after-commit"])
def test_an_ingest_killed_while_keeping_a_parquet_copy_records_all_or_nothing(workspace, tmp_path, point):
    from tests.conftest import audit_process
    from tests.consistency import inconsistencies

    to_parquet(EXAMPLE_CSV, tmp_path / "release.parquet")
    ingest = ["ingest", EXAMPLE, str(tmp_path / "release.parquet"), "--waivers", str(EXAMPLE_WAIVERS),
              "--version", "2023-09"]

    killed = audit_process(workspace, *ingest, crash_at=point)

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert inconsistencies(workspace.root) == []
    rerun = pipeline.ingest(workspace, EXAMPLE, tmp_path / "release.parquet", EXAMPLE_WAIVERS, "2023-09")
    assert rerun.report.success and rerun.already_recorded == (point == "ingest-after-commit")
    assert inconsistencies(workspace.root) == []
    assert [f for f in stored_copies(workspace)[1] if not f.endswith(".parquet")] == []  # nothing pending is left


def test_a_parquet_release_is_checked_as_the_copy_the_log_keeps_not_as_its_files_read_again(run, workspace, tmp_path,
                                                                                              monkeypatch):
    """On DuckDB the log's copy of a Parquet release is written first, and the checks, the diff and the record read
    that copy: files rewritten once they were read (here, before the checks run) change nothing the log records."""
    release = tmp_path / "release.parquet"
    to_parquet(EXAMPLE_CSV, release)
    pristine = json.loads(run("check", EXAMPLE, release, "--waivers", EXAMPLE_WAIVERS, "--format", "json").output)
    audit_loaded = pipeline._audit_loaded

    def rewritten_first(*args, **kwargs):
        rewrite(release, "DELETE FROM t WHERE year = 2019")
        return audit_loaded(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_audit_loaded", rewritten_first)
    ingested = run("ingest", EXAMPLE, release, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09", "--format", "json")

    report = json.loads(ingested.output)
    assert ingested.exit_code == 0
    assert report["findings"] == pristine["findings"] and report["release"]["rows"] == pristine["release"]["rows"]
    assert run("verify").exit_code == 0
    monkeypatch.undo()
    assert run("publish", EXAMPLE).exit_code == 0
    (data,) = workspace.publish_root.glob("*/*/data/*.csv")
    assert len(data.read_text().splitlines()) == pristine["release"]["rows"] + 1


@pytest.mark.parametrize("baseline", ["parquet", "csv"])
def test_a_parquet_ingest_refused_after_its_copy_was_written_leaves_no_copy(run, workspace, tmp_path, baseline):
    """The copy is written before the release is checked against its baseline; an ingest refused there (the
    published release's own copy was altered) leaves only the copies the log names, and nothing pending: no folder
    of copies where the log had none."""
    first = EXAMPLE_CSV
    if baseline == "parquet":
        first = tmp_path / "2023.parquet"
        to_parquet(EXAMPLE_CSV, first)
    assert run("ingest", EXAMPLE, first, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09").exit_code == 0
    assert run("publish", EXAMPLE).exit_code == 0
    kept = sorted(copies.folder(workspace.log_path).glob("*"))
    if baseline == "parquet":
        rewrite(kept[0], "UPDATE t SET homicide = homicide - 1 WHERE year = 2019")
    else:
        with duckdb.connect(str(workspace.log_path)) as con:
            con.execute(f'UPDATE release_data."{EXAMPLE}@2023-09" SET homicide = homicide - 1 WHERE year = 2019')
    to_parquet(EXAMPLE_CSV, tmp_path / "2024.parquet", "year < 2022")

    refused = run("ingest", EXAMPLE, tmp_path / "2024.parquet", "--waivers", EXAMPLE_WAIVERS, "--version", "2024-03")

    assert refused.exit_code == 1 and "nothing was recorded" in refused.output
    assert sorted(copies.folder(workspace.log_path).glob("*")) == kept
    assert copies.folder(workspace.log_path).exists() == (baseline == "parquet")


def test_a_parquet_release_whose_rows_change_while_it_is_read_is_refused_with_nothing_recorded(run, workspace, tmp_path,
                                                                                               monkeypatch):
    """Its rows counted once read, and again in the copy: a file rewritten between the two is an input error (exit 2,
    one line naming the file), and neither the log nor a copy is left."""
    release = tmp_path / "release.parquet"
    to_parquet(EXAMPLE_CSV, release)
    open_log = pipeline._open_log

    def rewritten_first(*args, **kwargs):
        rewrite(release, "DELETE FROM t WHERE year = 2019")
        return open_log(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_open_log", rewritten_first)
    refused = run("ingest", EXAMPLE, release, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09")

    assert refused.exit_code == 2 and f"{release}: changed while it was read" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    assert not workspace.log_path.exists() and not copies.folder(workspace.log_path).exists()


def test_weekly_parquet_releases_diff_as_their_csv_twins(run, workspace, tmp_path):
    """Repeated keys are matched in stored order, which for a Parquet copy is its row order in the file."""
    from tests.conftest import WEEK_1, define_weekly_incidents, diff_changes

    week_2 = WEEK_1.replace("300 W RD,Robbery,Knife", "300 W RD,Larceny,Knife")
    lines = week_2.splitlines()
    week_2 = "\n".join([lines[0], lines[2], lines[1], *lines[3:]]) + "\n"
    results = []
    for kind in ("csv", "parquet"):
        define_weekly_incidents(workspace, f"weekly-{kind}", {"matchKey": ["occurred", "block"]})
        for version, text in (("1", WEEK_1), ("2", week_2)):
            path = tmp_path / f"{kind}-{version}.csv"
            path.write_text(text)
            if kind == "parquet":
                with duckdb.connect() as con:
                    con.execute(f"COPY (SELECT * FROM read_csv('{path}', all_varchar = true)) TO "
                                f"'{path.with_suffix('.parquet')}' (FORMAT parquet)")
                path = path.with_suffix(".parquet")
            assert run("ingest", f"weekly-{kind}", path, "--version", version).exit_code == 0
        results.append(json.loads(run("diff", f"weekly-{kind}", "--from", "1", "--to", "2", "--format", "json").output))

    assert diff_changes(results[1]) == diff_changes(results[0]) == [("changed", "offense", "Robbery", "Larceny")]
    assert results[1]["matching"] == results[0]["matching"]
    assert run("verify").exit_code == 0


@pytest.mark.parametrize("seed", range(4))
def test_text_in_parquet_is_read_as_the_same_cells_in_a_csv_whatever_their_quirks(workspace, tmp_path, seed):
    """A field means the same whichever way it arrives: text columns of a Parquet file go through the same reading
    as a CSV's cells (plain cells as they are, the others cleaned), so both give the same typed rows and say the
    same fixes were made to read them, or both refuse the same first bad cell."""
    import random

    from audit.errors import InputError
    from audit.ingest import load_release
    from tests.conftest import add_dataset

    add_dataset(workspace, "quirks", {"name": "quirks", "resources": [{
        "name": "quirks", "path": "data/quirks.csv", "schema": {"missingValues": ["", "N/A"], "primaryKey": ["id"], "fields": [
            {"name": "id", "type": "string"}, {"name": "place", "type": "string"},
            {"name": "count", "type": "integer"}, {"name": "share", "type": "number"},
            {"name": "day", "type": "date"}]}}]}, [])
    draw = random.Random(seed)
    places = ["Eastern", " Eastern ", "East\u200bern", "Cafe\u0301", "Café", "N/A", "", "=SUM(A1)"]
    counts = ["12", " 12 ", "1,204", "1,204*", "1960.0", "5e+05", "N/A", "", "-3"]
    shares = ["0.5", "12.5", " 3 ", "1,234.5", "N/A", ""]
    days = ["2026-06-01", " 2026-06-01", "N/A", ""]
    bad = {"count": ["12O4", "1,2,3"], "day": ["2026-13-01"]}
    rows = [[f"r{i}", draw.choice(places), draw.choice(counts), draw.choice(shares), draw.choice(days)]
            for i in range(300)]
    if seed % 2:  # every other draw has a bad cell somewhere
        column = draw.choice(list(bad))
        rows[draw.randrange(len(rows))][2 if column == "count" else 4] = draw.choice(bad[column])
    csv = tmp_path / "quirks.csv"
    with csv.open("w", encoding="utf-8", newline="") as handle:
        import csv as csv_module

        writer = csv_module.writer(handle)
        writer.writerow(["id", "place", "count", "share", "day"])
        writer.writerows(rows)
    parquet = tmp_path / "quirks.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * FROM read_csv('{csv}', all_varchar = true, header = true)) TO '{parquet}'")

    def read(path):
        with workspace.work_database() as con:
            try:
                loaded = load_release(con, workspace.dataset("quirks"), path)
            except InputError as exc:
                return ("refused", exc.row, exc.column, exc.value)
            fixes = sorted((n.kind, n.column, n.count, n.example) for n in loaded.normalisations)
            return con.execute("SELECT * FROM release").fetchall(), fixes

    as_csv, as_parquet = read(csv), read(parquet)
    if as_csv and as_csv[0] == "refused":  # a CSV's row counts its header line; a Parquet file's does not
        as_csv = (*as_csv[:1], as_csv[1] - 1, *as_csv[2:])
    assert as_parquet == as_csv


@pytest.mark.parametrize("lazy", [False, True], ids=["table", "view over the files"])
def test_a_column_with_no_cell_to_fix_reads_as_the_same_values_beside_one_with_fixes(workspace, tmp_path, lazy):
    """A text column all of whose cells are plain is read as it is (no clean-up's tests on every later read); one
    with a single cell to fix is cleaned. Either way the rows are those of the same cells in a CSV, as a table
    `ingest` keeps and as the view over the files `check` reads."""
    import csv as csv_module

    from audit.ingest import load_release
    from tests.conftest import add_dataset

    add_dataset(workspace, "mixed", {"name": "mixed", "resources": [{
        "name": "mixed", "path": "data/mixed.csv", "schema": {"missingValues": ["", "N/A"], "primaryKey": ["id"], "fields": [
            {"name": "id", "type": "string"}, {"name": "clean_count", "type": "integer"},
            {"name": "clean_day", "type": "date"}, {"name": "place", "type": "string"},
            {"name": "count", "type": "integer"}, {"name": "empty", "type": "string"}]}}]}, [])
    rows = [[f"r{i}", str(i * 7), f"2026-06-{1 + i % 28:02d}", "Eastern", str(i), ""] for i in range(200)]
    rows[150][3], rows[20][4] = " Café\u200b ", "1,204"  # one cell each to fix, late and early in the file
    csv = tmp_path / "mixed.csv"
    with csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv_module.writer(handle)
        writer.writerow(["id", "clean_count", "clean_day", "place", "count", "empty"])
        writer.writerows(rows)
    parquet = tmp_path / "mixed.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * FROM read_csv('{csv}', all_varchar = true, header = true)) TO '{parquet}'")

    def read(path, lazy):
        with workspace.work_database() as con:
            loaded = load_release(con, workspace.dataset("mixed"), path, lazy=lazy)
            fixes = sorted((n.kind, n.column, n.count) for n in loaded.normalisations)
            return con.execute("SELECT * FROM release").fetchall(), fixes

    as_csv, as_parquet = read(csv, False), read(parquet, lazy)
    assert as_parquet == as_csv
    assert as_parquet[0][150][3] == "Café" and as_parquet[0][20][4] == 1204 and as_parquet[0][0][5] is None
    assert {column for _, column, _ in as_parquet[1]} == {"place", "count"}
