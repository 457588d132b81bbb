"""Summary tables whose period is in their headers, read long.

A weekly summary is often written wide, its period in the column names ("5/26-6/8", "vs. 5/12-5/25",
"Violent 5/26-6/8"), so its column names change every week and no schema can name them. The descriptor's
resource says how its headers are made, with placeholders:

    reshape:
      columns:
        - {header: "Violent {period}", field: violent}
        - {header: "Property {period}", field: property}
        - {header: "vs. {previous}", field: change}
      period: period                  # the placeholder whose values make rows (the default)

Each header that matches a template is a value of `field`; its placeholders' values (which hold a number
standing on its own: a period is written with one) become fields of their own (`period`, `previous`). Every
other column (a neighbourhood, an offence) is kept as it is.
One output row is made for each value of the period placeholder, with the file row's number, so errors
still name the row a person sees; a template without the period placeholder fills every output row.
"""

from __future__ import annotations

import re

import duckdb

from audit.dataset import Dataset
from audit.errors import ConfigError, InputError
from audit.ingest.normalise import Normalisation
from audit.ingest.read import ROW_COLUMN
from audit.sql import ident, literal

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def _pattern(template: str) -> re.Pattern:
    parts, at = [], 0
    for m in PLACEHOLDER.finditer(template):
        # A period is written with a number standing on its own (a date, a year, a week): a header without
        # one, such as "description" or "column1" (a name given to a blank header), is never read as a period.
        parts += [re.escape(template[at:m.start()]), f"(?P<{m.group(1)}>(?=.*(?<![A-Za-z])[0-9]).+?)"]
        at = m.end()
    parts.append(re.escape(template[at:]))
    return re.compile("".join(parts), re.IGNORECASE)


def reshape_long(con: duckdb.DuckDBPyConnection, dataset: Dataset, raw: str, source) -> tuple[str, list[Normalisation]]:
    """A view of `raw` (the file's cells under its headers) with the period columns read as rows, and what was
    done, recorded; `raw` itself when the resource declares no reshape."""
    spec = dataset.resource.get("reshape")
    if not spec:
        return raw, []
    period = spec.get("period", "period")
    # The most specific template first: "vs. {previous}" before "{period}", which would match any header.
    templates = sorted(((_pattern(c["header"]), c["field"], c["header"]) for c in spec["columns"]),
                       key=lambda t: -len(PLACEHOLDER.sub("", t[2])))
    headers = [r[0] for r in con.execute(f"DESCRIBE {ident(raw)}").fetchall() if r[0] != ROW_COLUMN]
    kept, matched = [], []        # matched: (header, field, bindings)
    for header in headers:
        hit = next(((field, m.groupdict()) for p, field, _ in templates if (m := p.fullmatch(header.strip()))), None)
        if hit:
            matched.append((header, *hit))
        else:
            kept.append(header)
    if not matched:
        raise InputError(f"no column matches the descriptor's reshape templates "
                         f"({', '.join(repr(t) for *_, t in templates)}); the file has "
                         f"{', '.join(map(repr, headers))}", file=str(source), row=1)
    periods = list(dict.fromkeys(b[period] for _, _, b in matched if period in b))
    selects = []
    for value in periods or [None]:
        here = [(h, f, b) for h, f, b in matched if b.get(period, value) == value]
        cells: dict[str, str] = {}
        for header, field, _ in here:
            if field in cells:
                raise InputError(f"two columns give {field!r} for {period} {value!r}: "
                                 f"{cells[field]!r} and {header!r}", file=str(source), row=1)
            cells[field] = header
        names: dict[str, str] = {}
        for _, _, bindings in here:
            for name, text in bindings.items():
                if names.setdefault(name, text) != text:
                    raise InputError(f"the headers give {name} both {names[name]!r} and {text!r} for {period} "
                                     f"{value!r}", file=str(source), row=1)
        fields = sorted({f for _, f, _ in matched})
        placeholders = sorted({n for _, _, b in matched for n in b})
        columns = [ident(ROW_COLUMN), *map(ident, kept),
                   *(f"{literal(names[n]) if n in names else 'NULL'}::VARCHAR AS {ident(n)}" for n in placeholders),
                   *(f"{ident(cells[f]) if f in cells else 'NULL'}::VARCHAR AS {ident(f)}" for f in fields)]
        selects.append(f"SELECT {', '.join(columns)} FROM {ident(raw)}")
    view = f"{raw}__long"
    con.execute(f"CREATE OR REPLACE VIEW {ident(view)} AS {' UNION ALL '.join(selects)} ORDER BY {ident(ROW_COLUMN)}")
    note = Normalisation("reshape", f"{len(matched)} columns whose headers carry the period were read as rows "
                         f"({len(periods) or 1} per file row: {', '.join(periods) or 'one'})",
                         example=", ".join(h for h, _, _ in matched))
    return view, [note]


def check_reshape(dataset: Dataset) -> None:
    """A reshape's fields and placeholders must be schema fields (so the long table can be typed)."""
    spec = dataset.resource.get("reshape")
    if not spec:
        return
    names = {f.name for f in dataset.fields}
    wanted = {c["field"] for c in spec["columns"]} | {n for c in spec["columns"] for n in PLACEHOLDER.findall(c["header"])}
    missing = sorted(wanted - names)
    if missing:
        raise ConfigError(f"{dataset.descriptor_path}: reshape: {', '.join(map(repr, missing))} must be fields of the "
                          "schema (each template's field and each placeholder)")
