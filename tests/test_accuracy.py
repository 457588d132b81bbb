"""Accuracy, measured: change k random cells of a clean real table; every changed row must be
found (recall 100 percent) and no other row (no false positives).

The table is Maryland's county crime table (tests/data), whose sums and rates all hold; the
suite is the one `audit init` proposes for it. Each draw changes at most one cell per row (two
changes in one row can cancel, and then there is nothing to find) by an amount the published
precision can show: a count by at least 1, a rate by at least 1.01 (a rate printed to whole
units may already be 0.5 off), a population by at least 5 percent.

More draws: AUDIT_ACCURACY_EXAMPLES=200 pytest tests/test_accuracy.py -s
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import pipeline
from audit.init import init_dataset
from tests.conftest import empty_workspace, examples

pytestmark = pytest.mark.slow  # seeded defects in many generated tables

MARYLAND = Path(__file__).parent / "data" / "maryland-county-crime-2021-12.csv"
EXAMPLES = int(os.environ.get("AUDIT_ACCURACY_EXAMPLES") or examples(12))
TALLY = {"draws": 0, "cells_changed": 0, "rows_changed": 0, "rows_found": 0, "false_positives": 0}


@pytest.fixture(scope="module")
def described(tmp_path_factory):
    """A workspace describing the table as `audit init` does, checking only its arithmetic."""
    workspace = empty_workspace(tmp_path_factory.mktemp("accuracy"))
    result = init_dataset(workspace, "md", MARYLAND)
    suite = json.loads(result.suite_path.read_text())
    arithmetic = ("expect_column_values_to_equal_sum_of_columns", "expect_column_values_to_equal_rate")
    suite["expectations"] = [e for e in suite["expectations"] if e["type"] in arithmetic]
    result.suite_path.write_text(json.dumps(suite))
    columns = {
        "count": sorted({c for s in result.sums for c in (s.total, *s.parts)}),
        "rate": sorted({r.column for r in result.rates}),
        "population": sorted({r.population for r in result.rates if r.per >= 1000}),
    }
    header_of = {c.name: c.header for c in result.profile.columns}
    yield workspace, columns, header_of
    shutil.rmtree(workspace.root)


def changes(columns: dict[str, list[str]], rows: int):
    cell = st.one_of(
        st.tuples(st.just("count"), st.sampled_from(columns["count"]), st.integers(1, 500), st.sampled_from([1, -1])),
        st.tuples(st.just("rate"), st.sampled_from(columns["rate"]), st.floats(1.01, 300.0), st.sampled_from([1, -1])),
        st.tuples(st.just("population"), st.sampled_from(columns["population"]), st.floats(0.05, 0.6),
                  st.sampled_from([1, -1])),
    )
    return st.dictionaries(st.integers(0, rows - 1), cell, min_size=1, max_size=8)


def apply(rows: list[dict], row: int, change, header_of) -> None:
    kind, column, amount, sign = change
    header = header_of[column]
    value = rows[row][header]
    if kind == "count":
        new = int(value) + sign * amount
        rows[row][header] = str(new if new >= 0 else int(value) + amount)  # counts stay non-negative
    elif kind == "rate":
        new = float(value) + sign * amount
        rows[row][header] = f"{new if new >= 0 else float(value) + amount:.1f}"
    else:
        rows[row][header] = str(round(int(value) * (1 + sign * amount)))


def test_every_changed_row_is_found_and_no_other(described, tmp_path_factory):
    workspace, columns, header_of = described
    with MARYLAND.open(newline="") as handle:
        original = list(csv.DictReader(handle))
    fieldnames = list(original[0])

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(changes(columns, len(original)))
    def draw(changed):
        rows = [dict(r) for r in original]
        for row, change in changed.items():
            apply(rows, row, change, header_of)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=fieldnames, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        path = tmp_path_factory.mktemp("draw") / "release.csv"
        path.write_text(buffer.getvalue())

        report = pipeline.check(workspace, "md", path)

        expected = {(original[r]["JURISDICTION"], int(original[r]["YEAR"])) for r in changed}
        found = {(f.key["jurisdiction"], f.key["year"]) for f in report.findings if f.severity == "error"}
        TALLY["draws"] += 1
        TALLY["cells_changed"] += len(changed)
        TALLY["rows_changed"] += len(expected)
        TALLY["rows_found"] += len(expected & found)
        TALLY["false_positives"] += len(found - expected)
        assert found == expected

    draw()
    print(f"\naccuracy: {TALLY}")


# -- tables never seen: seed defects, then `audit init` and `audit check`, unedited -----------------------------

CORPUS = Path(__file__).parent / "data" / "unseen" / "make_corpus.py"
SEEDED_EXAMPLES = examples(6)  # make stress draws ten times as many
# Each role is written under one of several names a real table uses, in a shuffled order: nothing may lean on one.
NAMES = {
    "place": ["State", "County", "Jurisdiction", "AGENCY", "area_name"],
    "year": ["Year", "data_year", "YR", "Reporting year"],
    "population": ["Population", "pop", "Residents", "POP_EST"],
    "murder": ["Murder", "Homicide", "murder_nonnegligent"], "rape": ["Rape", "Rape (revised)", "RAPE"],
    "robbery": ["Robbery", "ROB"], "assault": ["Aggravated assault", "AGG. ASSAULT", "agg_assault"],
    "burglary": ["Burglary", "B & E"], "larceny": ["Larceny-theft", "LARCENY THEFT"], "mvt": ["Motor vehicle theft", "M/V THEFT"],
    "violent": ["Violent crime", "VIOLENT CRIME TOTAL", "violent_total"],
    "property": ["Property crime", "PROPERTY CRIME TOTALS"], "total": ["Index total", "GRAND TOTAL", "part_one"],
    "violent_rate": ["Violent crime rate", "violent per 100k", "VIOLENT RATE PER 100,000"],
    "violent_share": ["Violent share", "VIOLENT CRIME PERCENT"],
}
COUNTS = ["murder", "rape", "robbery", "assault", "burglary", "larceny", "mvt", "violent", "property", "total"]
SEEDED_TALLY = {"tables": 0, "defects": 0, "found": 0, "false_errors": 0}
GROUP_TALLY = {"tables": 0, "defects": 0, "found": 0, "false_errors": 0}


def _generator():
    import importlib.util

    spec = importlib.util.spec_from_file_location("unseen_corpus", CORPUS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@st.composite
def seeded_tables(draw):
    """(generator seed, header of each role, column order, {row index: (role, new value)})."""
    seed = draw(st.integers(0, 10**6))
    rows = _generator().series(seed)
    header = {role: draw(st.sampled_from(names)) for role, names in NAMES.items()}
    order = draw(st.permutations(list(NAMES)))
    # At most 1 row in 14: the rules hold in well over 90 percent of rows, as in real tables with defects.
    targets = draw(st.lists(st.integers(0, len(rows) - 1), min_size=1, max_size=len(rows) // 14, unique=True))
    defects = {}
    for i in targets:
        role = draw(st.sampled_from(COUNTS + ["violent_rate", "violent_share"]))
        old = rows[i][role]
        delta = draw(st.integers(1, 40)) if role in COUNTS else draw(st.sampled_from([0.3, 1.1, 7.0]))
        new = old + delta if role in COUNTS else round(old + delta, 1)
        defects[i] = (role, new)
    return seed, header, list(order), defects


def _write(path: Path, rows, header, order, defects) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([header[r] for r in order])
    for i, row in enumerate(rows):
        values = dict(row)
        if i in defects:
            role, new = defects[i]
            values[role] = new
        writer.writerow([f"{values[r]:.1f}" if r in ("violent_rate", "violent_share") else values[r] for r in order])
    path.write_text(buffer.getvalue(), encoding="utf-8")


def test_init_and_check_unedited_find_every_seeded_defect_in_tables_never_seen(tmp_path_factory):
    """A defect changes one count, total, rate or share in a row; init runs on the defective file itself, as an
    office would on the day it arrives; check must then report exactly the changed rows as errors."""

    @settings(max_examples=SEEDED_EXAMPLES, deadline=None)
    @given(seeded_tables())
    def draw(table):
        seed, header, order, defects = table
        rows = _generator().series(seed)
        root = tmp_path_factory.mktemp("unseen")
        (root / "office").mkdir()
        workspace = empty_workspace(root / "office")
        path = root / "table.csv"
        _write(path, rows, header, order, defects)

        init_dataset(workspace, "table", path)
        report = pipeline.check(workspace, "table", path)

        expected = {frozenset((rows[i]["place"], rows[i]["year"])) for i in defects}
        _found_exactly(report, expected, SEEDED_TALLY, (header["place"], header["year"], defects))

    draw()
    print(f"\nseeded defects in unseen tables: {SEEDED_TALLY}")


GROUP_NAMES = {
    "place": ["state_abbr", "State", "AREA"], "year": ["year", "Data year", "YR"],
    "violent": ["violent_crime", "Violent", "VIOLENT TOTAL"], "murder": ["homicide", "Murder", "MURDER"],
    "legacy": ["rape_legacy", "Rape (legacy)", "RAPE OLD DEF"], "revised": ["rape_revised", "Rape (revised)", "RAPE"],
    "robbery": ["robbery", "Robbery", "ROB"], "assault": ["aggravated_assault", "Agg. assault", "AGG ASSAULT"],
}


@st.composite
def definition_changes_by_group(draw):
    """A national-estimates table (state rows, and national rows with a blank state code) whose violent total
    switches from the legacy to the revised rape figure in one year for the states and some years later for the
    nation, with defects seeded in counts every rule uses: (seed, header, order, switches, defects). The nation
    keeps at least five years of each definition: a rule is proposed from three rows that hold it exactly, so in
    fewer rows, one of them broken, which definition a group used is not in the data."""
    seed = draw(st.integers(0, 10**6))
    states = draw(st.sampled_from([["AK", "AL", "AR", "AZ"], ["CA", "CO", "CT", "DE", "FL"]]))
    switch = draw(st.integers(2006, 2011))
    switches = {"state": switch, "nation": switch + draw(st.integers(3, 4))}
    header = {role: draw(st.sampled_from(names)) for role, names in GROUP_NAMES.items()}
    order = draw(st.permutations(list(GROUP_NAMES)))
    rows = _group_rows(seed, states, switches)
    targets = draw(st.lists(st.integers(0, len(rows) - 1), min_size=1, max_size=len(rows) // 20, unique=True))
    defects = {i: (draw(st.sampled_from(["violent", "murder", "robbery", "assault"])), draw(st.integers(1, 40)))
               for i in targets}
    return seed, states, header, order, switches, defects


def _group_rows(seed: int, states: list[str], switches: dict[str, int]) -> list[dict]:
    rows = _generator().series(seed, places=states, years=list(range(2000, 2020)))
    nation: dict[int, dict] = {}
    for r in rows:
        r["revised"] = r["rape"] + 2 + r["robbery"] % 7
        n = nation.setdefault(r["year"], {"place": "", "year": r["year"], "murder": 0, "rape": 0, "revised": 0,
                                          "robbery": 0, "assault": 0})
        for k in ("murder", "rape", "revised", "robbery", "assault"):
            n[k] += r[k]
    out = []
    for r, switch in [*((r, switches["state"]) for r in rows), *((n, switches["nation"]) for n in nation.values())]:
        rape = r["revised"] if r["year"] >= switch else r["rape"]
        out.append({"place": r["place"], "year": r["year"], "violent": r["murder"] + rape + r["robbery"] + r["assault"],
                    "murder": r["murder"], "legacy": r["rape"] if r["year"] <= switches["nation"] else "",
                    "revised": r["revised"] if r["year"] >= switches["state"] else "", "robbery": r["robbery"],
                    "assault": r["assault"]})
    return out


def test_a_definition_changed_at_different_times_in_two_groups_of_rows_leaves_only_the_seeded_defects(
        tmp_path_factory):
    """Issue 27: national rows kept a definition longer than state rows. init, on the defective file, must scope
    each group's rules to it, so that check reports exactly the changed rows: no correct row of either group."""

    @settings(max_examples=SEEDED_EXAMPLES, deadline=None)
    @given(definition_changes_by_group())
    def draw(table):
        seed, states, header, order, switches, defects = table
        rows = _group_rows(seed, states, switches)
        for i, (role, delta) in defects.items():
            rows[i][role] += delta
        root = tmp_path_factory.mktemp("groups")
        (root / "office").mkdir()
        workspace = empty_workspace(root / "office")
        path = root / "table.csv"
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([header[r] for r in order])
        writer.writerows([[row[r] for r in order] for row in rows])
        path.write_text(buffer.getvalue(), encoding="utf-8")

        init_dataset(workspace, "table", path)
        report = pipeline.check(workspace, "table", path)

        expected = {frozenset((rows[i]["place"] or None, rows[i]["year"])) for i in defects}  # a blank code: None
        _found_exactly(report, expected, GROUP_TALLY, (switches, defects))

    draw()
    print(f"\nseeded defects, definitions changed by group: {GROUP_TALLY}")


def _found_exactly(report, expected: set[frozenset], tally: dict, context) -> None:
    """The report's errors are on exactly the `expected` rows (each a frozenset of its key values), counted."""
    errors = [f for f in report.findings if f.severity == "error"]
    found = {frozenset(f.key.values()) for f in errors}
    tally["tables"] += 1
    tally["defects"] += len(expected)
    tally["found"] += len(expected & found)
    tally["false_errors"] += len(found - expected)
    assert found == expected, (context, [f.message for f in errors if frozenset(f.key.values()) not in expected])


WIDE_TALLY = {"tables": 0, "defects": 0, "found": 0, "false_errors": 0}
OFFENCE_WORDS = ["murder", "rape", "robbery", "agg_assault", "burglary", "larceny", "mvt", "arson", "simple_assault",
                 "fraud", "vandalism", "weapons", "drugs", "dui", "disorderly", "trespass", "stolen_property",
                 "forgery", "embezzlement", "prostitution", "curfew", "liquor"]


@st.composite
def wide_tables(draw):
    """A county table as issue 27 met it: a numeric code and a name per row, each offence for two years, the percent
    change between them (blank from a zero base), and each year's total of every offence; 60 columns or more.
    Defects: a count, a total or a change, in at most two rows. (seed, offences, places, defects)"""
    seed = draw(st.integers(0, 10**6))
    offences = OFFENCE_WORDS[:draw(st.integers(19, len(OFFENCE_WORDS)))]  # 3 x 19 + 4 = 61 columns at least
    places = draw(st.integers(22, 30))
    rows = draw(st.lists(st.integers(0, places - 1), min_size=1, max_size=2, unique=True))
    defects = {row: (draw(st.sampled_from(["before", "after", "change", "total"])),
                     draw(st.sampled_from(offences)), draw(st.integers(1, 9))) for row in rows}
    return seed, offences, places, defects


def _wide_rows(seed: int, offences: list[str], places: int, defects: dict) -> tuple[list[str], list[list]]:
    import random

    rng = random.Random(seed)
    header = ["zip", "area_name", *(f"{y}_{o}" for y in (2024, 2025) for o in offences),
              *(f"{o}_change" for o in offences), "2024_total", "2025_total"]
    rows = []
    for i, code in enumerate(rng.sample(range(20601, 21930), places)):
        before = {o: rng.choice([0, rng.randint(1, 30), rng.randint(30, 900)]) for o in offences}
        after = {o: max(0, before[o] + rng.randint(-40, 40)) for o in offences}
        totals = [sum(before.values()), sum(after.values())]
        kind, offence, delta = defects.get(i, (None, None, 0))
        if kind == "before":
            before[offence] += delta
        elif kind == "after":
            after[offence] += delta
        elif kind == "total":
            totals[1] += delta
        changes = {o: "" if not before[o] else round((after[o] - before[o]) / before[o] * 100, 1) for o in offences}
        if kind == "change":
            changes[offence] = round((changes[offence] or 0) + delta + 0.3, 1) if changes[offence] != "" else delta
        rows.append([code, f"Area {code}", *before.values(), *after.values(), *changes.values(), *totals])
    return header, rows


def test_a_wide_table_of_paired_years_leaves_only_the_seeded_defects(tmp_path_factory):
    """Issue 27: 60+ columns (two years of each offence, their changes and totals), a numeric code per row. init, on
    the defective file, must propose each year's total and each change between the years, and check must report
    exactly the changed rows."""

    @settings(max_examples=examples(1), deadline=None)
    @given(wide_tables())
    def draw(table):
        seed, offences, places, defects = table
        header, rows = _wide_rows(seed, offences, places, defects)
        root = tmp_path_factory.mktemp("wide")
        (root / "office").mkdir()
        workspace = empty_workspace(root / "office")
        path = root / "table.csv"
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
        path.write_text(buffer.getvalue(), encoding="utf-8")

        result = init_dataset(workspace, "table", path)
        report = pipeline.check(workspace, "table", path)

        assert len(result.sums) == 2 and len(result.changes) == len(offences), [str(p) for p in result.proposals]
        # Each finding's row, by the values of whichever key init chose (the code or the name).
        row_of = {value: i for i, row in enumerate(rows) for value in row[:2]}
        by_row = {i: frozenset(rows[i][:2]) for i in range(len(rows))}
        errors = [f for f in report.findings if f.severity == "error"]
        found = {by_row[row_of[next(iter(f.key.values()))]] for f in errors if f.key}
        expected = {by_row[i] for i in defects}
        WIDE_TALLY["tables"] += 1
        WIDE_TALLY["defects"] += len(expected)
        WIDE_TALLY["found"] += len(expected & found)
        WIDE_TALLY["false_errors"] += len(found - expected) + sum(1 for f in errors if not f.key)
        assert found == expected and all(f.key for f in errors), (defects, [f.message[:300] for f in errors])

    draw()
    print(f"\nseeded defects, wide tables: {WIDE_TALLY}")
