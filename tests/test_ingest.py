"""`audit ingest`: typed loading, input errors that name file/row/column, and what the log records."""

from __future__ import annotations

import duckdb
import pytest

from audit import pipeline
from audit.errors import InputError, StateError
from audit.log.chain import GENESIS, entry_hash
from audit.log.store import TABLES
from tests.conftest import (
    EXAMPLE,
    EXAMPLE_CSV,
    EXAMPLE_REVISED,
    EXAMPLE_WAIVERS,
    add_dataset,
    data_findings,
    log_rows,
    write_variant,
)


def test_thousands_separators_parse_as_integers(workspace):
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")

    with duckdb.connect(str(workspace.log_path), read_only=True) as con:
        rows = con.execute('SELECT year, violent_crime, robbery FROM release_data."baltimore-violent-crime@2023-09" '
                           'ORDER BY year').fetchall()
    assert rows[0] == (2017, 12430, 5879)
    assert rows[4] == (2021, 10344, 3232)  # written without separators in the file


def test_ingest_records_release_findings_waivers_and_validation(workspace):
    result = pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")

    assert result.report.success and not result.already_recorded
    [release] = log_rows(workspace, "releases")
    assert (release["version"], release["row_count"], release["source_name"]) == ("2023-09", 6, EXAMPLE_CSV.name)
    assert release["sha256"] == result.report.release.sha256
    findings = data_findings(log_rows(workspace, "findings"))
    assert [(f["check"], f["key"], f["waived"]) for f in findings] == [
        ("category-sum", '{"year":2021}', True),
        ("category-sum", '{"year":2022}', True),
    ]
    assert len(log_rows(workspace, "waivers")) == 2
    [validation] = log_rows(workspace, "validations")
    assert (validation["success"], validation["finding_count"], validation["waived_count"]) == (True, 3, 2)
    assert '"supported":false' in validation["claims"]  # the example's 2019 rate claim, a warning


def test_every_log_entry_is_linked_into_the_dataset_hash_chain(workspace):
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")

    # An entry's hash covers the name of its table too, so it cannot be moved to another.
    entries = sorted(({**e, "table": t} for t in TABLES for e in log_rows(workspace, t)), key=lambda e: e["seq"])
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    previous = GENESIS
    for entry in entries:
        assert entry["prev_hash"] == previous
        assert entry["hash"] == entry_hash(entry)
        previous = entry["hash"]


def test_ingesting_the_same_file_twice_records_it_once(workspace, run):
    first = run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09")
    second = run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09")

    assert (first.exit_code, second.exit_code) == (0, 0)
    assert "already recorded" in second.output
    assert len(log_rows(workspace, "releases")) == 1 and len(data_findings(log_rows(workspace, "findings"))) == 2


def test_a_version_label_cannot_be_reused_for_other_content(workspace, tmp_path):
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    other = write_variant(tmp_path, '"5,066"', '"5,166"')

    with pytest.raises(StateError, match="already has a release '2023-09'"):
        pipeline.ingest(workspace, EXAMPLE, other, None, "2023-09")


def test_unwaived_findings_are_recorded_and_exit_1(workspace, run):
    result = run("ingest", EXAMPLE, EXAMPLE_CSV)

    assert result.exit_code == 1
    assert "FAILED" in result.output
    [release] = log_rows(workspace, "releases")
    assert release["version"] == "1"
    assert [f["waived"] for f in data_findings(log_rows(workspace, "findings"))] == [False, False]


def test_a_cell_that_does_not_parse_names_file_row_column_and_value(workspace, tmp_path, run):
    bad = write_variant(tmp_path, '"12,430"', '"12,43O"')  # letter O: the 2017 violent-crime cell

    result = run("ingest", EXAMPLE, bad)

    assert result.exit_code == 2
    assert str(bad) in result.output and "row 2" in result.output
    assert "'Violent Crime'" in result.output and "'12,43O'" in result.output
    assert "Traceback" not in result.output
    assert log_rows(workspace, "releases") == []


def test_input_error_carries_its_location_for_the_library(workspace, tmp_path):
    bad = write_variant(tmp_path, "2020,", "2O20,")

    with pytest.raises(InputError) as caught:
        pipeline.check(workspace, EXAMPLE, bad)

    assert (caught.value.row, caught.value.column, caught.value.value) == (5, "Year", "2O20")


def test_a_fractional_count_is_an_error_not_rounded(workspace, tmp_path):
    bad = write_variant(tmp_path, ",342,", ",342.5,")

    with pytest.raises(InputError, match="not a valid integer") as caught:
        pipeline.check(workspace, EXAMPLE, bad)
    assert caught.value.row == 2 and caught.value.column == "Homicide"


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("Year,Population,Violent Crime,Homicide,Rape,Robbery,Aggravated Assault\n", "no data rows"),
        ("Population,Violent Crime,Homicide,Rape,Robbery,Aggravated Assault\n1,1,1,1,1,1\n",
         "no column for field 'year', a part of the key"),
    ],
    ids=["empty", "header-only", "missing-key-column"],
)
def test_unreadable_files_exit_2_and_record_nothing(workspace, tmp_path, run, text, message):
    path = tmp_path / "input.csv"
    path.write_text(text)

    result = run("ingest", EXAMPLE, path)

    assert result.exit_code == 2
    assert message in result.output and str(path) in result.output
    assert log_rows(workspace, "releases") == []


def test_a_missing_file_or_dataset_is_an_input_error(run, tmp_path):
    assert run("check", EXAMPLE, tmp_path / "nope.csv").exit_code == 2
    missing_dataset = run("check", "no-such-dataset", EXAMPLE_CSV)
    assert missing_dataset.exit_code == 2 and "baltimore-violent-crime" in missing_dataset.output


def test_excel_workbooks_ingest_like_csv(workspace, tmp_path):
    import csv

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in csv.reader(EXAMPLE_CSV.open()):
        sheet.append([int(c.replace(",", "")) if i and c else c for i, c in enumerate(row)] if row[0] != "Year" else row)
    path = tmp_path / "table.xlsx"
    book.save(path)

    report = pipeline.check(workspace, EXAMPLE, path)

    assert [(f.key, f.expected, f.observed) for f in data_findings(report.findings)] == [
        ({"year": 2021}, 9399, 10344),
        ({"year": 2022}, 9246, 10624),
    ]


def test_a_failure_while_recording_leaves_no_trace_of_the_release(workspace, monkeypatch):
    from audit.log.store import ChangeLog

    real_append = ChangeLog.append

    def failing_append(self, table, dataset, rows):
        if table == "validations":  # the last write of a release
            raise OSError("disk full")
        return real_append(self, table, dataset, rows)

    monkeypatch.setattr(ChangeLog, "append", failing_append)
    with pytest.raises(OSError):
        pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    assert not workspace.log_path.exists()  # the command created the log, so it leaves none behind
    monkeypatch.undo()
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_REVISED, EXAMPLE_WAIVERS, "2024-03")  # a log with one release
    monkeypatch.setattr(ChangeLog, "append", failing_append)
    with pytest.raises(OSError):
        pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    monkeypatch.undo()

    assert [r["version"] for r in log_rows(workspace, "releases")] == ["2024-03"]
    for table in TABLES:
        if table in ("releases", "validations", "findings", "waivers"):
            assert all(r["release_id"] != f"{EXAMPLE}@2023-09" for r in log_rows(workspace, table)), table
            continue
        assert log_rows(workspace, table) == [], table
    with duckdb.connect(str(workspace.log_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'release_data'").fetchone()[0] == 1
    # and a re-run records it normally
    assert pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09").report.success
    assert len(log_rows(workspace, "releases")) == 2


def test_an_unreadable_first_file_does_not_create_the_log(workspace, tmp_path, run):
    bad = write_variant(tmp_path, '"12,430"', '"12,43O"')

    assert run("ingest", EXAMPLE, bad).exit_code == 2
    assert not workspace.log_path.exists()


def test_input_errors_are_json_for_machines(tmp_path, run):
    import json

    bad = write_variant(tmp_path, '"12,430"', '"12,43O"')

    out = run("check", EXAMPLE, bad, "--format", "json")

    assert out.exit_code == 2
    payload = json.loads(out.stdout)
    assert payload["success"] is False
    error = payload["error"]
    assert (error["file"], error["row"], error["column"], error["value"]) == (str(bad), 2, "Violent Crime", "12,43O")
    assert error["message"] == "'12,43O' is not a valid integer for field 'violent_crime'"


def test_the_work_database_keeps_to_the_configured_memory_limit(workspace):
    (workspace.root / "audit.yaml").write_text("memory_limit: 300MB\n")

    with workspace.work_database() as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "286.1 MiB"  # 300 MB in MiB


def test_a_memory_limit_that_is_no_size_exits_2_naming_the_settings_file(workspace, run):
    (workspace.root / "audit.yaml").write_text("memory_limit: plenty\n")

    result = run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS)

    assert result.exit_code == 2
    assert "audit.yaml: memory_limit" in result.output and not workspace.log_path.exists()


def test_the_recorder_comes_from_the_settings_or_audit_user_never_the_system_login(workspace, monkeypatch):
    import getpass

    monkeypatch.delenv("AUDIT_USER", raising=False)
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    (workspace.root / "audit.yaml").write_text("recorded_by: City data office\n")
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_REVISED, EXAMPLE_WAIVERS, "2024-03")
    monkeypatch.setenv("AUDIT_USER", "analyst 7")
    pipeline.publish(workspace, EXAMPLE, version="2023-09")

    releases = log_rows(workspace, "releases")
    assert [r["recorded_by"] for r in releases] == ["(not stated)", "City data office"]
    assert log_rows(workspace, "publications")[0]["recorded_by"] == "analyst 7"
    assert getpass.getuser() not in {r["recorded_by"] for r in releases}


def test_each_validation_records_the_versions_that_ran_it(workspace):
    import json

    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")

    [validation] = log_rows(workspace, "validations")
    software = json.loads(validation["software"])
    assert set(software) == {"python", "crime-data-audit", "great-expectations", "duckdb", "frictionless"}
    assert software["duckdb"].startswith("2.")


def test_a_recorded_release_is_re_audited_with_new_waivers_and_supersedes_the_earlier_record(workspace, run):
    first = run("ingest", EXAMPLE, EXAMPLE_CSV, "--version", "2023-09")  # no waivers: refused at publish
    assert first.exit_code == 1
    same = run("ingest", EXAMPLE, EXAMPLE_CSV, "--version", "2023-09")
    assert same.exit_code == 1 and "already recorded" in same.output

    again = run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS)

    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[0].startswith(
        f"re-audited: this file was recorded as {EXAMPLE}@2023-09; it is recorded again as release 2023-09-r2")
    releases = log_rows(workspace, "releases")
    assert [(r["version"], r["supersedes"]) for r in releases] == [("2023-09", None),
                                                                   ("2023-09-r2", f"{EXAMPLE}@2023-09")]
    assert run("publish", EXAMPLE).exit_code == 0


def test_labels_that_differ_only_in_case_are_one_label_and_automatic_labels_skip_taken_ones(workspace, run, tmp_path):
    assert run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "2").exit_code == 0
    other = write_variant(tmp_path, '"12,430"', '"12,431"')

    clash = run("ingest", EXAMPLE, other, "--version", "2")
    automatic = run("ingest", EXAMPLE, other)  # the next number would be 2, which is taken

    assert clash.exit_code == 2 and "already has a release '2' with different content" in clash.output
    assert automatic.exit_code in (0, 1) and "Traceback" not in automatic.output
    assert [r["version"] for r in log_rows(workspace, "releases")] == ["2", "3"]
    upper = run("ingest", EXAMPLE, write_variant(tmp_path, '"12,430"', '"12,432"', "b.csv"), "--version", "V1")
    lower = run("ingest", EXAMPLE, write_variant(tmp_path, '"12,430"', '"12,433"', "c.csv"), "--version", "v1")
    assert upper.exit_code in (0, 1) and lower.exit_code == 2 and "differ only in case" in lower.output


@pytest.mark.parametrize("header", ["__row", "__audit_present", "__audit_step_0", "__measure", "__observed"])
def test_a_header_named_like_one_of_the_tools_own_columns_is_data(run, tmp_path, header):
    """The reader, the cast's steps and the checks add columns of their own to a table: a file whose header takes
    such a name (by chance, or to break the tool) is read and checked like any other, never an internal error."""
    table = tmp_path / "t.csv"
    table.write_text(f"district,{header},robbery\nCentral,2,10\nEastern,3,12\n")

    assert run("init", "t", table).exit_code == 0
    first, check = run("ingest", "t", table, "--version", "1"), run("check", "t", table, "--against", "recorded")

    assert (first.exit_code, check.exit_code) == (0, 0), first.output + check.output


@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_a_date_field_never_drops_a_time_of_day(workspace, tmp_path, form):
    """DuckDB casts "2026-06-01 10:00" to the date 2026-06-01; read so, two incidents an hour apart would be one
    key and the time would be gone. A date field takes a date, or a timestamp at midnight (as databases export
    dates); a time of day is a bad cell, and init types such a column as a datetime."""
    from tests.conftest import add_dataset, to_parquet

    add_dataset(workspace, "days", {"name": "days", "licenses": [{"name": "PDDL-1.0"}], "resources": [{
        "name": "days", "schema": {"primaryKey": ["day"], "fields": [
            {"name": "day", "type": "date"}, {"name": "count", "type": "integer"}]}}]}, [])
    midnight, hour = tmp_path / "midnight.csv", tmp_path / "hour.csv"
    midnight.write_text("day,count\n2026-06-01 00:00:00,3\n2026-06-02,4\n")
    hour.write_text("day,count\n2026-06-01 00:00:00,3\n2026-06-02 10:00:00,4\n")
    if form == "parquet":
        for path in (midnight, hour):
            to_parquet(path, path.with_suffix(".parquet"))
        midnight, hour = midnight.with_suffix(".parquet"), hour.with_suffix(".parquet")

    assert pipeline.check(workspace, "days", midnight).success
    with pytest.raises(InputError, match="is not a valid date") as caught:
        pipeline.check(workspace, "days", hour)
    # The row as a person counts it: the file's line (under a header), or the Parquet file's record.
    assert caught.value.row == (3 if form == "csv" else 2) and caught.value.column == "day"


@pytest.mark.parametrize("cell, fmt, read", [
    ("2025-01-01 2:04 PM", None, None),              # not ISO: a bad cell, never 02:04
    ("2025-01-01 2:04 PM", "any", "2025-01-01 14:04:00"),
    ("2025-01-01 12:04 AM", "any", "2025-01-01 00:04:00"),
    ("2025-01-01 09:00 EST", "any", None),           # a zone DuckDB's cast would silently drop
    ("2025-01-01 09:00:00+02", None, None),          # an offset it would drop too
    ("2025-01-01T14:04:00Z", None, "2025-01-01 14:04:00"),
])
def test_a_datetime_is_read_as_written_or_refused(workspace, tmp_path, cell, fmt, read):
    """DuckDB casts "2025-01-01 2:04 PM" to 02:04 and ignores what follows a time: a datetime field reads an ISO
    date and time, and with `format: any` the 12-hour clock too; anything else is a bad cell (exit 2)."""
    from tests.conftest import add_dataset

    add_dataset(workspace, "times", {"name": "times", "licenses": [{"name": "PDDL-1.0"}], "resources": [{
        "name": "times", "schema": {"primaryKey": ["at"], "fields": [
            {"name": "at", "type": "datetime", **({"format": fmt} if fmt else {})}]}}]}, [])
    path = tmp_path / "times.csv"
    path.write_text(f"at\n{cell}\n")

    if read is None:
        with pytest.raises(InputError, match="is not a valid datetime"):
            pipeline.check(workspace, "times", path)
        return
    with duckdb.connect() as con:
        from audit.ingest import load_release

        load_release(con, workspace.dataset("times"), path)
        assert str(con.execute("SELECT \"at\" FROM \"release\"").fetchone()[0]) == read


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("group, decimal", [(",", "."), (".", ","), (" ", ".")])
def test_numbers_with_thousands_separators_read_as_the_same_numbers_however_each_row_is_written(workspace, seed,
                                                                                                tmp_path, group,
                                                                                                decimal):
    """A count is read by one of three routes (plain, only grouped, or the full clean-up when its row has another
    fix): every route must give the number, and every cell with separators is counted as fixed, whichever route
    read it, with the smallest such cell as the example; with the field's own separators (1.234,5 and 1 234 too)."""
    import random

    from audit.ingest import load_release

    marks = {"groupChar": group, "decimalChar": decimal}
    add_dataset(workspace, "counts", {
        "name": "counts", "resources": [{"name": "counts", "path": "data/counts.csv", "schema": {
            "fields": [{"name": "id", "type": "string"}, {"name": "total", "type": "integer", **marks},
                       {"name": "rate", "type": "number", **marks}], "primaryKey": ["id"]}}]}, [])
    draw = random.Random(seed)

    def written(text: str) -> str:  # Python's "1,234.5" in the field's own marks
        return text.replace(",", "\0").replace(".", decimal).replace("\0", group)

    forms = {
        "plain": lambda n: f"{n}",
        "grouped": lambda n: written(f"{n:,}"),
        "padded": lambda n: f" {written(f'{n:,}')} ",   # grouped, and padded: the full clean-up reads it
        "footnoted": lambda n: written(f"{n:,}") + "*",
        "missing": lambda n: "",
    }
    lines, expected, grouped = ["id;total;rate"], {}, {"total": [], "rate": []}
    for i in range(400):
        n, form = draw.randrange(0, 10**draw.randrange(1, 12)), draw.choice(list(forms))
        cell, rate = forms[form](n), written(draw.choice([f"{n / 7:.2f}", f"{n / 7:,.2f}"]))
        lines.append(f'r{i};"{cell}";"{rate}"')
        expected[f"r{i}"] = (None if form == "missing" else n, float(f"{n / 7:.2f}"))
        grouped["total"] += [cell] if group in cell.strip() else []
        grouped["rate"] += [rate] if group in rate else []
    path = tmp_path / "counts.csv"
    path.write_text("\n".join(lines) + "\n")

    with workspace.work_database() as con:
        loaded = load_release(con, workspace.dataset("counts"), path)
        rows = {r[0]: (r[1], r[2]) for r in con.execute("SELECT id, total, rate FROM release").fetchall()}
    fixed = {n.column: (n.count, n.example) for n in loaded.normalisations if n.kind == "thousands-separators"}

    assert rows == expected
    assert fixed == {column: (len(cells), min(cells)) for column, cells in grouped.items() if cells}


@pytest.mark.parametrize("uri, secret", [
    ("s3a://AKIAEXAMPLE:wJalrXUtnFEMI@crime-lake/2024-06", "password"),
    ("abfss://lake:hunter2@office.dfs.core.windows.net/crime/2024-06", "password"),
    ("s3a://crime-lake/2024-06?X-Amz-Signature=9f86d081884c", "query"),
])
@pytest.mark.parametrize("command", ["ingest", "check"])
def test_a_release_uri_with_a_credential_in_it_is_refused_without_echoing_it(run, workspace, uri, secret, command):
    """The log records where a release read in place is kept, and a later package's log extract publishes that
    entry; errors and reports repeat it too: a URI carrying a password or a query (a token, a signature) is refused
    before anything is read, and the one-line error does not repeat the secret (it goes to CI logs too)."""
    from tests.conftest import EXAMPLE

    result = run(command, EXAMPLE, uri, "--engine", "spark")

    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert f"must carry no {secret}" in result.output
    assert not any(s in result.output for s in ("AKIAEXAMPLE", "wJalrXUtnFEMI", "hunter2", "9f86d081884c"))
    assert not workspace.log_path.exists()
