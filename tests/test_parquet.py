"""A release kept as Parquet, a file or a folder of files, is read where it lies, typed from its columns, and gives
the findings the same release gives as CSV; a value that does not fit its field names the file, row and column."""

from __future__ import annotations

import json

import duckdb

from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS


def to_parquet(csv_path, target, where: str = "true") -> None:
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * FROM read_csv('{csv_path}', thousands = ',') WHERE {where}) TO '{target}' "
                    "(FORMAT parquet)")


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


def test_a_value_that_does_not_fit_its_field_names_file_row_and_column(run, tmp_path):
    with duckdb.connect() as con:
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{EXAMPLE_CSV}', thousands = ',')")
        con.execute("ALTER TABLE t ALTER \"Homicide\" TYPE DOUBLE")
        con.execute("UPDATE t SET \"Homicide\" = 342.5 WHERE \"Year\" = 2019")
        con.execute(f"COPY t TO '{tmp_path / 'bad.parquet'}' (FORMAT parquet)")

    result = run("check", EXAMPLE, tmp_path / "bad.parquet")

    assert result.exit_code == 2
    assert "bad.parquet, row 3, column 'Homicide': '342.5' is not a valid integer for field 'homicide'" in result.output
