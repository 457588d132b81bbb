"""The publication gate: every reason a package must not go out is named at once, before anything is written;
`--dry-run` says what would be written or why not; the command says whether the package is signed, by which key."""

from __future__ import annotations

import yaml

from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_REVISED, EXAMPLE_WAIVERS, add_dataset, empty_workspace


def published_folders(workspace) -> list:
    """The package folders under published/ (hidden ones included)."""
    return sorted(p for p in (workspace.root / "published").glob("*/*") if p.is_dir())


def test_init_placeholders_are_refused_with_every_gap_named(workspace, run, tmp_path):
    table = tmp_path / "md-crime.csv"
    table.write_text("county,year,murder\nAllegany,2020,1\nAllegany,2021,2\nAnne Arundel,2020,11\n")
    assert run("init", "md-crime", table).exit_code == 0
    assert run("ingest", "md-crime", table).exit_code == 0

    result = run("publish", "md-crime")

    assert result.exit_code == 2 and "Traceback" not in result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert "placeholder(s) `audit init` left" in line and "title" in line and "licenses.0.name" in line
    assert "the field entries of county, year, murder" in line
    assert published_folders(workspace) == []


def test_a_configured_signing_key_that_is_missing_refuses_publication(workspace, run):
    (workspace.root / "audit.yaml").write_text("signing_key: keys/office.pem\n")
    run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09")

    result = run("publish", EXAMPLE)

    assert result.exit_code == 2 and "the configured signing key" in result.output and "does not exist" in result.output
    assert published_folders(workspace) == []


def test_a_waived_repeated_key_is_refused_because_the_package_would_be_invalid(tmp_path):
    from click.testing import CliRunner

    from audit.cli import cli

    (tmp_path / "office").mkdir()
    workspace = empty_workspace(tmp_path / "office")
    add_dataset(workspace, "counts", {"licenses": [{"name": "PDDL-1.0"}], "resources": [{"name": "counts", "schema": {
        "primaryKey": ["place"], "fields": [{"name": "place", "type": "string", "description": "place"},
                                            {"name": "n", "type": "integer", "description": "n"}]}}]}, [])
    data = tmp_path / "counts.csv"
    data.write_text("place,n\nNorthtown,1\nNorthtown,2\nSouthport,3\n")
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(yaml.safe_dump({"waivers": [{"check": "unique", "key": {"place": "Northtown"},
                                                    "reason": "two reports", "approved_by": "office"}]}))

    def run(*args):
        return CliRunner().invoke(cli, [*map(str, args), "--workspace", str(workspace.root)], catch_exceptions=False)

    assert run("ingest", "counts", data, "--waivers", waivers).exit_code == 0
    result = run("publish", "counts")

    assert result.exit_code == 2
    assert "a primary key that holds: 1 waived finding(s) say it repeats or is missing (place=Northtown)" in result.output


def test_publishing_again_with_no_change_is_refused(workspace, run, tmp_path):
    run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09")
    assert run("publish", EXAMPLE).exit_code == 0
    same = tmp_path / "same.csv"
    same.write_text(EXAMPLE_CSV.read_text() + "\n")  # new bytes, same rows
    run("ingest", EXAMPLE, same, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-10")

    result = run("publish", EXAMPLE)

    assert result.exit_code == 2
    assert "a change since version 1.0.0: release 2023-10 has the same rows, schema and findings" in result.output
    assert [p.name for p in published_folders(workspace)] == ["1.0.0"]


def test_a_dry_run_writes_nothing_and_says_what_would_be_written(workspace, run):
    run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09")
    log_before = workspace.log_path.read_bytes()

    result = run("publish", EXAMPLE, "--dry-run")

    assert result.exit_code == 0, result.output
    assert "dry run: baltimore-violent-crime release 2023-09 would be published as version 1.0.0" in result.output
    assert "not signed" in result.output and "changelog-head.json" in result.output
    assert published_folders(workspace) == [] and workspace.log_path.read_bytes() == log_before


def test_a_refused_publish_prints_its_reasons_not_the_whole_report(workspace, run):
    run("ingest", EXAMPLE, EXAMPLE_CSV, "--version", "2023-09")  # no waivers: two category-sum findings block

    result = run("publish", EXAMPLE)
    dry = run("publish", EXAMPLE, "--dry-run")

    assert result.exit_code == 1
    assert result.output.splitlines()[0] == ("refused: release 2023-09 has 2 finding(s) that are neither fixed nor "
                                             "waived: category-sum 2")
    assert len(result.output.splitlines()) == 3 and "CLAIMS" not in result.output
    assert dry.exit_code == 1 and "would be refused" in dry.output


def test_after_publishing_the_command_says_which_key_signed_it(workspace, run, tmp_path):
    from click.testing import CliRunner

    from audit.cli import cli

    CliRunner().invoke(cli, ["keygen", str(tmp_path / "office.pem")])
    (workspace.root / "audit.yaml").write_text(f"signing_key: {tmp_path / 'office.pem'}\n")
    run("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "2023-09")

    result = run("publish", EXAMPLE)

    assert result.exit_code == 0 and ", signed by ed25519:" in result.output
    run("ingest", EXAMPLE, EXAMPLE_REVISED, "--waivers", EXAMPLE_WAIVERS, "--version", "2024-03")
