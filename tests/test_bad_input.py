"""The malformed-input corpus (tests/data/bad-input/files, made by make_corpus.py): every file meets a
clear result. Unreadable input exits 2 with file, row and column named and records nothing; a quirk the
office could fix by hand is normalised, recorded with the release and reported; bad data exits 1 with
its finding. No traceback, ever."""

from __future__ import annotations

import json

import duckdb
import pytest

from tests.conftest import DATASET, FILES, add_corpus_dataset

pytestmark = pytest.mark.slow  # every file of the bad-input corpus, each through the CLI


# file: (exit code, words the message must contain, normalisations recorded, findings reported)
UNREADABLE = {
    "empty.csv": ["the file is empty"],
    "header-only.csv": ["header but no data rows"],
    "nul-byte.csv": ["row 3", "NUL byte", "binary or corrupted"],
    "utf16-without-a-bom.csv": ["NUL byte", "looks like UTF-16 text written without a byte-order mark"],
    "unterminated-quote.csv": ["row 3", "never closed"],
    "long-line.csv": ["row 3", "bytes long"],
    "ragged-row.csv": ["row 3", "7 cells", "have 6"],
    "short-row.csv": ["row 3", "has 2 cell(s), but the header has 6", "last 4 value(s) would be read as missing"],
    "separators-not-in-threes.csv": ["row 2", "column 'Robbery'", "'1,2,0,4' is not a valid integer",
                                     "do not group the digits by three"],
    "letter-o-for-zero.csv": ["row 2", "column 'Robbery'", "'12O4' is not a valid integer"],
    "decimal-in-a-count.csv": ["row 4", "column 'Robbery'", "'980.5' is not a valid integer"],
    "wrong-total-row.csv": ["row 6", "looks like a total row", "5,802", "5,801"],
    "gzip-compressed.csv": ["not CSV text but a gzip-compressed file"],
    "spreadsheet-named-csv.csv": ["not CSV text but a zip archive or an .xlsx workbook"],
    "html-error-page.csv": ["no column for field"],
    "only-a-title.csv": ["no data rows"],
    "not-really-excel.xlsx": ["cannot read as an Excel workbook"],
}
NORMALISED = {
    "clean.csv": [],
    "utf8-bom.csv": ["byte-order-mark"],
    "utf16-bom.csv": ["byte-order-mark"],
    "utf32-bom.csv": ["byte-order-mark"],
    "latin-1.csv": ["encoding"],
    "windows-1252.csv": ["encoding"],
    "utf8-cut-off-at-the-end.csv": ["encoding", "note-rows"],  # found by the fuzz test
    "mixed-line-endings.csv": ["line-endings"],
    "cr-line-endings.csv": ["line-endings"],
    "crlf-line-endings.csv": [],
    "thousands-separators.csv": ["thousands-separators"],
    "zero-width-space-in-a-key.csv": ["invisible-characters"],
    "padded-quoted-numbers.csv": ["padding", "thousands-separators"],
    "footnote-marks.csv": ["footnote-marks", "thousands-separators"],
    "missing-markers.csv": ["missing-marker"],
    "empty-cells-as-missing.csv": [],  # empty is missing by the Table Schema's own default: nothing to fix
    "whole-numbers-with-decimals.csv": ["whole-number-decimals"],
    "trailing-total-row.csv": ["total-row"],
    "title-rows-above-header.csv": ["title-rows"],
    "note-rows-below.csv": ["note-rows"],
    "blank-rows-at-the-end.csv": ["blank-rows"],
    "blank-line-in-the-middle.csv": [],
    "two-row-header.csv": ["two-row-header"],
    "semicolon-delimited.csv": [],
    "tab-delimited.tsv": [],
    "headers-in-another-case.csv": [],
    "quoted-newline-in-a-cell.csv": [],
    "several-sheets.xlsx": ["sheet"],
    "merged-cells.xlsx": ["merged-cells", "title-rows"],
    "excel-97.xls": [],
    "formula-injection.csv": [],
}
FOUND = {  # file: (finding code, words of its message)
    "renamed-column.csv": ("renamed-column", "column 'Resident popilation' is alike"),
    # A release whose columns are not the descriptor's is read, and the difference is a finding (issue 27).
    "missing-column.csv": ("schema-change", "field 'assault' has no column in this release"),
    "extra-column.csv": ("schema-change", "column 'Burglary' is not in the descriptor: it was read as integer"),
    "renamed-first-column.csv": ("renamed-column", "column 'Precinct' stands where it stood"),
    "duplicate-keys.csv": ("unique", "district=Eastern, year=2022"),
    "blank-key.csv": ("not-null", "district"),
    "negative-count.csv": ("in-range", "-402"),
    "total-that-does-not-add-up.csv": ("category-sum", "Total offences is 1,515 but Robbery + Aggravated assault sum to 1,514"),
}


@pytest.fixture
def office(workspace):
    return add_corpus_dataset(workspace)


def releases(workspace) -> int:
    if not workspace.log_path.exists():
        return 0
    with duckdb.connect(str(workspace.log_path), read_only=True) as con:
        return con.execute("SELECT count(*) FROM releases").fetchall()[0][0]


def test_the_corpus_has_a_file_per_quirk_and_each_is_tested():
    files = {p.name for p in FILES.iterdir()}
    assert files == set(UNREADABLE) | set(NORMALISED) | set(FOUND)
    assert len(files) + len(CONFIG_CASES) >= 40


@pytest.mark.parametrize("command", ["ingest", "check"])
@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_unreadable_input_exits_2_naming_where_and_records_nothing(office, run, name, command):
    result = run(command, DATASET, FILES / name, "--format", "json")

    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    error = json.loads(result.stdout)["error"]
    assert error["file"].endswith(name)
    for words in UNREADABLE[name]:
        assert words in result.output, (words, result.output)
    assert releases(office) == 0


@pytest.mark.parametrize("name", sorted(NORMALISED))
def test_fixable_quirks_are_normalised_recorded_and_reported(office, run, name):
    result = run("ingest", DATASET, FILES / name, "--format", "json")

    report = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    assert sorted({n["kind"] for n in report["normalisations"]}) == sorted(set(NORMALISED[name]))
    assert report["release"]["rows"] == 4
    with duckdb.connect(str(office.log_path), read_only=True) as con:
        (recorded,) = con.execute("SELECT normalisations FROM releases").fetchall()[0]
        (robbery,) = con.execute(
            f"SELECT list(robbery ORDER BY rowid) FROM release_data.\"{DATASET}@1\"").fetchall()[0]
    assert json.loads(recorded) == report["normalisations"]  # recorded with the release, in the hash chain
    assert robbery == [1204, 1190, 980, 1012]  # and the values read are the table's


@pytest.mark.parametrize("name", sorted(FOUND))
def test_bad_data_exits_1_with_its_finding_and_the_check_records_nothing(office, run, name):
    check, words = FOUND[name]

    result = run("check", DATASET, FILES / name)

    assert result.exit_code == 1, result.output
    assert check in result.output and words in result.output and "Traceback" not in result.output
    assert releases(office) == 0


@pytest.mark.parametrize("invisible", ["\u200b", "\ufeff", "\u200e", "\u00ad", "\u2060"])
def test_an_invisible_character_in_a_key_makes_no_new_key(office, run, tmp_path, invisible):
    """Eastern with a zero-width space, a byte-order mark, a direction mark, a soft hyphen or a word joiner inside
    looks like Eastern: it is read as Eastern, so the next release revises nothing, and the fix is recorded."""
    assert run("ingest", DATASET, FILES / "clean.csv").exit_code == 0
    again = tmp_path / "again.csv"
    again.write_text((FILES / "clean.csv").read_text().replace("Eastern,2022", f"East{invisible}ern,2022"))

    result = run("check", DATASET, again, "--against", "recorded", "--format", "json")

    report = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    assert [n["kind"] for n in report["normalisations"]] == ["invisible-characters"]
    assert report["revisions"]["matching"]["by_key"] == 4 and report["revisions"]["counts"]["unexplained"] == 0


def test_a_renamed_column_names_both_names_and_how_to_map_it(office, run):
    result = run("check", DATASET, FILES / "renamed-column.csv")

    assert result.exit_code == 1
    assert "'Resident popilation'" in result.output and "'Resident population'" in result.output
    assert "aliases: [Resident popilation]" in result.output


def test_formula_like_text_is_flagged_and_published_defused(office, run, tmp_path):
    assert run("ingest", DATASET, FILES / "formula-injection.csv").exit_code == 0

    published = run("publish", DATASET)

    assert published.exit_code == 0, published.output
    data = (office.publish_root / DATASET / "1.0.0" / "data" / "offences.csv").read_text()
    assert "\"'=HYPERLINK(\"\"http://x.example/\"\",\"\"click\"\")\"" in data
    assert "\n'+SUM(1;2)," in data and "\n'@cmd," in data
    findings = json.loads((office.publish_root / DATASET / "1.0.0" / "validation.json").read_text())["findings"]
    assert [f["check"] for f in findings] == ["formula-injection"] * 3


# -- the office's own files: descriptor, suite, notes, waivers -----------------------------------------------

def _descriptor_with_path(office, path: str) -> None:
    import yaml

    file = office.root / "datapackages" / DATASET / "datapackage.yaml"
    descriptor = yaml.safe_load(file.read_text())
    descriptor["resources"][0]["path"] = path
    file.write_text(yaml.safe_dump(descriptor))


def _suite_with(office, expectation: dict) -> None:
    file = office.root / "expectations" / f"{DATASET}.json"
    suite = json.loads(file.read_text())
    suite["expectations"].append(expectation)
    file.write_text(json.dumps(suite))


ALIAS_BOMB = "\n".join([
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    *(f"{b}: &{b} [{', '.join(['*' + a] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi")),
]) + "\n"
CONFIG_CASES = {
    "descriptor path escapes the package": (lambda o: _descriptor_with_path(o, "../../etc/passwd"), [], "inside the package"),
    "descriptor absolute path": (lambda o: _descriptor_with_path(o, "/etc/passwd"), [], "inside the package"),
    "descriptor URL path": (lambda o: _descriptor_with_path(o, "https://evil.example/data.csv"), [], "no URL"),
    "unknown expectation type": (lambda o: _suite_with(o, {"type": "expect_crime_to_fall", "kwargs": {}}), [],
                                 "expect_crime_to_fall"),
    "notes name a column the dataset lacks": (None, ["--notes", "notes-unknown-column.yaml"], "burglary"),
    "waivers are an alias bomb": (None, ["--waivers", "alias-bomb.yaml"], "alias bomb"),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_a_malformed_office_file_is_refused_with_exit_2(office, run, tmp_path, case):
    prepare, options, words = CONFIG_CASES[case]
    if prepare:
        prepare(office)
    (tmp_path / "alias-bomb.yaml").write_text(ALIAS_BOMB)
    (tmp_path / "notes-unknown-column.yaml").write_text(
        "version: 1\nnotes:\n  - {id: n1, where: {district: Central}, columns: [burglary], reason: Review., "
        "approved_by: Office}\n")
    options = [str(tmp_path / o) if o.endswith(".yaml") else o for o in options]

    result = run("ingest", DATASET, FILES / "clean.csv", *options)

    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output
    assert releases(office) == 0


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_init_on_each_bad_file_proposes_a_starter_or_refuses_in_one_line(office, run, name):
    """`audit init` reads a file it has no schema for: what it cannot read is one line and exit 2, never a crash
    (nor exit 1, which would say the data has findings)."""
    result = run("init", "trial", FILES / name, "--force")

    assert result.exit_code in (0, 2) and "Traceback" not in result.output, result.output
    if result.exit_code == 2:
        assert len([line for line in result.output.splitlines() if line.startswith("error:")]) == 1
