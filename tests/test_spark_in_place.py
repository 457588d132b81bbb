"""A release read where it lies: `audit check URI --engine spark` (audit.ingest.in_place), on a real Spark in local
mode. The cluster lists, types, digests and checks the files, and the findings, revisions, fixes and digest are
DuckDB's for the same files; what it cannot do as DuckDB does is refused, or a finding, never a different reading.
(tests/test_spark_cluster.py runs it on a standalone cluster whose files the command's own account cannot open.)
"""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest


def _as_parquet_parts(con: duckdb.DuckDBPyConnection, csv_path, folder, split: str) -> None:
    """A release as a data lake keeps it: a folder of Parquet files (rows where `split` holds, then the rest)."""
    folder.mkdir()
    for name, where in (("part-0.parquet", split), ("part-1.parquet", f"NOT ({split})")):
        con.execute(f"COPY (SELECT * FROM read_csv('{csv_path}', thousands = ',') WHERE {where}) "
                    f"TO '{folder / name}' (FORMAT parquet)")


def test_a_release_read_where_it_lies_gives_duckdbs_findings_revisions_and_digest(spark, spark_reads, run,
                                                                                  workspace, tmp_path):
    """The example's 2024-03 revision, kept as a folder of two Parquet files (and hidden copies a lake's writers
    leave, which neither engine reads) and named by its URI, against the published 2023-09: what Spark reads in
    place is what DuckDB reads from the same folder, digest included."""
    from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS

    folder = EXAMPLE_CSV.parent.parent
    run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09")
    run("publish", EXAMPLE)
    lake = tmp_path / "lake" / "2024-03"
    lake.parent.mkdir()
    with duckdb.connect() as con:
        _as_parquet_parts(con, folder / "releases" / "2024-03-revised-example.csv", lake, '"Year" >= 2020')
    # What a lake's writers leave beside the data, which neither engine reads as part of the release.
    (lake / "_delta_log").mkdir()
    for hidden in (".part-0.parquet", "_delta_log/00000000.checkpoint.parquet"):
        shutil.copy(lake / "part-0.parquet", lake / hidden)
    options = ["--waivers", EXAMPLE_WAIVERS, "--notes", folder / "revision-notes-2024-03.yaml", "--format", "json"]
    spark_reads.clear()

    in_place = run("check", EXAMPLE, lake.as_uri(), *options, "--engine", "spark")
    on_duckdb = run("check", EXAMPLE, lake, *options)

    assert in_place.exit_code == on_duckdb.exit_code == 1  # one unexplained revision
    spark_report, duckdb_report = json.loads(in_place.output), json.loads(on_duckdb.output)
    assert spark_report["findings"] == duckdb_report["findings"]
    assert spark_report["revisions"] == duckdb_report["revisions"]
    assert {k: spark_report["release"][k] for k in ("sha256", "rows", "source")} == \
        {k: duckdb_report["release"][k] for k in ("sha256", "rows", "source")}
    assert spark_report["release"]["rows"] == 6  # the hidden copies read by neither
    # Only the checks over the diff's own tables (the changes, brought back) ran on DuckDB.
    assert spark_report["release"]["engines"] == {"spark": 11, "diff": "spark", "duckdb": [
        "expect_revisions_to_be_explained", "expect_notes_to_explain_what_they_expect"]}
    # Spark read the release from its own files, and nothing of it was staged through the driver.
    read = [f for _, files in spark_reads for f in files]
    assert {f.rsplit("/", 1)[1] for f in read if "/lake/" in f} == {"part-0.parquet", "part-1.parquet"}
    assert not [f for f in read if "audit-staged-" in f and "/lake/" not in f] or \
        all(table != "release" for table, files in spark_reads if any("audit-staged-" in f for f in files))


# An incident table whose text columns need every fix a release read in place makes (padding, a marker, an accent
# written as two code points, a zero-width space, a thousands separator), and a typed column of each kind.
QUIRKS = {
    "name": "incidents", "title": "Incidents", "licenses": [{"name": "PDDL-1.0"}],
    "resources": [{"name": "incidents", "schema": {"primaryKey": ["id"], "missingValues": ["", "N/A"], "fields": [
        {"name": "id", "type": "string"}, {"name": "occurred", "type": "datetime"},
        {"name": "district", "type": "string"}, {"name": "victims", "type": "integer"},
        {"name": "loss", "type": "number"}, {"name": "day", "type": "date"}, {"name": "arrest", "type": "boolean"},
    ]}}],
}
QUIRK_ROWS = """
SELECT * FROM (VALUES
  ('I1', TIMESTAMP '2024-01-05 10:00', 'Central', '3', 12.5, DATE '2024-01-05', true),
  (' I2', TIMESTAMP '2024-01-06 11:30', 'Cafe\u0301', '1,204', 7.0, DATE '2024-01-06', false),
  ('I3', NULL, 'East\u200bern', 'N/A', NULL, NULL, NULL),
  ('I4', TIMESTAMP '2024-02-01 00:00', 'Central ', ' 12 ', 1.25, DATE '2024-02-01', true),
  ('I4', TIMESTAMP '2024-02-02 00:00', 'Café', '2', 0.5, DATE '2024-02-02', false)
) t(id, occurred, district, victims, loss, day, arrest)
"""


def test_text_read_in_place_gets_duckdbs_fixes_and_counts(spark, run, workspace, tmp_path, monkeypatch):
    from contextlib import contextmanager

    from audit.engine.spark import SparkEngine
    from tests.conftest import add_dataset

    # The key's checks share one pass over the release as Spark typed it once, held (persisted) while the suite runs.
    held: list[tuple[str, bool]] = []
    original = SparkEngine.rows_kept

    @contextmanager
    def recording(engine, con, table, condition):
        held.append((condition, engine.in_place_frames[table].is_cached))
        with original(engine, con, table, condition) as rows:
            yield rows

    monkeypatch.setattr(SparkEngine, "rows_kept", recording)

    add_dataset(workspace, "incidents", QUIRKS, [
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "district", "value_set": ["Central", "Eastern"]}},
    ])
    with duckdb.connect() as con:
        con.execute(f"COPY ({QUIRK_ROWS}) TO '{tmp_path / 'quirks.parquet'}' (FORMAT parquet)")

    in_place = run("check", "incidents", (tmp_path / "quirks.parquet").as_uri(), "--engine", "spark", "--format", "json")
    on_duckdb = run("check", "incidents", tmp_path / "quirks.parquet", "--format", "json")

    spark_report, duckdb_report = json.loads(in_place.output), json.loads(on_duckdb.output)
    assert in_place.exit_code == on_duckdb.exit_code == 1
    assert spark_report["findings"] == duckdb_report["findings"]
    # Café written two ways is one value (not in the set, once each); I4 repeats; every fix is counted alike.
    assert {f["check"] for f in spark_report["findings"]} == {"in-set", "unique"}
    assert spark_report["normalisations"] == duckdb_report["normalisations"]
    assert {n["kind"] for n in spark_report["normalisations"]} == {
        "padding", "missing-marker", "unicode-normalisation", "invisible-characters", "thousands-separators"}
    assert [(" IN (SELECT " in condition, cached) for condition, cached in held] == [(True, True)]
    assert spark._jsparkSession.sharedState().cacheManager().isEmpty()  # nothing of it stays in the session


@pytest.mark.parametrize("cell, kind", [("12,43O", "no number at all"), ("342a", "a footnote mark, which in place "
                                                                                 "is not read")])
def test_a_cell_read_in_place_that_cannot_be_typed_is_a_one_line_error_naming_its_file_row_and_column(
        spark, run, workspace, tmp_path, cell, kind):
    from tests.conftest import add_dataset

    add_dataset(workspace, "incidents", QUIRKS, [])
    lake = tmp_path / "lake"
    lake.mkdir()
    with duckdb.connect() as con:
        con.execute(f"COPY ({QUIRK_ROWS}) TO '{lake / 'a.parquet'}' (FORMAT parquet)")
        con.execute(f"COPY (SELECT * REPLACE ('{cell}' AS victims) FROM ({QUIRK_ROWS}) WHERE id = 'I3') "
                    f"TO '{lake / 'b.parquet'}' (FORMAT parquet)")

    result = run("check", "incidents", lake.as_uri(), "--engine", "spark")

    assert result.exit_code == 2, kind
    assert len(result.output.strip().splitlines()) == 1
    assert "b.parquet, row 1, column 'victims'" in result.output and repr(cell) in result.output
    if cell == "12,43O":  # no reading would take it: DuckDB names the same file, row and column
        assert "b.parquet, row 1, column 'victims'" in run("check", "incidents", lake).output


def test_a_folder_whose_name_has_a_dot_is_read_as_the_parquet_release_it_holds(spark, run, workspace, tmp_path):
    """A data lake's folder is often named by its date with dots (crime.2024.06): it is a release of Parquet files,
    not a file of some other kind."""
    from tests.conftest import add_dataset

    add_dataset(workspace, "incidents", QUIRKS, [])
    lake = tmp_path / "crime.2024.06"
    lake.mkdir()
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * FROM ({QUIRK_ROWS}) WHERE id <> 'I4') TO '{lake / 'part-0.parquet'}' "
                    "(FORMAT parquet)")

    in_place = run("check", "incidents", lake.as_uri(), "--engine", "spark", "--format", "json")
    on_duckdb = run("check", "incidents", lake, "--format", "json")

    assert in_place.exit_code == on_duckdb.exit_code == 0, in_place.output
    spark_release, duckdb_release = json.loads(in_place.output)["release"], json.loads(on_duckdb.output)["release"]
    assert (spark_release["rows"], spark_release["sha256"]) == (duckdb_release["rows"], duckdb_release["sha256"]) \
        == (3, spark_release["sha256"])


@pytest.mark.parametrize("also_in_the_data", [False, True], ids=["nothing else", "a finding in the data too"])
def test_a_check_that_cannot_run_in_place_is_a_finding_not_a_silent_pass(spark, run, workspace, tmp_path,
                                                                          also_in_the_data):
    """A check that needs DuckDB's rows of the release (here the current date's) cannot run where the release lies:
    each such check is a blocking finding, so no verdict passes what nothing checked. It is no finding in the data:
    alone, the tool could not do its whole job (exit 2, one line on stderr); beside a finding in the data, exit 1."""
    from tests.conftest import add_dataset

    add_dataset(workspace, "incidents", QUIRKS, [
        {"type": "expect_dates_to_be_within_coverage", "kwargs": {"column": "occurred", "start": "2020-01-01"}},
        {"type": "expect_column_values_to_be_between",
         "kwargs": {"column": "loss", "min_value": 0, "max_value": 10 if also_in_the_data else 100}},
    ])
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * FROM ({QUIRK_ROWS}) WHERE id <> 'I4') TO '{tmp_path / 'q.parquet'}' "
                    "(FORMAT parquet)")

    in_place = run("check", "incidents", (tmp_path / "q.parquet").as_uri(), "--engine", "spark", "--format", "json")
    on_duckdb = run("check", "incidents", tmp_path / "q.parquet", "--format", "json")

    assert on_duckdb.exit_code == (1 if also_in_the_data else 0)
    findings = json.loads(in_place.stdout)["findings"]
    unrun = [f for f in findings if f["check"] == "not-run"]
    assert [f["check"] for f in findings if f not in unrun] == (["in-range"] if also_in_the_data else [])
    (finding,) = unrun
    assert finding["severity"] == "error"
    assert "expect_dates_to_be_within_coverage" in finding["message"] and "current date" in finding["message"]
    if also_in_the_data:
        assert in_place.exit_code == 1 and not in_place.stderr
    else:
        assert in_place.exit_code == 2
        assert in_place.stderr.startswith("error: 1 check(s) of the suite could not run") and \
            len(in_place.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command, uri, engine, said", [
    ("check", "file:///no/such/release", "spark", "the cluster cannot read it as one Parquet release"),
    ("check", "file:///somewhere/week-12.csv", "spark", "a release is Parquet"),
    ("check", "s3a://bucket/week-12", "duckdb", "give --engine spark"),
    ("ingest", "s3a://bucket/week-12", "duckdb", "give --engine spark"),
    ("ingest", "file:///no/such/release", "spark", "the cluster cannot read it as one Parquet release"),
])
def test_a_uri_that_cannot_be_read_in_place_is_a_one_line_error(spark, run, workspace, command, uri, engine, said):
    from tests.conftest import EXAMPLE

    result = run(command, EXAMPLE, uri, "--engine", engine)

    assert result.exit_code == 2 and said in result.output and len(result.output.strip().splitlines()) == 1
    assert not workspace.log_path.exists()  # nothing recorded, not even an empty log


def test_a_release_ingested_where_it_lies_is_kept_there_by_its_uri_and_digest(spark, run, workspace, tmp_path):
    """`audit ingest URI --engine spark`: the log records the release, its findings and its changes, and keeps the
    URI and its files' digest in place of a copy of its rows. The next release is compared with it where it lies,
    as DuckDB compares with a copy of the same folder, and so do `audit diff` and `audit report` on Spark; a command
    that needs its rows on this machine refuses in one line; verify on DuckDB names it as not read; and files
    changed, added or removed there since are tampering."""
    from audit.workspace import Workspace
    from tests.conftest import EXAMPLE, EXAMPLE_CORRECTED, EXAMPLE_CSV, EXAMPLE_WAIVERS, PROJECT

    folder = EXAMPLE_CSV.parent.parent
    lake = tmp_path / "lake" / "2024-03"
    lake.parent.mkdir()
    with duckdb.connect() as con:
        _as_parquet_parts(con, folder / "releases" / "2024-03-revised-example.csv", lake, '"Year" >= 2020')
    # The same history on DuckDB, with the same folder ingested from this machine, to compare with.
    for part in ("datapackages", "expectations"):
        shutil.copytree(PROJECT / part, tmp_path / "copy" / part)
    copy = Workspace.at(tmp_path / "copy")
    both = [(run, lake.as_uri(), ["--engine", "spark"]), (_run_in(copy), lake, [])]
    for audit, release, engine in both:
        assert audit("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09").exit_code == 0
        assert audit("publish", EXAMPLE).exit_code == 0
        ingested = audit("ingest", EXAMPLE, release, "--waivers", EXAMPLE_WAIVERS, "--notes",
                         folder / "revision-notes-2024-03.yaml", "--format", "json", *engine)
        assert ingested.exit_code == 1  # recorded, with its one unexplained revision
    kept, copied = _releases(workspace)[-1], _releases(copy)[-1]
    assert kept["data_table"] == lake.as_uri() and not copied["data_table"].startswith("file:")
    assert kept["data_digest"] == kept["sha256"] == copied["sha256"]
    assert (kept["row_count"], kept["changes"], kept["findings"]) == (copied["row_count"], copied["changes"],
                                                                      copied["findings"]) == (6, 4, 4)
    assert not (workspace.log_path.parent / (workspace.log_path.name + ".data")).exists()

    # The next release, compared with the one kept where it lies: DuckDB's changes and findings.
    next_check = ["check", EXAMPLE, EXAMPLE_CORRECTED, "--waivers", EXAMPLE_WAIVERS, "--against", "recorded",
                  "--format", "json"]
    in_place, on_copy = run(*next_check, "--engine", "spark"), _run_in(copy)(*next_check)
    assert in_place.exit_code == on_copy.exit_code == 1
    assert json.loads(in_place.stdout)["revisions"] == json.loads(on_copy.stdout)["revisions"]
    assert json.loads(in_place.stdout)["findings"] == json.loads(on_copy.stdout)["findings"]

    # What needs the rows on this machine says so, in one line, and does nothing.
    for args in (next_check[:-2], ["diff", EXAMPLE], ["report", EXAMPLE]):
        refused = run(*args)  # on DuckDB
        assert refused.exit_code == 2 and "kept where they lie, at " + lake.as_uri() in refused.output
        assert len(refused.output.strip().splitlines()) == 1, refused.output
    # `audit diff` on Spark reads it there: the changes DuckDB finds between the two copies.
    on_spark, on_copy = run("diff", EXAMPLE, "--engine", "spark", "--format", "json"), \
        _run_in(copy)("diff", EXAMPLE, "--format", "json")
    assert on_spark.exit_code == on_copy.exit_code
    assert json.loads(on_spark.stdout) == json.loads(on_copy.stdout)
    # `audit report` on Spark reads it there and sums its charts on the cluster: the page DuckDB writes of the copy.
    pages = tmp_path / "on-spark.html", tmp_path / "on-copy.html"
    assert run("report", EXAMPLE, "--engine", "spark", "--out", pages[0]).exit_code == 0
    assert _run_in(copy)("report", EXAMPLE, "--out", pages[1]).exit_code == 0
    assert "<svg" in pages[0].read_text(encoding="utf-8")
    assert pages[0].read_text(encoding="utf-8") == pages[1].read_text(encoding="utf-8")
    dry_run = run("publish", EXAMPLE, "--dry-run")
    assert "cannot be published without its rows on this machine: release 2's rows are kept where they lie" in \
        dry_run.output
    verified = run("verify")
    assert verified.exit_code == 0
    assert f"not shown: release {EXAMPLE}@2: its rows are kept where they lie, at {lake.as_uri()}" in verified.output
    assert verified.output.strip().endswith("verified, with what could not be shown listed above")

    # The files kept there changed, added to or taken from since: the next release is not compared with them. With
    # none left to read, the cluster cannot tell removed files from files it cannot reach: exit 2, saying both.
    parts = sorted(lake.iterdir())
    original = {p.name: p.read_bytes() for p in parts}
    with duckdb.connect() as con:
        changed = f"SELECT * REPLACE (\"Violent Crime\" + 1 AS \"Violent Crime\") FROM '{parts[1]}'"
        con.execute(f"COPY ({changed}) TO '{tmp_path / 'changed.parquet'}' (FORMAT parquet)")
    differ, unreadable = (1, "differ from those recorded"), (2, "either they were removed or altered since, or the "
                                                                "cluster cannot reach them")
    check = [*next_check[:-2], "--engine", "spark"]
    report = ["report", EXAMPLE, "--engine", "spark", "--out", tmp_path / "refused.html"]
    for tamper, (code, said), commands in (
            (lambda: shutil.copy(tmp_path / "changed.parquet", parts[1]), differ, [check, report]),
            (lambda: shutil.copy(parts[0], lake / "part-2.parquet"), differ, [check]),
            (lambda: parts[0].unlink(), differ, [check]),
            (lambda: [p.unlink() for p in parts], unreadable, [check, report])):
        tamper()
        for command in commands:
            refused = run(*command)
            assert refused.exit_code == code, refused.output
            assert f"release {EXAMPLE}@2 (seq " in refused.output and said in refused.output
            assert len(refused.output.strip().splitlines()) == 1, refused.output
        assert not (tmp_path / "refused.html").exists()
        for part in lake.iterdir():
            part.unlink()
        for name, data in original.items():
            (lake / name).write_bytes(data)


def test_verify_on_spark_reads_what_the_log_keeps_where_it_lies(spark, run, workspace, tmp_path):
    """`audit verify --engine spark` reads each release the log keeps where it lies, holds its files to their
    recorded digest and recomputes the diffs with it there (its own against the published release kept in the log,
    and the next release's against it): a plain "verified". Files changed there since are tampering (exit 1); with
    none left to read, it cannot tell removed files from a cluster that cannot reach them, and says so."""
    from tests.conftest import EXAMPLE, EXAMPLE_CORRECTED, EXAMPLE_CSV, EXAMPLE_WAIVERS

    folder = EXAMPLE_CSV.parent.parent
    lake = tmp_path / "lake" / "2024-03"
    lake.parent.mkdir()
    with duckdb.connect() as con:
        _as_parquet_parts(con, folder / "releases" / "2024-03-revised-example.csv", lake, '"Year" >= 2020')
    assert run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09").exit_code == 0
    assert run("publish", EXAMPLE).exit_code == 0
    for release in (lake.as_uri(), EXAMPLE_CORRECTED):  # the second compared with the first, kept where it lies
        ingested = run("ingest", EXAMPLE, release, "--waivers", EXAMPLE_WAIVERS, "--against", "recorded", "--engine",
                       "spark")
        assert ingested.exit_code == 1, ingested.output  # recorded, with unexplained revisions
    assert [r["changes"] for r in _releases(workspace)] == [0, 4, 2]

    verified = run("verify", "--engine", "spark")
    assert verified.exit_code == 0, verified.output
    assert "not shown" not in verified.output
    assert verified.output.strip().endswith("verified: every chain is intact, and every publication is in place")

    parts = sorted(lake.iterdir())
    with duckdb.connect() as con:
        changed = f"SELECT * REPLACE (\"Violent Crime\" + 1 AS \"Violent Crime\") FROM '{parts[1]}'"
        con.execute(f"COPY ({changed}) TO '{tmp_path / 'changed.parquet'}' (FORMAT parquet)")
    shutil.copy(tmp_path / "changed.parquet", parts[1])
    altered = run("verify", "--engine", "spark")
    assert altered.exit_code == 1
    assert f"release {EXAMPLE}@2 (seq 9): its rows kept at {lake.as_uri()} differ from those recorded" in altered.output
    assert altered.output.strip().endswith("NOT verified: see above")

    for part in parts:
        part.unlink()
    unread = run("verify", "--engine", "spark", "--format", "json")
    assert unread.exit_code == 0
    (log,) = json.loads(unread.output)["datasets"]
    (caveat,) = log["caveats"]
    assert caveat.startswith(f"release {EXAMPLE}@2: its rows kept at {lake.as_uri()} could not be read there now")
    assert "either they were removed or altered since, or the cluster cannot reach them" in caveat


@pytest.mark.parametrize("temporal, dates, periods, no_residents", [
    ("occurred", None, ["2024-01", "2024-02"], "2024-02"),  # a datetime over two months: by month
    ("day", ("2019-03-06", "2023-12-31"), ["2019", "2023", "2024"], "2023"),  # dates over five years: by year
])
def test_a_reports_charts_are_summed_by_period_on_spark_as_on_duckdb(spark, workspace, tmp_path, temporal, dates,
                                                                     periods, no_residents):
    """The report's charts of a release kept where it lies are sums by period run on Spark (`Engine.fetch`, DuckDB's
    SQL translated), and whether a period is a month or a year is counted from the first and last date or time
    Spark brings back: the series DuckDB sums from the same file. A total is charted per 100,000 residents too, and
    a period with none has no rate on either engine (a gap in the line; DuckDB divided to infinity, Spark stopped).
    (`audit report --engine spark` itself is in the test of a release ingested where it lies.)"""
    import math

    from audit.engine.spark import SparkEngine
    from audit.findings import Code, Outcome, ReleaseInfo, Report
    from audit.ingest import load_release
    from audit.ingest.in_place import load_in_place
    from audit.publish.charts import chart_series
    from tests.conftest import add_dataset

    rows = QUIRK_ROWS if dates is None else QUIRK_ROWS.replace("DATE '2024-01-06'", f"DATE '{dates[0]}'").replace(
        "DATE '2024-02-02'", f"DATE '{dates[1]}'")
    rows = rows.replace("1.25, DATE", "0.0, DATE").replace("0.5, DATE", "0.0, DATE")  # the I4 rows: no residents
    add_dataset(workspace, "incidents", {**QUIRKS, "temporal": {"field": temporal}}, [])
    dataset = workspace.dataset("incidents")
    folder = tmp_path / "lake"
    folder.mkdir()
    # Victims as a checked total, and a rate of them over `loss`, read as the residents: two charts.
    checks = [Outcome("a sum", Code.CATEGORY_SUM, ["victims"], 0, 0),
              Outcome("a rate", Code.RATE_MATH, ["rate", "victims", "loss"], 0, 0)]
    report, engine = Report("incidents", ReleaseInfo("1", "0" * 64, "lake", 5), expectations=checks), SparkEngine({})
    with duckdb.connect() as con:
        con.execute(f"COPY ({rows}) TO '{folder / 'part-0.parquet'}' (FORMAT parquet)")
        load_in_place(con, dataset, folder.as_uri(), engine, "in_place")
        load_release(con, dataset, folder, "here")
        on_spark = chart_series(con, "in_place", dataset, report, engine)
        on_duckdb = chart_series(con, "here", dataset, report)

    def drawn(series) -> list:
        return [(s.title, s.periods, [None if math.isnan(v) else v for v in s.values]) for s in series]

    assert drawn(on_spark) == drawn(on_duckdb)
    assert [s.periods for s in on_spark] == [periods, periods]
    rates = dict(zip(periods, drawn(on_spark)[1][2]))
    assert [p for p, rate in rates.items() if rate is None] == [no_residents]


def test_a_release_kept_where_it_lies_is_reconciled_on_spark_as_duckdb_reconciles_a_copy(spark, run, workspace,
                                                                                         tmp_path):
    """`audit reconcile` of a recorded release the log keeps where it lies reads it there, on Spark, held to its
    recorded digest; the summary it is reconciled with, recorded here, is read here: the findings are DuckDB's for
    a copy of the same files, and so are those of the same incidents given by their URI. On DuckDB it refuses in one
    line; with a file changed there since, it is tampering."""
    from audit.workspace import Workspace
    from tests.conftest import NEIGHBOURHOODS, neighbourhoods_against_offences

    for part in ("datapackages", "expectations"):
        (tmp_path / "copy" / part).mkdir(parents=True)
    copy = Workspace.at(tmp_path / "copy")
    lake = tmp_path / "lake"
    lake.mkdir()
    (tmp_path / "n.csv").write_text(NEIGHBOURHOODS, encoding="utf-8")
    with duckdb.connect() as con:  # every cell as text, as a lake keeps an export
        con.execute(f"COPY (SELECT * FROM read_csv('{tmp_path / 'n.csv'}', all_varchar = true)) "
                    f"TO '{lake / 'part-0.parquet'}' (FORMAT parquet)")
    for audit, office, release, engine in ((run, workspace, lake.as_uri(), ["--engine", "spark"]),
                                           (_run_in(copy), copy, lake, [])):
        neighbourhoods_against_offences(office)
        assert audit("ingest", "offences", office.root / "o.csv").exit_code == 0
        assert audit("ingest", "neighbourhoods", release, *engine).exit_code == 0
    assert _releases(workspace)[-1]["data_table"] == lake.as_uri()

    reconcile = ["reconcile", "neighbourhoods", "offences", "--format", "json"]
    on_spark, on_copy = run(*reconcile, "--engine", "spark"), _run_in(copy)(*reconcile)
    assert on_spark.exit_code == on_copy.exit_code == 1  # May's robberies are one too many
    findings = json.loads(on_spark.output)["findings"]
    assert findings == json.loads(on_copy.output)["findings"] and len(findings) == 1
    refused = run(*reconcile[:3])  # on DuckDB
    assert refused.exit_code == 2 and f"kept where they lie, at {lake.as_uri()}" in refused.output
    assert len(refused.output.strip().splitlines()) == 1, refused.output
    # The incidents given by their URI, as CI checks a release before it is ingested: read there, the same finding.
    given = run(*reconcile, "--incident-file", lake.as_uri(), "--summary-file", workspace.root / "o.csv",
                "--engine", "spark")
    assert given.exit_code == 1 and json.loads(given.output)["findings"] == findings
    # The summary is read on this machine, so a URI for it is refused before anything is read.
    refused = run(*reconcile, "--summary-file", lake.as_uri(), "--engine", "spark")
    assert refused.exit_code == 2 and "the summary table is read on this machine" in refused.output

    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * REPLACE ('9' AS violent) FROM '{lake / 'part-0.parquet'}') "
                    f"TO '{tmp_path / 'changed.parquet'}' (FORMAT parquet)")
    shutil.copy(tmp_path / "changed.parquet", lake / "part-0.parquet")
    tampered = run(*reconcile[:3], "--engine", "spark")
    assert tampered.exit_code == 1 and "differ from those recorded" in tampered.output
    assert len(tampered.output.strip().splitlines()) == 1, tampered.output


def _run_in(workspace):
    from click.testing import CliRunner

    from audit.cli import cli

    return lambda *args: CliRunner().invoke(cli, [*map(str, args), "--workspace", str(workspace.root)],
                                            catch_exceptions=False)


def _releases(workspace) -> list[dict]:
    """Each recorded release of the log, with how many changes and findings were recorded with it."""
    with duckdb.connect(str(workspace.log_path), read_only=True) as con:
        rows = con.execute("SELECT r.*, (SELECT count(*) FROM changes c WHERE c.release_id = r.release_id) AS changes, "
                           "(SELECT count(*) FROM findings f WHERE f.release_id = r.release_id) AS findings "
                           "FROM releases r ORDER BY seq").fetchall()
        names = [d[0] for d in con.description]
    return [dict(zip(names, row)) for row in rows]


def test_columns_added_and_removed_read_in_place_are_the_findings_duckdb_gives(spark, run, workspace, tmp_path):
    """A release with a column the descriptor does not describe (text and a figure) and without one of its fields:
    the same schema-change findings, and the checks of the missing field named as not run, as DuckDB says."""
    from tests.conftest import add_dataset

    add_dataset(workspace, "incidents", QUIRKS, [
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "loss", "min_value": 0, "max_value": 10}},
    ])
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * EXCLUDE (loss), 'x' || id AS beat, 7 AS officers FROM ({QUIRK_ROWS}) "
                    f"WHERE id <> 'I4') TO '{tmp_path / 'q.parquet'}' (FORMAT parquet)")

    in_place = run("check", "incidents", (tmp_path / "q.parquet").as_uri(), "--engine", "spark", "--format", "json")
    on_duckdb = run("check", "incidents", tmp_path / "q.parquet", "--format", "json")

    assert in_place.exit_code == on_duckdb.exit_code == 1
    spark_findings = json.loads(in_place.output)["findings"]
    assert spark_findings == json.loads(on_duckdb.output)["findings"]
    assert [f["check"] for f in spark_findings] == ["schema-change"] * 3
