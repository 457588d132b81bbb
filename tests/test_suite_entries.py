"""A suite that cannot run every entry is refused before anything is recorded: exit 2, one line naming the file and
the entry. Great Expectations itself drops an entry it cannot build (logging a traceback) and runs the rest, and
records an expectation that raised as merely unsuccessful, so without this a check never run would pass, or a
crash would read as a finding about the data."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EXAMPLE, EXAMPLE_CSV, assert_refused

pytestmark = pytest.mark.slow  # every entry of the corpus through the CLI

SUITE = f"expectations/{EXAMPLE}.json"
SUM = {"type": "expect_column_values_to_equal_sum_of_columns",
       "kwargs": {"column": "violent_crime", "parts": ["homicide", "rape", "robbery", "aggravated_assault"]}}

# case: (the entry added to the example's suite, or the suite file's whole text; words of the one line)
ENTRIES = {
    # The shape of an entry: what GX would drop.
    "arguments given as a list": ({"type": "expect_column_values_to_not_be_null", "kwargs": ["year"]},
                                  "'expectations.9.kwargs': ['year'] is not of type 'object'"),
    "a severity GX does not have": (
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "year"}, "severity": "fatal"},
        "'expectations.9.severity': 'fatal' is not one of"),
    "an entry that is a string": ("expect_column_values_to_not_be_null", "'expectations.9': "),
    "no arguments at all": ({"type": "expect_column_values_to_not_be_null"}, "'kwargs' is required"),
    "an entry key GX does not know": ({**SUM, "severty": "warning"}, "'severty'"),
    # Arguments GX refuses when it builds the expectation.
    "an argument the expectation does not take": (
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "year", "colour": "red"}},
        "expectation 10 (expect_column_values_to_not_be_null): argument 'colour'"),
    "a share above one": ({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "year", "mostly": 2}},
                          "argument 'mostly'"),
    "a bound that is no number": ({"type": "expect_column_mean_to_be_between",
                                   "kwargs": {"column": "homicide", "min_value": "lots"}}, "argument 'min_value'"),
    # Arguments only the engine refuses, when the expectation runs.
    "a bound of the wrong type for its column": (
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "year", "min_value": "lots"}},
        "expectation 10 (expect_column_values_to_be_in_range) could not run on this release: Conversion Error"),
    "a regex that does not compile": ({"type": "expect_column_values_to_match_regex",
                                       "kwargs": {"column": "year", "regex": "([0-9"}}, "could not run"),
    "a regex too large to compile": ({"type": "expect_column_values_to_match_regex",
                                      "kwargs": {"column": "year", "regex": "(a|b){1000}" * 3000}},
                                     "pattern too large"),
    "a clause that is not a clause": ({**SUM, "kwargs": {**SUM["kwargs"], "where": [{"column": "year"}]}},
                                      "expectation 10 (expect_column_values_to_equal_sum_of_columns): `where` clause"),
    # The file itself: JSON with one meaning, in UTF-8.
    "infinity, which JSON does not have": (
        json.dumps({"expectations": [{**SUM, "kwargs": {**SUM["kwargs"], "where": [{"column": "year", "from": 1}]}}]})
        .replace('"from": 1', '"from": Infinity'), "Infinity is not a JSON value"),
    "a key given twice": ('{"expectations": [], "expectations": []}', "given twice"),
    "text that is not UTF-8": ('{"name": "Bel\xe9n", "expectations": []}', "not UTF-8 text"),
}


@pytest.mark.parametrize("case", ENTRIES)
def test_a_suite_entry_that_cannot_run_is_refused_naming_the_file_and_entry(workspace, case):
    entry, says = ENTRIES[case]
    suite = workspace.root / SUITE
    if isinstance(entry, str) and entry.startswith("{"):
        suite.write_bytes(entry.encode("latin-1"))
    else:
        document = json.loads(suite.read_text())
        document["expectations"].append(entry)
        suite.write_text(json.dumps(document))

    said = assert_refused(["ingest", EXAMPLE, EXAMPLE_CSV, "--workspace", workspace.root], says, workspace.root.parent)
    assert SUITE in said
    assert not workspace.log_path.exists()


def test_gx_drops_what_it_cannot_build_so_every_entry_is_built_first():
    """Why the entries are checked: GX's suite keeps, without an error, fewer expectations than it was given."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(name="s", expectations=[
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "year"}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "year"}, "severity": "fatal"}])

    assert len(suite.expectations) == 1


def test_a_claim_of_severity_error_runs_as_gxs_critical(workspace, run):
    """The claims file says `error` as findings do; GX calls it `critical`, and dropped the claim unrun."""
    (workspace.root / "datapackages" / EXAMPLE / "claims.yaml").write_text(
        "claims:\n  - {id: c, statement: 'Homicides were 1 in 2017.', stated: 1, severity: error,\n"
        "     value: {column: homicide, where: {year: 2017}}}\n")

    result = run("check", EXAMPLE, EXAMPLE_CSV, "--format", "json")

    claim = json.loads(result.stdout)["claims"][0]
    assert result.exit_code == 1 and claim["id"] == "c" and not claim["supported"]


@pytest.mark.parametrize("value", [".nan", ".inf", "[2020, .nan]", "{from: -.inf}"])
def test_a_note_or_waiver_value_that_is_no_number_is_refused_with_its_line(workspace, tmp_path, value):
    notes = tmp_path / "notes.yaml"
    notes.write_text("version: 1\nnotes:\n  - id: n1\n    where: {year: " + value + "}\n"
                     "    reason: Review.\n    approved_by: Office\n")

    assert_refused(["ingest", EXAMPLE, EXAMPLE_CSV, "--notes", notes, "--workspace", workspace.root],
                   "line 4, entry 'notes.0.where.year", workspace.root.parent)
