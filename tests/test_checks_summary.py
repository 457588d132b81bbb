"""Checks on summary tables (year x place x offence): each on a table made to have exactly
its defect, and on the clean twin that has none."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import pipeline
from audit.validate.expectations.series import e_test_grid, poisson_e_test
from tests.conftest import add_dataset, examples

COUNTS = ["homicide", "rape", "robbery", "assault", "burglary", "larceny", "vehicle_theft"]
FIELDS = [
    {"name": "place", "type": "string"},
    {"name": "year", "type": "integer"},
    {"name": "months", "type": "integer"},
    {"name": "population", "type": "integer"},
    *({"name": c, "type": "integer"} for c in COUNTS),
    {"name": "violent", "type": "integer"},
    {"name": "property", "type": "integer"},
    {"name": "part_one", "type": "integer"},
    {"name": "violent_rate", "type": "number", "title": "Violent crime rate"},
]
SUITE = [
    {"type": "expect_column_values_to_equal_sum_of_columns",
     "kwargs": {"column": "violent", "parts": ["homicide", "rape", "robbery", "assault"]}},
    {"type": "expect_column_values_to_equal_sum_of_columns",
     "kwargs": {"column": "property", "parts": ["burglary", "larceny", "vehicle_theft"]}},
    {"type": "expect_column_values_to_equal_sum_of_columns",
     "kwargs": {"column": "part_one", "parts": ["violent", "property"]}},
    {"type": "expect_column_values_to_equal_rate",
     "kwargs": {"column": "violent_rate", "count": "violent", "population": "population"}},
    {"type": "expect_series_to_have_no_gaps", "kwargs": {"period": "year", "group_by": ["place"]}},
    {"type": "expect_months_reported_to_be_complete", "kwargs": {"column": "months"}},
    {"type": "expect_counts_to_change_plausibly",
     "kwargs": {"columns": ["homicide", "robbery", "burglary"], "period": "year", "group_by": ["place"],
                "exposure": "population", "scope": "all"}},
    {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["place", "year"]}},
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "place"}},
    {"type": "expect_column_values_to_be_between", "kwargs": {"column": "population", "min_value": 1}},
    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "place", "value_set": ["Northtown", "Southport"]}},
]


def clean_rows() -> list[dict]:
    """Two places over six years; every sum, rate and series holds, changes are ordinary."""
    rows = []
    for place, scale in (("Northtown", 1.0), ("Southport", 0.4)):
        for i, year in enumerate(range(2017, 2023)):
            row = {"place": place, "year": year, "months": 12, "population": int(600_000 * scale) - 2000 * i}
            base = [300, 250, 4000, 5500, 6000, 15000, 4000]
            for name, b in zip(COUNTS, base):
                row[name] = int(b * scale) + 7 * i
            fill_totals(row)
            rows.append(row)
    return rows


def fill_totals(row: dict) -> dict:
    row["violent"] = sum(row[c] for c in COUNTS[:4])
    row["property"] = sum(row[c] for c in COUNTS[4:])
    row["part_one"] = row["violent"] + row["property"]
    row["violent_rate"] = round(row["violent"] / row["population"] * 100_000, 1)
    return row


def to_csv(rows: list[dict]) -> str:
    names = [f["name"] for f in FIELDS]
    cell = lambda v: "" if v is None else f'"{v:,}"' if isinstance(v, int) else str(v)  # noqa: E731
    return "\n".join([",".join(names), *(",".join(cell(r[n]) for n in names) for r in rows)]) + "\n"


@pytest.fixture
def audit_table(workspace, tmp_path):
    """Check `rows` as a release of a summary dataset; return the report's findings."""
    descriptor = {"name": "county-crime", "resources": [{
        "name": "county-crime", "path": "data/county-crime.csv",
        "schema": {"primaryKey": ["place", "year"], "fields": FIELDS},
    }]}
    add_dataset(workspace, "county-crime", descriptor, SUITE)

    def check(rows: list[dict]):
        path = tmp_path / "release.csv"
        path.write_text(to_csv(rows), encoding="utf-8")
        return pipeline.check(workspace, "county-crime", path)

    return check


def find(rows: list[dict], place: str, year: int) -> dict:
    return next(r for r in rows if r["place"] == place and r["year"] == year)


def summary(report) -> list[tuple]:
    return [(f.check, f.severity, f.key) for f in report.findings]


def test_the_clean_table_passes_every_check(audit_table):
    report = audit_table(clean_rows())

    assert report.success and report.findings == []


def test_a_broken_part_one_total_is_found_at_its_level_of_the_hierarchy(audit_table):
    rows = clean_rows()
    find(rows, "Southport", 2019)["part_one"] += 10

    report = audit_table(rows)

    assert summary(report) == [("category-sum", "error", {"place": "Southport", "year": 2019})]
    finding = report.findings[0]
    assert finding.columns == ["part_one", "violent", "property"]
    assert finding.observed - finding.expected == 10


def test_a_missing_part_is_an_incomplete_warning_not_an_error(audit_table):
    rows = clean_rows()
    find(rows, "Northtown", 2020)["larceny"] = None

    report = audit_table(rows)

    assert report.success
    assert summary(report) == [("category-sum-incomplete", "warning", {"place": "Northtown", "year": 2020})]
    assert "Larceny is missing" in report.findings[0].message or "larceny is missing" in report.findings[0].message


def test_rate_precision_is_read_from_each_published_value(audit_table):
    rows = clean_rows()
    one_decimal = find(rows, "Northtown", 2018)
    one_decimal["violent_rate"] = round(one_decimal["violent_rate"] + 0.06, 1)  # off by more than half of 0.1
    in_full = find(rows, "Southport", 2018)
    in_full["violent_rate"] = in_full["violent"] / in_full["population"] * 100_000  # exact: passes
    in_full_wrong = find(rows, "Southport", 2021)
    in_full_wrong["violent_rate"] = in_full_wrong["violent"] / in_full_wrong["population"] * 100_000 * (1 + 1e-7)

    report = audit_table(rows)

    assert summary(report) == [
        ("rate-math", "error", {"place": "Northtown", "year": 2018}),
        ("rate-math", "error", {"place": "Southport", "year": 2021}),
    ]
    assert report.findings[0].observed == one_decimal["violent_rate"]
    assert abs(report.findings[0].expected - one_decimal["violent"] / one_decimal["population"] * 1e5) < 1e-6


def test_a_missing_year_in_a_places_series_is_a_gap(audit_table):
    rows = [r for r in clean_rows() if not (r["place"] == "Northtown" and r["year"] in (2019, 2020))]

    report = audit_table(rows)

    assert summary(report) == [("series-gap", "error", {"place": "Northtown", "year": 2021})]
    assert (report.findings[0].expected, report.findings[0].observed) == (2019, 2021)
    assert "2018 to 2021" in report.findings[0].message


def test_fewer_than_twelve_months_reported_is_a_partial_year_warning(audit_table):
    rows = clean_rows()
    find(rows, "Southport", 2022)["months"] = 9

    report = audit_table(rows)

    assert report.success
    assert summary(report) == [("partial-year", "warning", {"place": "Southport", "year": 2022})]
    assert "9 of 12" in report.findings[0].message


def test_an_improbable_jump_is_a_yoy_outlier_but_small_counts_are_not(audit_table):
    rows = clean_rows()
    big = find(rows, "Northtown", 2020)
    big["robbery"] = int(big["robbery"] * 1.4)  # about 5,600 robberies against 4,000: improbable
    small = find(rows, "Southport", 2020)
    small["homicide"] = 2 * small["homicide"]  # 134 -> 268 in a small place: improbable too
    rows = [fill_totals(r) for r in rows]

    report = audit_table(rows)

    outliers = [f for f in report.findings if f.check == "yoy-outlier"]
    assert [(f.key, f.columns, f.severity) for f in outliers] == [
        ({"place": "Northtown", "year": 2020}, ["robbery"], "warning"),
        ({"place": "Northtown", "year": 2021}, ["robbery"], "warning"),  # and back down the year after
        ({"place": "Southport", "year": 2020}, ["homicide"], "warning"),
        ({"place": "Southport", "year": 2021}, ["homicide"], "warning"),
    ]
    assert "p = " in outliers[0].message and "+41%" in outliers[0].message


def test_yoy_outlier_needs_both_a_large_and_an_improbable_change(workspace, tmp_path):
    rows = clean_rows()
    find(rows, "Northtown", 2019)["homicide"] = 4
    find(rows, "Northtown", 2020)["homicide"] = 9  # +125% but only 4 -> 9: not improbable
    find(rows, "Northtown", 2021)["homicide"] = 8
    find(rows, "Northtown", 2022)["homicide"] = 9
    find(rows, "Southport", 2021)["burglary"] = int(find(rows, "Southport", 2020)["burglary"] * 1.15)  # +15%
    rows = [fill_totals(r) for r in rows]
    descriptor = {"name": "c", "resources": [{"name": "c", "path": "c.csv",
                                              "schema": {"primaryKey": ["place", "year"], "fields": FIELDS}}]}
    add_dataset(workspace, "c", descriptor, [SUITE[6]])
    path = tmp_path / "c.csv"
    path.write_text(to_csv(rows), encoding="utf-8")

    report = pipeline.check(workspace, "c", path)

    assert [(f.key, f.columns) for f in report.findings] == [
        ({"place": "Northtown", "year": 2019}, ["homicide"]),  # 314 -> 4: that one is a real collapse
    ]


def test_yoy_outlier_by_default_reviews_only_each_places_newest_period(workspace, tmp_path):
    rows = clean_rows()
    find(rows, "Northtown", 2019)["robbery"] *= 2   # an old jump: not this submission's business
    find(rows, "Southport", 2022)["burglary"] *= 2  # the newest year's jump: flagged
    rows = [fill_totals(r) for r in rows]
    latest_only = {**SUITE[6], "kwargs": {k: v for k, v in SUITE[6]["kwargs"].items() if k != "scope"}}
    descriptor = {"name": "c", "resources": [{"name": "c", "path": "c.csv",
                                              "schema": {"primaryKey": ["place", "year"], "fields": FIELDS}}]}
    add_dataset(workspace, "c", descriptor, [latest_only])
    path = tmp_path / "c.csv"
    path.write_text(to_csv(rows), encoding="utf-8")

    report = pipeline.check(workspace, "c", path)

    assert [(f.key, f.columns) for f in report.findings] == [({"place": "Southport", "year": 2022}, ["burglary"])]


def test_duplicate_keys_bad_places_and_population_are_each_found(audit_table):
    rows = clean_rows()
    rows.append(dict(find(rows, "Northtown", 2022)))
    find(rows, "Southport", 2017)["place"] = "Soutport"
    rows[2]["population"] = 0
    rows[2]["violent_rate"] = 0.0

    report = audit_table(rows)

    checks = {f.check for f in report.findings}
    assert {"unique", "in-set", "in-range"} <= checks
    assert ("in-set", {"place": "Soutport", "year": 2017}) in [(f.check, f.key) for f in report.findings]
    assert ("in-range", {"place": "Northtown", "year": 2019}) in [(f.check, f.key) for f in report.findings]


def test_poisson_e_test_matches_known_values():
    # Equal counts and exposures: no evidence of a change.
    assert poisson_e_test(50, 50) == pytest.approx(1.0)
    # A doubling of large counts is wildly improbable; of tiny counts it is not.
    assert poisson_e_test(1000, 2000) < 1e-12
    assert poisson_e_test(4, 8) > 0.1
    # Exposure matters: twice the count in twice the population is no change at all.
    assert poisson_e_test(100, 200, 1.0, 2.0) == pytest.approx(1.0)
    # Huge counts take the normal limit and stay finite and tiny.
    assert 0 <= poisson_e_test(400_000, 520_000) < 1e-12


@pytest.mark.parametrize("k1, k2, n1, n2", [(10, 25, 1, 1), (4, 8, 1, 1), (134, 268, 1, 1), (0, 12, 1, 1),
                                            (300, 390, 600_000, 590_000), (57, 31, 2.5, 1.0)])
def test_poisson_e_test_agrees_with_statsmodels(k1, k2, n1, n2):
    # statsmodels is the reference; it is not used at run time because it builds the full
    # grid from zero (counts in the hundreds of thousands would need terabytes). Its grid also
    # stops nearer the mean, so far tails (p ~ 1e-11) differ in the fourth digit.
    from statsmodels.stats.rates import test_poisson_2indep

    reference = test_poisson_2indep(k2, n2, k1, n1, method="etest-wald").pvalue
    assert poisson_e_test(k1, k2, n1, n2) == pytest.approx(reference, rel=1e-3, abs=1e-15)


def e_test_over_the_whole_grid(k1, k2, n1, n2):
    """The E-test as its definition reads: every cell of the Poisson grid around the pooled means weighed (the grid
    poisson_e_test reads), and the cells whose statistic is at least the observed one summed."""
    grid = e_test_grid(k1, k2, n1, n2)
    if grid.observed == 0:
        return 1.0
    p1, p2 = grid.weights()
    cells = np.abs(grid.statistic(grid.x1[:, None].astype(float), grid.x2[None, :].astype(float)))
    return float(min(1.0, (p1[:, None] * p2[None, :] * (cells >= grid.observed * (1 - 1e-12))).sum()))


@settings(max_examples=examples(60), deadline=None)
@given(k1=st.integers(0, 3000), change=st.floats(0, 2.5), nudge=st.integers(-3, 3),
       n1=st.sampled_from([1.0, 0.4, 7.5, 250_000.0, 1_300_000.0]), n2=st.sampled_from([1.0, 2.5, 640_000.0]))
def test_poisson_e_test_counts_exactly_the_grids_extreme_cells(k1, change, nudge, n1, n2):
    # poisson_e_test finds each grid row's extreme cells by bisection; the p-value is the whole grid's, to the
    # last digits (zero counts, tiny tails and exposures of every scale included).
    k2 = max(0, round(k1 * change) + nudge)
    assert poisson_e_test(k1, k2, n1, n2) == pytest.approx(e_test_over_the_whole_grid(k1, k2, n1, n2),
                                                           rel=1e-12, abs=1e-300)


def test_a_table_with_rates_is_published_only_with_its_population_source_and_vintage(audit_table, workspace,
                                                                                      tmp_path, run):
    import yaml

    audit_table(clean_rows())  # defines the dataset
    path = tmp_path / "release.csv"
    path.write_text(to_csv(clean_rows()), encoding="utf-8")
    assert run("ingest", "county-crime", path).exit_code == 0

    refused = run("publish", "county-crime")

    assert refused.exit_code == 2 and "population source and its vintage" in refused.output
    descriptor_path = workspace.root / "datapackages" / "county-crime" / "datapackage.yaml"
    descriptor = yaml.safe_load(descriptor_path.read_text())
    descriptor["sources"] = [{"title": "US Census Bureau population estimates", "kind": "population",
                              "vintage": "Vintage 2023"}]
    descriptor["licenses"] = [{"name": "PDDL-1.0"}]
    for field in descriptor["resources"][0]["schema"]["fields"]:
        field["description"] = f"The {field['name']} of the row."
    descriptor_path.write_text(yaml.safe_dump(descriptor))
    published = pipeline.publish(workspace, "county-crime")
    readme = (published.path / "README.md").read_text()
    assert "Population: US Census Bureau population estimates (vintage: Vintage 2023)" in readme
    # The report charts each total of the category sums, summed over the places, year by year, and each total per
    # 100,000 residents (the table's rates have a population).
    page = (published.path / "report.html").read_text()
    assert page.count('<figure class="chart">') == 6
    assert page.count("per 100,000 residents") >= 3


@pytest.mark.parametrize("how", ["period", "base"])
def test_a_figure_printed_for_a_change_from_zero_is_a_finding(workspace, tmp_path, how):
    """From 0 a change is no percentage: 100 (or 670) printed for 0 -> 5 was made up. From 0 to 0 a 0 or a blank
    is let be, and a blank from 0 to 5 is the honest way to print it."""
    series = {"period": "year", "group_by": ["place"]} if how == "period" else {"base": "before"}
    add_dataset(workspace, "changes", {
        "name": "changes", "licenses": [{"name": "PDDL-1.0"}],
        "resources": [{"name": "changes", "schema": {"primaryKey": ["place", "year"], "fields": [
            {"name": "place", "type": "string"}, {"name": "year", "type": "integer"},
            {"name": "before", "type": "integer"}, {"name": "robbery", "type": "integer"},
            {"name": "change", "type": "number"}]}}]},
        [{"type": "expect_column_values_to_equal_percent_change",
          "kwargs": {"column": "change", "of": "robbery", **series}}])
    table = tmp_path / "changes.csv"
    table.write_text("place,year,before,robbery,change\n"
                     "North,2020,,0,\nNorth,2021,0,5,100\n"       # 0 -> 5 printed as 100: made up
                     "South,2020,,0,\nSouth,2021,0,0,0\n"          # 0 -> 0 printed as 0: let be
                     "Fir,2020,,0,\nFir,2021,0,0,12.5\n"          # 0 -> 0 printed as 12.5: made up
                     "East,2020,,0,\nEast,2021,0,4,\n"             # 0 -> 4 left blank: honest
                     "West,2020,,10,\nWest,2021,10,12,20.0\n")     # an ordinary change, right

    report = pipeline.check(workspace, "changes", table)

    assert sorted((f.key["place"], f.observed) for f in report.blocking) == [("Fir", 12.5), ("North", 100)]
    assert "a change from zero is no percentage" in report.blocking[0].message


def test_changes_along_a_series_are_listed_by_period_then_place_on_every_run(workspace, tmp_path):
    """Ordered by the period alone, the places of one period came in another order on each run (Maryland's county
    table: 79 of 139 percent-change findings moved). Here every printed change is wrong, places written in no
    order: the findings are listed by year, then place."""
    import random

    add_dataset(workspace, "changes", {
        "name": "changes", "licenses": [{"name": "PDDL-1.0"}],
        "resources": [{"name": "changes", "schema": {"primaryKey": ["place", "year"], "fields": [
            {"name": "place", "type": "string"}, {"name": "year", "type": "integer"},
            {"name": "robbery", "type": "integer"}, {"name": "change", "type": "number"}]}}]},
        [{"type": "expect_column_values_to_equal_percent_change",
          "kwargs": {"column": "change", "of": "robbery", "period": "year", "group_by": ["place"]}}])
    places = [f"Place {n:02d}" for n in range(60)]
    random.Random(7).shuffle(places)
    rows = [f"{place},{year},{100 + 10 * i},{5 + i}.0" for year, i in ((2020, 0), (2021, 1), (2022, 2))
            for place in places]
    table = tmp_path / "changes.csv"
    table.write_text("place,year,robbery,change\n" + "\n".join(rows) + "\n")

    listed = [[(f.key["year"], f.key["place"]) for f in pipeline.check(workspace, "changes", table).findings]
              for _ in range(2)]

    assert listed[0] == listed[1] == sorted(listed[0]) and len(listed[0]) == 2 * len(places)


def test_a_rate_printed_over_a_population_of_zero_is_a_finding(workspace, tmp_path):
    """Over no one a rate is undefined: a figure printed for 3 offences over 0 residents was made up (0 over 0
    printed as 0, or a blank, is let be)."""
    add_dataset(workspace, "rates", {
        "name": "rates", "licenses": [{"name": "PDDL-1.0"}],
        "resources": [{"name": "rates", "schema": {"primaryKey": ["place"], "fields": [
            {"name": "place", "type": "string"}, {"name": "population", "type": "integer"},
            {"name": "count", "type": "integer"}, {"name": "rate", "type": "number"}]}}]},
        [{"type": "expect_column_values_to_equal_rate",
          "kwargs": {"column": "rate", "count": "count", "population": "population", "decimals": 1}}])
    table = tmp_path / "rates.csv"
    table.write_text("place,population,count,rate\nPark,0,3,300000.0\nLake,0,0,0.0\nDock,0,2,\nTown,1000,5,500.0\n")

    report = pipeline.check(workspace, "rates", table)

    assert [(f.key, f.observed) for f in report.blocking] == [({"place": "Park"}, 300000)]
    assert "over no one is undefined" in report.blocking[0].message
