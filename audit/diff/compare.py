"""The cell-level diff of two releases of one dataset, run inside DuckDB.

Rows are matched by key (a missing key value matches a missing one). Both
releases are typed by the descriptor, so values compare as values: a count
published as "12,430" in one file and 12430 in the next is unchanged.

Where the key repeats (incidents with no id: two larcenies on one block at one
time), rows are matched as multisets, never by their place in the file:
identical rows first (two rows that swap places are no change), then the rest
by key, in file order among rows that repeat it. Then, where the dataset has a
category field (an offence code with `categories`), a row removed and a row
added that agree on everything but their category fields are one incident
reclassified, whether or not the category is part of the key (an incident moved
from the robbery file to the larceny file), so downgrades are never hidden as a
removal and an addition. `Matching` counts the rows matched each way.

Two tables result, both in the working database:

    diff_rows   every matched or unmatched row that differs, with both versions
                of every column ("o.col" and "n.col"); the reclassification
                summary reads it
    revisions   one row per change: the key columns, `change` (changed, added,
                removed, relabelled, column-added, column-removed), `column`, `old` and
                `new` (JSON text of the typed values), `note` (the covering note's id or NULL)

A row removed and a row added that agree on every value but one key column, where that
column's old value always became the same new one ("United States-Total" -> "United States"
in every year), are one row relabelled, not a removal and an addition: `column` names the
key column, `old` and `new` its two values.

Only rows that differ leave the join, so a 10-million-row comparison
materialises just its changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from audit.dataset import Dataset
from audit.diff.notes import RevisionNote, covering_note_sql
from audit.engine.scan import POSITION, Scan
from audit.errors import StateError
from audit.sql import ident, literal, one_row

DIFF_ROWS = "diff_rows"
REVISIONS = "revisions"
PRESENT = "__audit_present"
OCCURRENCE = "__audit_occurrence"
AT = "__audit_at"


def old(column: str) -> str:
    return ident(f"o.{column}")


def new(column: str) -> str:
    return ident(f"n.{column}")


@dataclass(frozen=True)
class Columns:
    key: list[str]
    common: list[str]      # non-key columns in both releases, in the new release's order
    added: list[str]       # only in the new release
    removed: list[str]     # only in the old release
    types: dict[str, tuple[str, str]]  # column -> (old type, new type)

    def row_value(self, column: str) -> str:
        """SQL for a field's value in a row of `diff_rows`: the new release's, or the old one's for a removed row."""
        return ident(column) if column in self.key else f"coalesce({new(column)}, {old(column)})"


def _describe(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    return {name: sql_type for name, sql_type, *_ in con.execute(f"DESCRIBE SELECT * FROM {table}").fetchall()}


def _columns(con: duckdb.DuckDBPyConnection, old_table: str, new_table: str, key: list[str]) -> Columns:
    old_types, new_types = _describe(con, old_table), _describe(con, new_table)
    missing = [k for k in key if k not in old_types or k not in new_types]
    if missing:
        raise StateError(f"cannot compare the releases by primary key: {', '.join(missing)} is not in both")
    common = [c for c in new_types if c in old_types and c not in key]
    return Columns(
        key=key,
        common=common,
        added=[c for c in new_types if c not in old_types],
        removed=[c for c in old_types if c not in new_types],
        types={c: (old_types[c], new_types[c]) for c in [*key, *common]},
    )


def _has_duplicate_keys(scan: Scan, table: str, key: list[str]) -> bool:
    keys = ", ".join(ident(k) for k in key)
    (n,) = scan.value(f"SELECT count(*) FROM (SELECT {keys} FROM {table} GROUP BY {keys} HAVING count(*) > 1) d")
    return n > 0


def _side(scan: Scan, table: str, key: list[str], occurrence: bool) -> str:
    """One release as a join input, with its stored order; with `occurrence`, repeated keys are told apart by it."""
    position = scan.position(table)
    extra = ""
    if occurrence:
        extra = f", row_number() OVER (PARTITION BY {', '.join(ident(k) for k in key)} ORDER BY {position}) AS {OCCURRENCE}"
    return f"(SELECT *, true AS {PRESENT}, {position} AS {AT}{extra} FROM {table})"


def _differs(column: str, types: tuple[str, str], joined: bool = False) -> str:
    """SQL: the column's old and new values differ, in a row of `diff_rows` (or, `joined`, in the join of the two
    releases as o and n). A column whose type changed compares as the new type."""
    before, after = (f"o.{ident(column)}", f"n.{ident(column)}") if joined else (old(column), new(column))
    left = before if types[0] == types[1] else f"TRY_CAST({before} AS {types[1]})"
    return f"{left} IS DISTINCT FROM {after}"


RELABELS = "__relabels"
RECLASSIFIED = "__reclassified"


@dataclass
class Matching:
    """How the old release's rows found their new rows (the rest were removed)."""
    identical: int = 0          # set aside as identical rows before matching by key (only when keys repeat)
    by_key: int = 0             # matched by key (changed or not)
    reclassified: int = 0       # a removed and an added row that differ only in their category fields
    relabelled: int = 0         # a removed and an added row that differ only in a key value relabelled throughout

    def to_dict(self) -> dict[str, int]:
        return {"identical": self.identical, "by_key": self.by_key, "reclassified": self.reclassified,
                "relabelled": self.relabelled}


FORM = ("regexp_replace(regexp_replace(regexp_replace({v}::VARCHAR, '[0-9]+', '9', 'g'), '[A-Za-z]+', 'a', 'g'), "
        "'\\s+', ' ', 'g')")
MIN_FORM_VALUES = 5
FORM_SAMPLE = 2000


def format_changes(scan: Scan, cols: Columns) -> list[dict]:
    """Text columns whose values all changed form between the releases ("6:00:00" -> "6:00", "2026-06-01" ->
    "06/01/2026", "4A" -> "ASSAULT-AGG"): no value of the new release is written the way any of the old one's
    was. Such a change is one thing to explain, however many rows it touches. A form is a value with each run
    of digits written 9 and each run of letters a."""
    found = []
    old_table, new_table = scan.old, scan.new
    for column in [*cols.key, *cols.common]:
        types = cols.types.get(column)
        if types is None or types != ("VARCHAR", "VARCHAR"):
            continue
        c = ident(column)
        form = FORM.format(v=c)
        # A sample of each side first: a form they share means no change of form, and most columns stop here
        # (the full comparison runs three regexes on every value of both releases).
        (sample_shared,) = scan.value(
            f"SELECT count(*) FROM (SELECT DISTINCT {form} AS f FROM (SELECT {c} FROM {old_table} WHERE {c} IS NOT NULL "
            f"{scan.sample(FORM_SAMPLE)}) so) o JOIN (SELECT DISTINCT {form} AS f FROM "
            f"(SELECT {c} FROM {new_table} WHERE {c} IS NOT NULL {scan.sample(FORM_SAMPLE)}) sn) n ON o.f = n.f")
        if sample_shared:
            continue
        (old_forms, new_forms, shared, old_example, new_example, old_n, new_n) = scan.value(
            f"WITH o AS (SELECT DISTINCT {form} AS f FROM {old_table} WHERE {c} IS NOT NULL), "
            f"n AS (SELECT DISTINCT {form} AS f FROM {new_table} WHERE {c} IS NOT NULL) "
            f"SELECT (SELECT count(*) FROM o), (SELECT count(*) FROM n), (SELECT count(*) FROM o JOIN n ON o.f = n.f), "
            f"(SELECT min({c}) FROM {old_table}), (SELECT min({c}) FROM {new_table}), "
            f"(SELECT count({c}) FROM {old_table}), (SELECT count({c}) FROM {new_table})")
        if old_forms and new_forms and not shared and min(old_n, new_n) >= MIN_FORM_VALUES:
            found.append({"column": column, "in_key": column in cols.key, "old_example": old_example,
                          "new_example": new_example})
    return found


def _set_aside_identical(scan: Scan, old_table: str, new_table: str, cols: Columns) -> tuple[str, str, int]:
    """Copies of both releases without the rows the other has identically (as multisets: a row the old release
    has twice and the new once leaves one in the old copy), each row with its stored position. Returns (old rest,
    new rest, rows set aside)."""
    content = [*cols.key, *cols.common]
    every = ", ".join(ident(c) for c in content)
    same = " AND ".join(f"t.{ident(c)} IS NOT DISTINCT FROM c.{ident(c)}" for c in content)
    rests = []
    for table, other, name, only in ((old_table, new_table, "__audit_old_rest", cols.removed),
                                     (new_table, old_table, "__audit_new_rest", cols.added)):
        # Columns only one side has are kept on that side's copy, so they still show as added or removed.
        kept = ", ".join(f"t.{ident(c)}" for c in [*content, *only])
        scan.keep(name,
                  f"SELECT {kept}, t.{AT} AS {POSITION} FROM "
                  f"(SELECT *, {scan.position(table)} AS {AT}, row_number() OVER (PARTITION BY {every} "
                  f"ORDER BY {scan.position(table)}) AS __copy FROM {table}) t "
                  f"LEFT JOIN (SELECT {every}, count(*) AS __n FROM {other} GROUP BY {every}) c ON {same} "
                  f"WHERE t.__copy > coalesce(c.__n, 0)")
        rests.append(name)
    (before,) = scan.value(f"SELECT count(*) FROM {old_table}")
    (after,) = scan.value(f"SELECT count(*) FROM {rests[0]}")
    return rests[0], rests[1], before - after


def _pair_reclassified(con: duckdb.DuckDBPyConnection, cols: Columns, categories: list[str]) -> int:
    """Merge into one matched row each removed row and added row that agree on everything but `categories`:
    one incident reclassified. Rows that agree are paired as multisets, in file order. Returns the pairs."""
    others = [c for c in [*cols.key, *cols.common] if c not in categories]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {RECLASSIFIED} (removed BIGINT, added BIGINT)")
    if not categories or not others:
        return 0
    content = ", ".join(f"{old(c)}" for c in others)
    added_content = ", ".join(f"{new(c)}" for c in others)
    same = " AND ".join(f"r.{old(c)} IS NOT DISTINCT FROM a.{new(c)}" for c in others)
    con.execute(
        f"INSERT INTO {RECLASSIFIED} SELECT r.id, a.id FROM "
        f"(SELECT rowid AS id, *, row_number() OVER (PARTITION BY {content} ORDER BY rowid) AS __n FROM {DIFF_ROWS} "
        f"WHERE __in_old AND NOT __in_new) r JOIN "
        f"(SELECT rowid AS id, *, row_number() OVER (PARTITION BY {added_content} ORDER BY rowid) AS __n "
        f"FROM {DIFF_ROWS} WHERE __in_new AND NOT __in_old) a ON {same} AND r.__n = a.__n")
    (pairs,) = one_row(con, f"SELECT count(*) FROM {RECLASSIFIED}")
    if pairs:
        # The pair becomes one row of DIFF_ROWS: the new row's key, the old row's old values.
        olds = ", ".join(f"{old(c)} = r.{old(c)}" for c in [*cols.key, *cols.common])
        con.execute(f"UPDATE {DIFF_ROWS} SET __in_old = true, {olds} FROM {DIFF_ROWS} r, {RECLASSIFIED} p "
                    f"WHERE {DIFF_ROWS}.rowid = p.added AND r.rowid = p.removed")
        con.execute(f"DELETE FROM {DIFF_ROWS} WHERE rowid IN (SELECT removed FROM {RECLASSIFIED})")
    return pairs


def _pair_relabels(con: duckdb.DuckDBPyConnection, cols: Columns, categories: list[str]) -> list[str]:
    """Create RELABELS (removed, added: rowids of DIFF_ROWS; column; old, new) and return the key columns
    relabelled. A pair agrees on every other key column and every common value (at least one of them
    present), pairs one to one, and its column's old value maps to one new value throughout. Only text is a
    label: a date, time or number in the key that differs is another row (a shoplifting leaving a rolling window
    and another entering it, alike in all but their date, are two incidents, not one redated)."""
    found: list[str] = []
    con.execute(f"CREATE OR REPLACE TEMP TABLE {RELABELS} (removed BIGINT, added BIGINT, \"column\" VARCHAR, "
                f"old VARCHAR, new VARCHAR)")
    if not cols.common:
        return found
    same_values = " AND ".join(f"r.{old(c)} IS NOT DISTINCT FROM a.{new(c)}" for c in cols.common)
    some_value = " OR ".join(f"r.{old(c)} IS NOT NULL" for c in cols.common)
    labels = [c for c in cols.key if c not in categories and cols.types[c] == ("VARCHAR", "VARCHAR")]
    for column in labels:  # a category moves per incident: reclassified
        k = ident(column)
        same_key = " AND ".join([f"r.{ident(c)} IS NOT DISTINCT FROM a.{ident(c)}" for c in cols.key if c != column]
                                + [f"r.{k} IS DISTINCT FROM a.{k}"])
        # Key values are kept as JSON text, as `revisions` keeps old and new (one table serves every key column).
        con.execute(
            f"INSERT INTO {RELABELS} SELECT removed, added, {literal(column)}, old, new FROM ("
            f"SELECT r.rowid AS removed, a.rowid AS added, CAST(to_json(r.{k}) AS VARCHAR) AS old, "
            f"CAST(to_json(a.{k}) AS VARCHAR) AS new, "
            f"count(*) OVER (PARTITION BY r.rowid) AS per_removed, count(*) OVER (PARTITION BY a.rowid) AS per_added, "
            f"count(DISTINCT a.{k}) OVER (PARTITION BY r.{k}) AS targets "
            f"FROM {DIFF_ROWS} r JOIN {DIFF_ROWS} a ON {same_key} AND {same_values} "
            f"WHERE r.__in_old AND NOT r.__in_new AND a.__in_new AND NOT a.__in_old AND ({some_value})) "
            f"WHERE per_removed = 1 AND per_added = 1 AND targets = 1 "
            f"AND removed NOT IN (SELECT removed FROM {RELABELS}) AND added NOT IN (SELECT added FROM {RELABELS})")
        (n,) = one_row(con, f"SELECT count(*) FROM {RELABELS} WHERE \"column\" = {literal(column)}")
        if n:
            found.append(column)
    return found


def diff_tables(
    con: duckdb.DuckDBPyConnection, scan: Scan, dataset: Dataset, notes: list[RevisionNote]
) -> tuple[Columns, Matching]:
    """Compare the scan's old release (published) with its new one (incoming); create `diff_rows` and `revisions`
    in `con`."""
    old_table, new_table = scan.old, scan.new
    cols = _columns(con, *scan.duckdb_tables, dataset.primary_key)
    key = cols.key
    matching = Matching()
    # Where no key repeats, the tables are left as they are and no key can repeat in them after: each grouping by
    # the key is a full pass over a release (1.5-2 s each at 10M rows), and was made twice.
    occurrence = False
    if _has_duplicate_keys(scan, old_table, key) or _has_duplicate_keys(scan, new_table, key):
        old_table, new_table, matching.identical = _set_aside_identical(scan, old_table, new_table, cols)
        occurrence = _has_duplicate_keys(scan, old_table, key) or _has_duplicate_keys(scan, new_table, key)
    match = [*key, OCCURRENCE] if occurrence else key
    on = " AND ".join(f"o.{ident(k)} IS NOT DISTINCT FROM n.{ident(k)}" for k in match)
    keys = [f"CASE WHEN n.{PRESENT} THEN n.{ident(k)} ELSE o.{ident(k)} END AS {ident(k)}" for k in key]
    # Key columns too carry both sides' values: a pair matched across the key (reclassified) keeps its old value.
    pairs = [f"o.{ident(c)} AS {old(c)}, n.{ident(c)} AS {new(c)}" for c in [*key, *cols.common]]
    differs = [_differs(c, cols.types[c], joined=True) for c in cols.common]
    # Only the rows that differ leave the engine, in the releases' stored order (new, then old), so that rows
    # paired as multisets below pair the same way on every engine.
    scan.to_duckdb(DIFF_ROWS,
        f"SELECT coalesce(o.{PRESENT}, false) AS __in_old, coalesce(n.{PRESENT}, false) AS __in_new, "
        f"o.{AT} AS __old_at, n.{AT} AS __new_at, {', '.join([*keys, *pairs])} "
        f"FROM {_side(scan, old_table, key, occurrence)} o FULL OUTER JOIN {_side(scan, new_table, key, occurrence)} n "
        f"ON {on} WHERE o.{PRESENT} IS NULL OR n.{PRESENT} IS NULL" + "".join(f" OR ({d})" for d in differs),
        order="__new_at NULLS LAST, __old_at NULLS LAST")
    (old_rows,) = scan.value(f"SELECT count(*) FROM {old_table}")
    categories = [f.name for f in dataset.fields if f.categories and f.name in [*key, *cols.common]]
    matching.reclassified = _pair_reclassified(con, cols, categories)

    relabelled = _pair_relabels(con, cols, categories)
    key_list = ", ".join(ident(k) for k in key)
    null_keys = ", ".join(f"CAST(NULL AS {cols.types[k][1]}) AS {ident(k)}" for k in key)
    parts: list[str] = []
    for column in [c for c in key if c in categories]:
        # A category in the key that changed: the incident was reclassified across the key (one change).
        note = covering_note_sql(notes, dataset, cols.row_value, column, "changed")
        parts.append(
            f"SELECT {key_list}, 'changed' AS change, {literal(column)} AS \"column\", -3 AS __position, "
            f"CAST(to_json({old(column)}) AS VARCHAR) AS old, CAST(to_json({new(column)}) AS VARCHAR) AS new, "
            f"{note} AS note FROM {DIFF_ROWS} WHERE __in_old AND __in_new AND {old(column)} IS DISTINCT FROM {new(column)}"
        )
    for position, column in enumerate(cols.common):
        note = covering_note_sql(notes, dataset, cols.row_value, column, "changed")
        parts.append(
            f"SELECT {key_list}, 'changed' AS change, {literal(column)} AS \"column\", {position} AS __position, "
            f"CAST(to_json({old(column)}) AS VARCHAR) AS old, CAST(to_json({new(column)}) AS VARCHAR) AS new, "
            f"{note} AS note FROM {DIFF_ROWS} WHERE __in_old AND __in_new AND {_differs(column, cols.types[column])}"
        )
    paired = f"rowid NOT IN (SELECT removed FROM {RELABELS} UNION ALL SELECT added FROM {RELABELS})"
    for change, condition in (("added", "NOT __in_old"), ("removed", "NOT __in_new")):
        row_note = covering_note_sql(notes, dataset, cols.row_value, None, change)
        parts.append(
            f"SELECT {key_list}, {literal(change)}, NULL, -1, NULL, NULL, {row_note} FROM {DIFF_ROWS} "
            f"WHERE {condition} AND {paired}"
        )
    for column in relabelled:
        note = covering_note_sql(notes, dataset, cols.row_value, column, "relabelled")
        parts.append(
            f"SELECT {key_list}, 'relabelled', {literal(column)}, -1, r.old, r.new, {note} "
            f"FROM {DIFF_ROWS} JOIN {RELABELS} r ON {DIFF_ROWS}.rowid = r.added "
            f"WHERE r.\"column\" = {literal(column)}"
        )
    # A column added to or dropped from the table is one change, covered only by a note on every row.
    for change, names in (("column-added", cols.added), ("column-removed", cols.removed)):
        for column in names:
            note = covering_note_sql([n for n in notes if not n.where], dataset, cols.row_value, column, change)
            parts.append(f"SELECT {null_keys}, {literal(change)}, {literal(column)}, -2, NULL, NULL, {note}")
    # The union's columns are named here: its first part may be any of the above (with every column in the key, the
    # first is the added rows', whose columns are unnamed).
    union_columns = f"u({key_list}, change, \"column\", __position, old, new, note)"
    con.execute(
        f"CREATE OR REPLACE TABLE {REVISIONS} AS SELECT * EXCLUDE (__position) FROM ({' UNION ALL '.join(parts)}) "
        f"AS {union_columns} ORDER BY {key_list}, __position"
    )
    (removed,) = one_row(con, f"SELECT count(*) FROM {REVISIONS} WHERE change = 'removed'")
    matching.relabelled = one_row(con, f"SELECT count(*) FROM {RELABELS}")[0]
    matching.by_key = old_rows - removed - matching.reclassified - matching.relabelled
    return cols, matching
