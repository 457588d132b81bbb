"""Writes the malformed-input corpus: one small file per quirk, named for it.

    .venv/bin/python tests/data/bad-input/make_corpus.py     (needs `pip install xlwt` for the .xls file)

The files are committed; this script says how each was made (several are binary or have
exact bytes a text editor would "fix"). Every file is a release of datapackage.yaml's
dataset; tests/test_bad_input.py says what each must produce.
"""

from __future__ import annotations

import gzip
from pathlib import Path

HERE = Path(__file__).parent
FILES = HERE / "files"
HEADER = "Police district,Year,Resident population,Robbery,Aggravated assault,Total offences"
ROWS = ["Central,2021,41200,1204,310,1514", "Central,2022,41350,1190,305,1495",
        "Eastern,2021,38900,980,402,1382", "Eastern,2022,39010,1012,398,1410"]


def text(rows: list[str], header: str = HEADER, end: str = "\n") -> str:
    return end.join([header, *rows]) + end


def write(name: str, content: str | bytes) -> None:
    path = FILES / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)


def main() -> None:
    FILES.mkdir(exist_ok=True)
    clean = text(ROWS)
    write("clean.csv", clean)
    # -- unreadable: exit 2 ---------------------------------------------------
    write("empty.csv", b"")
    write("header-only.csv", HEADER + "\n")
    write("nul-byte.csv", clean.replace("1190", "11\x0090"))
    write("utf16-without-a-bom.csv", clean.encode("utf-16-le"))
    write("unterminated-quote.csv", text([ROWS[0], 'Central,2022,"41,350,1190,305,1495', *ROWS[2:]]))
    write("long-line.csv", text([ROWS[0], "Central,2022,41350,1190,305," + "9" * 3_000_000, *ROWS[2:]]))
    write("ragged-row.csv", text([ROWS[0], ROWS[1] + ",17", *ROWS[2:]]))
    write("short-row.csv", text([ROWS[0], "Central,2022", *ROWS[2:]]))
    write("separators-not-in-threes.csv", text(['Central,2021,"41,200","1,2,0,4",310,1514', *ROWS[1:]]))
    write("letter-o-for-zero.csv", clean.replace("1204", "12O4"))
    write("decimal-in-a-count.csv", clean.replace("980", "980.5"))
    write("missing-column.csv", "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != 4)
                                          for line in clean.splitlines()) + "\n")
    write("extra-column.csv", "\n".join(line + ("," + ("Burglary" if n == 0 else "77"))
                                        for n, line in enumerate(clean.splitlines())) + "\n")
    write("wrong-total-row.csv", text([*ROWS, "Total,,160460,4386,1415,5802"]))
    write("gzip-compressed.csv", gzip.compress(clean.encode(), mtime=0))
    write("spreadsheet-named-csv.csv", (FILES / "several-sheets.xlsx").read_bytes() if (FILES / "several-sheets.xlsx").exists()
          else b"PK\x03\x04")
    write("html-error-page.csv", "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
          "<body><h1>502 Bad Gateway</h1></body></html>\n")
    write("only-a-title.csv", "Offences by police district, 2021-2022\n")
    write("not-really-excel.xlsx", clean)
    # -- normalised and recorded: exit 0 ---------------------------------------
    write("utf8-bom.csv", b"\xef\xbb\xbf" + clean.encode())
    write("utf32-bom.csv", clean.encode("utf-32"))
    write("utf16-bom.csv", clean.replace("Central", "Centre-ville").encode("utf-16"))
    write("latin-1.csv", clean.replace("Eastern", "Bélair-Est").encode("latin-1"))
    write("windows-1252.csv", clean.replace("Central", "Central \u2013 \u201cDowntown\u201d").encode("cp1252"))
    write("utf8-cut-off-at-the-end.csv", clean.encode() + b"\xc3")  # a character's first byte, then the end
    write("mixed-line-endings.csv", HEADER + "\r\n" + ROWS[0] + "\n" + ROWS[1] + "\r\n" + ROWS[2] + "\n" + ROWS[3] + "\r\n")
    write("cr-line-endings.csv", text(ROWS, end="\r"))
    write("crlf-line-endings.csv", text(ROWS, end="\r\n"))
    write("zero-width-space-in-a-key.csv", text([*ROWS[:3], "East\u200bern,2022,39010,1012,398,1410"]))
    write("thousands-separators.csv", text(['Central,2021,"41,200","1,204",310,"1,514"', *ROWS[1:]]))
    write("padded-quoted-numbers.csv", text(['Central,2021," 41,200 "," 1,204 ", 310 ,"1,514 "', *ROWS[1:]]))
    write("footnote-marks.csv", text(['Central,2021,41200,1204a,310*,"1,514\u2020"', "Central,2022,41350,1190 (1),305[2],1495",
                                      *ROWS[2:]]))
    write("missing-markers.csv", text(["Central,2021,NA,1204,310,1514", "Central,2022,-,1190,305,1495",
                                       "Eastern,2021,*,980,402,1382", "Eastern,2022,(X),1012,398,1410"]))
    write("empty-cells-as-missing.csv", text(["Central,2021,,1204,310,1514", *ROWS[1:]]))
    write("whole-numbers-with-decimals.csv", text(["Central,2021,41200.0,1204.0,310.0,1514.00", *ROWS[1:]]))
    write("trailing-total-row.csv", text([*ROWS, "Total,,160460,4386,1415,5801"]))
    write("title-rows-above-header.csv", "Table 3. Offences by police district, 2021-2022\nSource: Police department\n\n"
          + clean)
    write("note-rows-below.csv", clean + "\nSource: Police department records system\n1 Counts are provisional.\n")
    write("blank-rows-at-the-end.csv", clean + "\n\n,,,,,\n")
    write("blank-line-in-the-middle.csv", text([*ROWS[:2], "", *ROWS[2:]]))
    write("two-row-header.csv", "Police,,Resident,,Aggravated,Total\ndistrict,Year,population,Robbery,assault,offences\n"
          + "\n".join(ROWS) + "\n")
    write("semicolon-delimited.csv", clean.replace(",", ";"))
    write("tab-delimited.tsv", clean.replace(",", "\t"))
    write("headers-in-another-case.csv", text(ROWS, header=HEADER.upper().replace(" ", "_")))
    write("quoted-newline-in-a-cell.csv", text(['"Central\n(downtown)",2021,41200,1204,310,1514', *ROWS[1:]]))
    # -- read, then found: exit 1 ------------------------------------------------
    write("renamed-column.csv", text(ROWS, header=HEADER.replace("Resident population", "Resident popilation")))
    write("renamed-first-column.csv", text(ROWS, header=HEADER.replace("Police district", "Precinct")))
    write("duplicate-keys.csv", text([*ROWS, ROWS[3]]))
    write("blank-key.csv", text([ROWS[0], ",2022,41350,1190,305,1495", *ROWS[2:]]))
    write("negative-count.csv", clean.replace("402,1382", "-402,578"))
    write("total-that-does-not-add-up.csv", clean.replace("1514", "1515"))
    write("formula-injection.csv", text(['"=HYPERLINK(""http://x.example/"",""click"")",2021,41200,1204,310,1514',
                                         "+SUM(1;2),2022,41350,1190,305,1495", "@cmd,2021,38900,980,402,1382",
                                         ROWS[3]]))
    _workbooks()


def _workbooks() -> None:
    import openpyxl

    rows = [line.split(",") for line in ROWS]
    values = [[int(v) if v.isdigit() else v for v in row] for row in rows]
    book = openpyxl.Workbook()
    data = book.active
    data.title = "Offences"
    data.append(HEADER.split(","))
    for row in values:
        data.append(row)
    book.create_sheet("Notes").append(["Counts are provisional."])
    book.create_sheet("Chart data").append(["unused"])
    book.save(FILES / "several-sheets.xlsx")

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Offences by police district"])
    sheet.merge_cells("A1:F1")
    sheet.append(["Police district", "Year", "Resident population", "Offences", None, None])
    sheet.merge_cells("D2:F2")
    sheet.append([None, None, None, "Robbery", "Aggravated assault", "Total offences"])
    sheet.merge_cells("A2:A3")
    sheet.merge_cells("B2:B3")
    sheet.merge_cells("C2:C3")
    for row in values:
        sheet.append(row)
    book.save(FILES / "merged-cells.xlsx")

    import xlwt

    old = xlwt.Workbook()
    sheet = old.add_sheet("Offences")
    for c, name in enumerate(HEADER.split(",")):
        sheet.write(0, c, name)
    for r, row in enumerate(values, start=1):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    old.save(str(FILES / "excel-97.xls"))


if __name__ == "__main__":
    main()
