"""Writes the unseen-tables corpus: one small table per quirk real published crime tables have, each with
a clean twin (`<quirk>.clean.csv`) that differs only by the quirk.

    .venv/bin/python tests/data/unseen/make_corpus.py

The files are committed; tests/test_unseen_tables.py says what `audit init` then `audit check` must make of
each. Every table is built from one seeded generator, but with its own column names, order and formatting,
so that nothing the tool does can lean on a name. What each quirk is, and where it was seen, is in CASES.
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from pathlib import Path

HERE = Path(__file__).parent
FILES = HERE / "files"

PLACES = ["Alder County", "Birch County", "Cedar City", "Dogwood County", "Elm Township", "Fir County"]
YEARS = list(range(2006, 2020))


def series(seed: int, places=PLACES, years=YEARS) -> list[dict]:
    """A state-style table: per place and year, offences, totals, population, rates, shares and changes."""
    rng = random.Random(seed)
    rows = []
    for place in places:
        population = rng.randint(40_000, 900_000)
        level = rng.uniform(0.6, 1.6)
        previous = None
        for year in years:
            population = int(population * rng.uniform(0.99, 1.02))
            scale = population / 100_000 * level
            row = {"place": place, "year": year, "population": population,
                   "murder": rng.randint(0, int(12 * scale) + 1), "rape": rng.randint(5, int(40 * scale) + 6),
                   "robbery": rng.randint(20, int(150 * scale) + 21), "assault": rng.randint(40, int(260 * scale) + 41),
                   "burglary": rng.randint(100, int(500 * scale) + 101),
                   "larceny": rng.randint(400, int(1900 * scale) + 401), "mvt": rng.randint(30, int(250 * scale) + 31)}
            row["violent"] = row["murder"] + row["rape"] + row["robbery"] + row["assault"]
            row["property"] = row["burglary"] + row["larceny"] + row["mvt"]
            row["total"] = row["violent"] + row["property"]
            row["violent_rate"] = round(row["violent"] / population * 100_000, 1)
            row["property_rate"] = round(row["property"] / population * 100_000, 1)
            row["violent_share"] = round(row["violent"] / row["total"] * 100, 1)
            row["total_change"] = "" if previous is None else round((row["total"] - previous) / previous * 100, 1)
            previous = row["total"]
            rows.append(row)
    return rows


def one_decimal(value) -> str:
    return value if value == "" else f"{value:.1f}"


def write_csv(name: str, header: list[str], rows: list[list], **dialect) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", **dialect)
    writer.writerow(header)
    writer.writerows(rows)
    (FILES / name).write_text(buffer.getvalue(), encoding="utf-8")


def pair(quirk: str, header: list[str], clean: list[list], quirky: list[list], **dialect) -> None:
    write_csv(f"{quirk}.clean.csv", header, clean, **dialect)
    write_csv(f"{quirk}.csv", header, quirky, **dialect)


def state_table(rows: list[dict]) -> tuple[list[str], list[list]]:
    header = ["State", "Year", "Population", "Violent crime", "Murder", "Rape", "Robbery", "Aggravated assault",
              "Property crime", "Burglary", "Larceny-theft", "Motor vehicle theft", "Violent crime rate"]
    body = [[r["place"], r["year"], r["population"], r["violent"], r["murder"], r["rape"], r["robbery"], r["assault"],
             r["property"], r["burglary"], r["larceny"], r["mvt"], one_decimal(r["violent_rate"])] for r in rows]
    return header, body


def main() -> None:
    FILES.mkdir(exist_ok=True)
    for old in FILES.iterdir():
        old.unlink()

    # Columns scrambled in the rows of one year of fourteen (as in a national table where three years of
    # forty-five had robbery swapped into the violent total's place): the sum must still be proposed, with
    # those rows as its exceptions.
    rows = series(1)
    header, clean = state_table(rows)
    scrambled = [list(r) for r in clean]
    for r in scrambled:
        if r[1] == 2010:
            r[3], r[6] = r[6], r[3]  # violent crime and robbery change places
    pair("scrambled-columns", header, clean, scrambled)

    # A municipal table with wrong rates and one wrong grand total.
    rows = series(2)
    header = ["Municipality", "Yr", "Pop.", "Total index crimes", "Violent", "Property", "Violent per 100k"]
    clean = [[r["place"], r["year"], f"{r['population']:,}", f"{r['total']:,}", r["violent"], r["property"],
              one_decimal(r["violent_rate"])] for r in rows]
    wrong = [list(r) for r in clean]
    for i in (5, 17, 40, 61):
        wrong[i][6] = one_decimal(float(wrong[i][6]) + 3.7)
    wrong[33][3] = f"{int(wrong[33][3].replace(',', '')) + 100:,}"
    pair("wrong-rates-and-total", header, clean, wrong)

    # National rows with no state code, as national estimates ship them.
    rows = series(3, places=["AK", "AL", "AR"])
    national = {}
    for r in rows:
        n = national.setdefault(r["year"], {"place": "", "year": r["year"], "population": 0, "violent": 0})
        n["population"] += r["population"]
        n["violent"] += r["violent"]
    header = ["state_abbr", "year", "population", "violent_crime", "violent_rate"]
    body = [[r["place"], r["year"], r["population"], r["violent"], one_decimal(r["violent_rate"])] for r in rows]
    body += [[n["place"], n["year"], n["population"], n["violent"],
              one_decimal(round(n["violent"] / n["population"] * 100_000, 1))] for n in national.values()]
    wrong = [list(r) for r in body]
    wrong[-1][4] = one_decimal(float(wrong[-1][4]) + 2)
    pair("national-rows-blank-key", header, body, wrong)

    # A zip-code table whose change column is percent text ("-5.1%"), as R and spreadsheets write it.
    rng = random.Random(4)
    header = ["zip", "violent_2022", "violent_2023", "violent_change"]
    body = []
    for z in range(21201, 21231):
        a = rng.randint(20, 400)
        b = max(1, a + rng.randint(-60, 60))
        body.append([str(z), a, b, f"{(b - a) / a * 100:.1f}%"])
    wrong = [list(r) for r in body]
    wrong[7][3] = "12.0%" if wrong[7][3] != "12.0%" else "13.0%"
    pair("percent-text-change", header, body, wrong)

    # Incidents with no id, a leading row-number column (as R writes it), and times that repeat.
    rng = random.Random(5)
    header = ["", "crime_date", "block", "offense", "weapon"]
    body = []
    for i in range(1, 61):
        block = f"{rng.randint(1, 9)}00 BLOCK {rng.choice(['N AVE', 'E ST', 'W RD'])}"
        body.append([str(i), f"6/{rng.randint(1, 28)}/2026", block,
                     rng.choice(["Larceny", "Robbery", "Burglary"]), rng.choice(["NA", "Firearm", "Knife"])])
    body[10][1:] = body[9][1:]  # the same incident twice (two victims): no set of columns is unique
    pair("incidents-no-id", header, body, body)

    # A definition that changed: violent crime counts rape by the legacy definition up to 2012, the revised after.
    rows = series(6, places=PLACES[:4])
    header = ["Jurisdiction", "Data year", "Violent", "Homicide", "Rape (legacy)", "Rape (revised)", "Robbery",
              "Agg. assault"]
    body = []
    for r in rows:
        legacy = r["rape"]
        revised = r["rape"] + 7 if r["year"] >= 2013 else ""
        violent = r["murder"] + (revised if r["year"] >= 2013 else legacy) + r["robbery"] + r["assault"]
        body.append([r["place"], r["year"], violent, r["murder"], legacy, revised, r["robbery"], r["assault"]])
    wrong = [list(r) for r in body]
    wrong[12][2] += 25    # a 2018 row
    pair("definition-change", header, body, wrong)

    # A definition that changed at different times in two groups of rows, as in national estimates: state rows
    # count rape by the revised definition from 2013, the national rows (no state code) only from 2016. The
    # legacy figure stops after 2016. One state row and one national row are wrong.
    states = ["AK", "AL", "AR", "AZ"]
    rows = series(8, places=states, years=list(range(2000, 2020)))
    header = ["state_abbr", "year", "violent_crime", "homicide", "rape_legacy", "rape_revised", "robbery",
              "aggravated_assault"]
    parts = {}
    for r in rows:
        r["revised"] = r["rape"] + 3 + r["murder"] % 5
        total = parts.setdefault(r["year"], {"murder": 0, "rape": 0, "revised": 0, "robbery": 0, "assault": 0})
        for k in total:
            total[k] += r[k]
    body = []
    for place, year, r, switch in [*((r["place"], r["year"], r, 2013) for r in rows),
                                   *(("", y, t, 2016) for y, t in parts.items())]:
        rape = r["revised"] if year >= switch else r["rape"]
        body.append([place, year, r["murder"] + rape + r["robbery"] + r["assault"], r["murder"],
                     r["rape"] if year <= 2016 else "", r["revised"] if year >= 2013 else "", r["robbery"],
                     r["assault"]])
    wrong = [list(r) for r in body]
    next(r for r in wrong if r[:2] == ["AK", 2014])[2] += 30
    next(r for r in wrong if r[:2] == ["", 2010])[2] += 11
    pair("definition-change-by-group", header, body, wrong)

    # A rate's percent change worked out from the count and population (as a state computes it), not from the rate
    # as printed to one decimal: small counts, so the printed rates' change is off by more than rounding allows. A
    # change from a year with no murders is undefined and left blank. Three published changes are wrong: two
    # figures, and one printed for a change from zero.
    rng = random.Random(9)
    header = ["County", "Year", "Population", "Murders", "Murder rate per 100,000", "Murder rate % change"]
    body = []
    for place in PLACES:
        population, previous = rng.randint(30_000, 90_000), None
        for year in YEARS:
            population = int(population * rng.uniform(0.99, 1.02))
            murders = rng.choice([0, 1, 2, 3, 4, 5, 6, 8])
            rate = murders / population * 100_000
            change = "" if previous in (None, 0) else f"{(rate - previous) / previous * 100:.1f}"
            body.append([place, year, population, murders, f"{rate:.1f}", change])
            previous = rate
    wrong = [list(r) for r in body]
    changed = [i for i, r in enumerate(wrong) if r[5] not in ("", "0.0")]
    wrong[changed[3]][5] = f"{-float(wrong[changed[3]][5]):.1f}"
    wrong[changed[20]][5] = f"{float(wrong[changed[20]][5]) + 12.5:.1f}"
    from_zero = next(i for i, r in enumerate(wrong) if i > 0 and r[5] == "" and r[3] and wrong[i - 1][0] == r[0])
    wrong[from_zero][5] = "583.9"
    pair("rate-change-from-counts", header, body, wrong)

    # Rates published to one decimal, printed as R prints them: 100.0 as "100". A rate printed "100" whose count
    # gives 100.3 is wrong at the column's precision (0.05), though right to within half a unit of its own (0.5).
    rows = series(7)
    header = ["County", "Year", "Population", "Violent", "Rate"]
    body = []
    for r in rows:
        rate = f"{r['violent_rate']:.1f}"
        body.append([r["place"], r["year"], r["population"], r["violent"], rate[:-2] if rate.endswith(".0") else rate])
    body[3][2:] = [1_000_000, 1000, "100"]
    wrong = [list(r) for r in body]
    wrong[3][3] = 1003
    wrong[20][4] = f"{float(wrong[20][4]) + 0.3:.1f}"
    pair("rate-precision", header, body, wrong)

    # A population printed in scientific notation once (R writes 500000 as 5e+05).
    rows = series(8)
    header = ["place", "year", "pop", "violent", "violent_per_100k"]
    body = [[r["place"], r["year"], r["population"], r["violent"], one_decimal(r["violent_rate"])] for r in rows]
    body[5][2] = 500000
    body[5][4] = one_decimal(round(body[5][3] / 500000 * 100_000, 1))
    quirky = [list(r) for r in body]
    quirky[5][2] = "5e+05"
    pair("scientific-population", header, body, quirky)

    # Sparse counts (mostly 0): no "rate" of one count by another may be proposed.
    rng = random.Random(9)
    header = ["agency", "year", "violent", "negligent_manslaughter", "human_trafficking"]
    body = [[f"Agency {a}", y, rng.randint(5, 90), rng.choice([0] * 12 + [1]), rng.choice([0] * 15 + [1, 2])]
            for a in range(8) for y in range(2014, 2020)]
    pair("sparse-counts", header, body, body)

    # A blank rate where the count and population are present.
    rows = series(10)
    header = ["Area", "Year", "Residents", "Offences", "Offences per 100,000"]
    body = [[r["place"], r["year"], r["population"], r["violent"], one_decimal(r["violent_rate"])] for r in rows]
    wrong = [list(r) for r in body]
    wrong[9][4] = ""
    pair("blank-rate", header, body, wrong)

    # Year-over-year percent changes, two of them wrong (one computed against the line above, out of order).
    rows = series(11)
    header = ["Jurisdiction", "Year", "Index crimes", "% change"]
    body = [[r["place"], r["year"], r["total"], one_decimal(r["total_change"])] for r in rows]
    wrong = [list(r) for r in body]
    wrong[6][3] = one_decimal(float(wrong[6][3]) + 4.2)
    wrong[30][3] = one_decimal(-float(wrong[30][3]) - 1.0)
    pair("percent-change", header, body, wrong)

    # Quotes escaped with a backslash inside quoted cells (R's write.csv(qmethod = "escape"), database dumps).
    header = ["date", "headline", "incidents"]
    body = [["1989-03-12", "\"City's crime up slower than '87\", March 12, 1989", 41],
            ["1989-03-19", "Robberies \"flat\" downtown", 37], ["1989-03-26", "Quiet week", 29]]
    write_csv("backslash-escapes.clean.csv", header, body)
    write_csv("backslash-escapes.csv", header, body, doublequote=False, escapechar="\\", quoting=csv.QUOTE_NONNUMERIC)

    # Names padded with spaces in a newer release: formatting, not a revision.
    rows = series(12, places=PLACES[:3], years=YEARS[:5])
    header = ["State", "Year", "Violent"]
    body = [[r["place"], r["year"], r["violent"]] for r in rows]
    pair("padded-names", header, body, [["     " + r[0], *r[1:]] for r in body])

    # Keys that differ only in case or spacing, and the same name written with a decomposed accent.
    header = ["city", "year", "robberies"]
    body = [["Baltimore", 2019, 310], ["Montréal", 2019, 1204], ["Quebec", 2019, 88]]
    quirky = [["Baltimore", 2019, 310], ["BALTIMORE", 2019, 12], ["Montréal", 2019, 1204],
              ["Montre\u0301al", 2019, 5], ["Quebec", 2019, 88]]
    pair("key-variants", header, body, quirky)

    # A national row relabelled between releases ("United States-Total" -> "United States").
    rows = series(13, places=["United States-Total", "Maryland"], years=YEARS[:6])
    header = ["area", "year", "violent"]
    body = [[r["place"], r["year"], r["violent"]] for r in rows]
    pair("relabelled-key", header, body, [["United States" if r[0] == "United States-Total" else r[0], *r[1:]]
                                          for r in body])

    # One stray Windows-1252 byte in a UTF-8 file.
    header = ["municipality", "year", "robbery"]
    body = [["Montréal", 2019, 1204], ["Québec", 2019, 88], ["Lévis", 2019, 9]]
    write_csv("stray-byte.clean.csv", header, body)
    text = (FILES / "stray-byte.clean.csv").read_bytes()
    (FILES / "stray-byte.csv").write_bytes(text.replace("Lévis".encode(), "L\xe9vis".encode("cp1252")))

    # "None reported" is a missing age, but a value in another column.
    header = ["incident", "age", "weapon"]
    body = [["A-1", "34", "None reported"], ["A-2", "None reported", "Firearm"], ["A-3", "19", "Knife"]]
    pair("missing-markers-per-column", header, body, body)

    # Only figures, no column that identifies a row (a summary exported without its labels).
    rng = random.Random(14)
    header = ["Part I", "Violent", "Property"]
    body = []
    for _ in range(12):
        v, p = rng.randint(100, 900), rng.randint(1000, 9000)
        body.append([v + p, v, p])
    wrong = [list(r) for r in body]
    wrong[4][0] += 10
    pair("figures-only", header, body, wrong)

    wide_paired_years()
    columns_changed()
    sparse_rate()

    # Workbooks: a formula with no saved value, a cell far outside the table, a zip bomb, and an .xls.
    import openpyxl

    def workbook(name: str, formula: bool = False, far: bool = False) -> None:
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(["district", "robbery", "assault", "total"])
        for d, a, b in [("North", 10, 20), ("South", 30, 40), ("East", 5, 6), ("West", 7, 8)]:
            sheet.append([d, a, b, a + b])
        if formula:
            sheet["D3"] = "=B3+C3"  # openpyxl writes formulas with no saved value, as scripts do
        if far:
            sheet["XFD1048576"] = 1
        book.save(FILES / name)

    workbook("unsaved-formula.clean.xlsx")
    workbook("unsaved-formula.xlsx", formula=True)
    workbook("far-cell.clean.xlsx")
    workbook("far-cell.xlsx", far=True)
    with zipfile.ZipFile(FILES / "zip-bomb.xlsx", "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("[Content_Types].xml", "<Types/>")
        bomb.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (200 << 20) + b"/>")
    try:
        import xlwt
    except ImportError:
        print("xlwt is not installed: old-excel.xls kept as it is")
    else:
        book = xlwt.Workbook()
        sheet = book.add_sheet("Table 4")
        for r, row in enumerate([["district", "robbery", "assault", "total"], ["North", 10, 20, 30],
                                 ["South", 30, 40, 70], ["East", 5, 6, 11], ["West", 7, 8, 15]]):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
        book.save(str(FILES / "old-excel.xls"))


OFFENCES = ["murder", "rape", "robbery", "agg_assault", "burglary", "larceny", "mvt", "arson", "simple_assault",
            "fraud", "vandalism", "weapons", "drugs", "dui", "disorderly", "trespass", "stolen_property", "forgery",
            "embezzlement", "prostitution"]


def wide_paired_years() -> None:
    """A county table by zip code, 64 columns: each offence in 2024 and 2025, its percent change (blank from a zero
    base), each year's total of all twenty. The zip code is an integer and the key; one change and one total are
    wrong."""
    rng = random.Random(27)
    header = ["ZIP", "Area", *(f"{y} {o.replace('_', ' ').title()}" for y in (2024, 2025) for o in OFFENCES),
              *(f"{o.replace('_', ' ').title()} % Change" for o in OFFENCES), "2024 Total", "2025 Total"]
    body = []
    for code in range(21201, 21226):
        before = {o: rng.choice([0, rng.randint(1, 30), rng.randint(30, 900)]) for o in OFFENCES}
        after = {o: max(0, before[o] + rng.randint(-40, 40)) for o in OFFENCES}
        changes = ["" if not before[o] else one_decimal(round((after[o] - before[o]) / before[o] * 100, 1))
                   for o in OFFENCES]
        body.append([code, f"Area {code - 21200}", *before.values(), *after.values(), *changes,
                     sum(before.values()), sum(after.values())])
    wrong = [list(r) for r in body]
    robbery = header.index("Robbery % Change")
    wrong[4][robbery] = one_decimal(float(wrong[4][robbery] or 0) + 12.5)
    wrong[17][-1] += 10
    pair("wide-paired-years", header, body, wrong)


def columns_changed() -> None:
    """The same state table in two years' files: the later one adds two columns, drops one and renames one (the
    clean twin is the earlier file, which the descriptor is made from)."""
    rows = series(31)
    header = ["State", "Year", "Population", "Violent crime", "Murder", "Robbery", "Burglary"]
    earlier = [[r["place"], r["year"], r["population"], r["violent"], r["murder"], r["robbery"], r["burglary"]]
               for r in rows if r["year"] < 2015]
    write_csv("columns-changed.clean.csv", header, earlier)
    later = ["State", "Year", "Population", "Violent crime total", "Murder", "Robbery", "Arson", "Human trafficking"]
    write_csv("columns-changed.csv", later, [[r["place"], r["year"], r["population"], r["violent"], r["murder"],
                                              r["robbery"], r["burglary"] // 40, r["murder"] // 3]
                                             for r in rows if r["year"] >= 2015])


def sparse_rate() -> None:
    """Small towns: murders are mostly 0, so the murder rate is 0 in most rows, and the few rows with a murder are
    the only evidence of the rate. One of those rates is wrong."""
    rng = random.Random(41)
    header = ["Municipality", "Year", "Population", "Murder", "Rape", "Murder per 100,000 people"]
    body = []
    for town in range(12):
        for year in range(2015, 2022):
            population, murder = rng.randint(3000, 90000), rng.choice([0] * 14 + [1, 2])
            body.append([f"Town {town + 1}", year, population, murder, rng.choice([0] * 5 + [1, 2, 3]),
                         one_decimal(round(murder / population * 100_000, 1))])
    wrong = [list(r) for r in body]
    at = [i for i, r in enumerate(body) if r[3]][2]
    wrong[at][5] = one_decimal(float(wrong[at][5]) * 10)
    pair("sparse-rate", header, body, wrong)


if __name__ == "__main__":
    main()
