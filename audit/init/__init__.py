"""`audit init`: a starter descriptor and suite for a table the office has not described yet.

    file -> DuckDB (text) -> profile (types, precision, missing markers, key) -> typed table
         -> candidate arithmetic (sums, rates, percent changes), found on samples
         -> each candidate run over every row by its own expectation -> proposals with their exceptions
         -> datapackage.yaml + expectations/<name>.json

Everything proposed is marked for the data office to confirm. A rule that holds in most rows
(`threshold`, 90 percent by default) is proposed with the rows that break it listed: those rows are
the likely defects, and `audit check` reports each of them. What was found but not proposed is
printed too, with how far it held, so no rule is left out silently.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from audit.dataset import Dataset
from audit.errors import ConfigError, InputError
from audit.findings import Finding
from audit.ingest.parquet import is_parquet, read_as_text
from audit.ingest.read import FILE_COLUMN, ROW_COLUMN, read_raw
from audit.ingest.reshape import reshape_long
from audit.init.arithmetic import (
    Candidate,
    Change,
    Rate,
    Sum,
    find_changes,
    find_rates,
    find_sums,
    take_sample,
)
from audit.init.evidence import (
    MIN_CHECKED,
    Proposal,
    Rejected,
    Segment,
    decide,
    list_exceptions,
    tally,
)
from audit.init.offences import Offences, find_offences
from audit.init.periods import dated_templates
from audit.init.profile import (
    Profile,
    candidate_keys,
    field_format,
    profile_table,
)
from audit.labels import plain_label
from audit.progress import step
from audit.sql import ident, literal
from audit.validate import import_in_background
from audit.validate.where import where_sql
from audit.workspace import Workspace

THRESHOLD = 0.9


@dataclass
class InitResult:
    descriptor_path: Path
    suite_path: Path
    profile: Profile
    proposals: list[Proposal]
    rejected: list[Rejected] = field(default_factory=list)
    threshold: float = THRESHOLD
    read_findings: list[Finding] = field(default_factory=list)   # what reading the file found (unsaved formulas)
    offences: Offences | None = None                              # the offence column and its categories

    @property
    def sums(self) -> list[Sum]:
        return [p.candidate for p in self.proposals if isinstance(p.candidate, Sum)]

    @property
    def rates(self) -> list[Rate]:
        return [p.candidate for p in self.proposals if isinstance(p.candidate, Rate)]

    @property
    def changes(self) -> list[Change]:
        return [p.candidate for p in self.proposals if isinstance(p.candidate, Change)]


def init_dataset(workspace: Workspace, name: str, file: str | Path | Sequence[str | Path], force: bool = False,
                 threshold: float = THRESHOLD) -> InitResult:
    """Write the starter descriptor and suite of dataset `name` from one file, or from several releases of it (a
    weekly export's weeks): their rows are profiled together, so a missing marker or a repeated key that only a
    later week shows is known, and every file must have the same columns."""
    sources = [Path(f) for f in ([file] if isinstance(file, (str, Path)) else file)]
    for source in sources:
        if not source.is_file():
            raise InputError("no such file", file=str(source))
    if not 0.5 <= threshold <= 1:
        raise ConfigError(f"the threshold is the share of rows a rule must hold in, from 0.5 to 1 (got {threshold})")
    plain_label(name, "dataset name")
    descriptor_path = workspace.inside(Path("datapackages") / name / "datapackage.yaml")
    suite_path = workspace.inside(Path("expectations") / f"{name}.json")
    existing = [str(p) for p in (descriptor_path, suite_path) if p.exists()]
    if existing and not force:
        raise ConfigError(f"{', '.join(existing)} already exist(s); pass --force to replace them")
    with workspace.work_database() as con:
        # The rules are checked by our GX expectations, imported meanwhile once reading is DuckDB's work.
        read_findings, reshape = _read_together(con, sources, "raw", import_in_background)
        profile = profile_table(con, "raw", "typed")
        if reshape is not None and profile.key and not profile.key.whole_row and "period" not in profile.key.columns \
                and any(c.name == "period" for c in profile.columns):
            # A summary read long has a row per period: its period is part of what a row is, so the next release's
            # period is rows added (and the last one's removed), not every figure changed.
            profile.key.columns.append("period")
        with step("looking for sums, rates and other rules the rows keep"):
            _no_figure_as_id(con, profile, threshold)
            proposals, rejected = find_rules(con, "typed", profile, threshold)
        headers = {c.name: c.header for c in profile.columns}
        with step("listing the rows that break each rule"):
            for p in proposals:  # for the office to see
                list_exceptions(con, "typed", p, lambda n: headers.get(n, n), profile.identifying_key)
        with step("looking for offence codes"):
            offences = find_offences(con, "typed", profile, profile.identifying_key)
    source = sources[0]
    keys = profile.key.columns if profile.key else []
    descriptor = starter_descriptor(name, source, profile, keys, [p.candidate for p in proposals], offences)
    if reshape is not None:
        descriptor["resources"][0]["reshape"] = reshape
    suite = starter_suite(name, profile, profile.identifying_key, proposals, threshold)
    descriptor_path.parent.mkdir(parents=True, exist_ok=True)
    suite_path.parent.mkdir(parents=True, exist_ok=True)
    read = source.name if len(sources) == 1 else f"{len(sources)} files ({source.name} to {sources[-1].name})"
    header = _descriptor_comment(read, profile, proposals, rejected, offences)
    descriptor_path.write_text(header + yaml.safe_dump(descriptor, sort_keys=False, allow_unicode=True), encoding="utf-8")
    suite_path.write_text(json.dumps(suite, indent=2, default=str) + "\n", encoding="utf-8")
    return InitResult(descriptor_path, suite_path, profile, proposals, rejected, threshold, read_findings, offences)


def _read_together(con, sources: list[Path], table: str, start_meanwhile: Callable[[], None] = lambda: None
                   ) -> tuple[list[Finding], dict[str, Any] | None]:
    """The cells of every file of `sources` as one text table `table`, each row with its file (FILE_COLUMN, when
    there are several) and its row in that file; what reading them found, and the reshape that read a summary
    whose headers carry its dates long (audit.init.periods). Files whose columns differ are refused: one descriptor
    describes them all. `start_meanwhile` is called once the first file's reading is DuckDB's work
    (audit.ingest.read.read_raw)."""
    findings: list[Finding] = []
    parts, first = [], None
    reshape: dict[str, Any] | None = None
    for number, source in enumerate(sources):
        # A Parquet release is read as text too: init proposes types from values, whichever way they arrive.
        start = start_meanwhile if number == 0 else (lambda: None)
        if is_parquet(source):  # DuckDB's work from the start
            start()
            read = read_as_text(con, source, f"{table}_rows")
        else:
            read = read_raw(con, source, None, f"{table}_rows", start_meanwhile=start)
        rows = read.view
        if number == 0:  # a summary whose headers carry its dates is read long, its dates a field
            reshape = dated_templates([r[0] for r in con.execute(f"DESCRIBE {ident(rows)}").fetchall()
                                       if r[0] != ROW_COLUMN])
        if reshape is not None:
            rows, _ = reshape_long(con, Dataset(table, source, source, {"resources": [{"reshape": reshape}]}), rows,
                                   source)
        columns = [r[0] for r in con.execute(f"DESCRIBE {ident(rows)}").fetchall()]
        if first is None:
            first = columns
        elif sorted(columns) != sorted(first):
            differ = sorted(set(columns) ^ set(first))
            raise InputError(f"its columns are not those of {sources[0].name} (they differ in "
                             f"{', '.join(map(repr, differ[:10]))}): releases of one dataset must have the same columns",
                             file=str(source), row=read.header_row or None)
        part = f"{table}_{number}"
        label = f"{literal(source.name)} AS {FILE_COLUMN}, " if len(sources) > 1 else ""
        con.execute(f"CREATE TABLE {ident(part)} AS SELECT {label}* FROM {ident(rows)}")
        con.execute(f"DROP VIEW IF EXISTS {ident(read.view + '__long')}")
        read.drop(con)
        findings += read.findings
        parts.append(part)
    if len(parts) == 1:  # one file: its table is the table (copying ten million rows again took seconds)
        con.execute(f"ALTER TABLE {ident(parts[0])} RENAME TO {ident(table)}")
        return findings, reshape
    con.execute(f"CREATE TABLE {ident(table)} AS " + " UNION ALL BY NAME ".join(f"SELECT * FROM {ident(p)}" for p in parts))
    for part in parts:
        con.execute(f"DROP TABLE {ident(part)}")
    return findings, reshape


def _no_figure_as_id(con, profile: Profile, threshold: float) -> None:
    """A whole-number key column is an id only if it takes part in no arithmetic: a total whose values happen to
    differ in every row is a figure. If the key has one that does, the key is chosen again without it."""
    ids = [k for k in profile.identifying_key if profile.column(k).type == "integer" and not profile.column(k).year_like]
    if not ids:
        return
    trial, _ = find_rules(con, "typed", profile, threshold, keys=[k for k in profile.identifying_key if k not in ids])
    used = {c for p in trial for c in p.candidate.columns()}
    if used & set(ids):
        profile.keys, profile.key = candidate_keys(con, "raw", profile, frozenset(used))


def find_rules(con, table: str, profile: Profile, threshold: float,
               keys: list[str] | None = None) -> tuple[list[Proposal], list[Rejected]]:
    """The sums, rates and percent changes to propose (their exceptions listed by `list_exceptions`)."""
    keys = profile.identifying_key if keys is None else keys
    period = next((k for k in keys if profile.column(k).year_like), None)
    group_by = [k for k in keys if k != period]
    measures = [c for c in profile.columns if c.is_measure and c.name not in keys]
    counts = [c.name for c in measures if c.type == "integer"]
    numbers = [c.name for c in measures if c.type == "number"]
    decimals = {c.name: c.decimals for c in measures}
    sample = take_sample(con, table, counts + numbers, period, group_by)
    periods = sorted(r[0] for r in con.execute(
        f"SELECT DISTINCT {ident(period)} FROM {ident(table)} WHERE {ident(period)} IS NOT NULL").fetchall()) if period else []

    partitions = row_groups(con, table, profile, period)
    segment_periods = {s: _periods(con, table, period, s) for p in partitions for s in p} if period else {}

    def settle(candidates: Sequence[Candidate]) -> tuple[list[Proposal], list[Rejected]]:
        return decide([tally(con, table, c, period, partitions) for c in candidates], threshold, period, periods,
                      partitions, segment_periods)

    # A group's own sum (offences cleared count two parts, offences reported three) holds in no sample that mixes
    # the groups: the candidates are searched in each group's rows as well.
    candidates = {(s.total, s.parts): s for s in find_sums(sample, counts)}
    for segment in [s for p in partitions for s in p][:SEARCHED_GROUPS]:
        view = f"__audit_group_{len(candidates)}_{abs(hash(segment))}"
        con.execute(f"CREATE OR REPLACE TEMP VIEW {ident(view)} AS SELECT * FROM {ident(table)} "
                    f"WHERE {where_sql([segment.clause()])}")
        for s in find_sums(take_sample(con, view, counts + numbers, period, group_by), counts):
            candidates.setdefault((s.total, s.parts), s)
        con.execute(f"DROP VIEW {ident(view)}")
    sums, rejected = settle(list(candidates.values()))
    in_sums = {c for p in sums if isinstance(p.candidate, Sum) for c in (p.candidate.total, *p.candidate.parts)}
    # A rate is a number, or a whole number that no sum uses (a count is not the rate of another count).
    rate_columns = numbers + [c for c in counts if c not in in_sums]
    rates, more = settle(find_rates(sample, rate_columns, counts, decimals))
    rejected += more
    proposals = sums + rates
    taken = {p.candidate.target for p in proposals}
    changing = [c for c in numbers if c not in taken]
    ratios = [(p.candidate.count, p.candidate.population) for p in rates if isinstance(p.candidate, Rate)]
    changes, more = settle(find_changes(sample, changing, counts + numbers, period, group_by, decimals, ratios))
    proposals += changes
    rejected += more
    return proposals, rejected


# At most this many groups in one partition of the rows (categories of a column), and this many partitions tried.
MAX_GROUPS = 6
MAX_PARTITIONS = 4
# Groups whose own rows are searched for sums (the smallest partitions' first): each search is a sample's.
SEARCHED_GROUPS = 8


def row_groups(con, table: str, profile: Profile, period: str | None) -> list[list[Segment]]:
    """The ways the rows fall into groups that may each follow rules of their own: a column that is blank in some
    rows and not in others (national rows with no state code), or text with a few values each in several rows (a
    table of offences and arrests, of states and counties). Nothing here reads a column's name."""
    partitions: list[list[Segment]] = []
    for c in profile.columns:
        if c.is_measure or c.positional or c.name == period:
            continue
        if MIN_CHECKED <= c.nulls <= profile.rows - MIN_CHECKED:
            partitions.append([Segment(c.name, blank=True), Segment(c.name, blank=False)])
        elif not c.nulls and c.type == "string" and 2 <= c.distinct <= MAX_GROUPS:
            counts = con.execute(f"SELECT {ident(c.name)}, count(*) FROM {ident(table)} GROUP BY ALL ORDER BY 1").fetchall()
            if all(n >= MIN_CHECKED for _, n in counts):
                partitions.append([Segment(c.name, value=v) for v, _ in counts])
    return sorted(partitions, key=len)[:MAX_PARTITIONS]


def _periods(con, table: str, period: str, segment: Segment) -> list[Any]:
    """The periods a group of rows has rows in."""
    where = where_sql([segment.clause()])
    return sorted(r[0] for r in con.execute(
        f"SELECT DISTINCT {ident(period)} FROM {ident(table)} WHERE {ident(period)} IS NOT NULL AND {where}").fetchall())


def starter_descriptor(name: str, source: Path, profile: Profile, keys: list[str],
                       proposed: list[Candidate], offences: Offences | None = None) -> dict[str, Any]:
    units = {r.column: f"per {r.per:,}" for r in proposed if isinstance(r, Rate)}
    units.update({c.column: "percent" for c in proposed if isinstance(c, Change)})
    blank_parts = profile.key.blank_parts if profile.key else []
    fields = []
    for c in profile.columns:
        if c.positional:  # a row number (1, 2, 3 ... down the file) is no data: it changes whenever rows move
            continue
        f: dict[str, Any] = {"name": c.name, "title": c.header, "type": c.type,
                             "description": f"TODO: what {c.header!r} holds and how it is counted."}
        f.update(field_format(c.format))
        if c.name in units:
            f["unit"] = units[c.name]
        if c.missing_values:  # this column's own markers (Table Schema v2), beside the table's
            f["missingValues"] = profile.missing_values + c.missing_values
        if c.name in blank_parts:
            f["constraints"] = {"required": False}  # a blank key part: one group of rows (e.g. national totals)
        if offences is not None and c.name == offences.column:
            f["categories"] = offences.categories  # what makes the diff count reclassifications and downgrades
        fields.append(f)
    skipped = [c.header for c in profile.columns if c.positional]
    repeats = bool(profile.key and (profile.key.repeats or profile.key.whole_row))
    schema: dict[str, Any] = {"fields": fields, "matchKey" if repeats else "primaryKey": keys}
    if profile.missing_values != [""]:
        schema["missingValues"] = profile.missing_values
    when = next((c.name for c in profile.columns if c.name in keys and c.type in ("date", "datetime")), None)
    reclassification = {"reclassification": {"period": when}} if offences is not None and when else {}
    return {
        "name": name,
        "title": f"TODO: title of {name}",
        "description": "TODO: what the data is, who collects it and how.",
        "licenses": [{"name": "TODO", "title": "TODO: the licence the data is published under"}],
        "sources": [{"title": f"TODO: where {source.name} comes from"}],
        "resources": [{"name": name, "path": f"data/{name}.csv", "profile": "tabular-data-resource",
                       **({"skipColumns": skipped} if skipped else {}), "schema": schema}],
        **reclassification,
    }


def proposal_entry(p: Proposal) -> dict[str, Any]:
    """A proposal as a suite entry: the expectation, scoped if it is, with how far it held when proposed."""
    kind, kwargs = p.candidate.expectation()
    where = p.where()
    meta: dict[str, Any] = {"proposed_by": "audit init",
            "held_in": f"{p.holds:,} of {p.checked:,} rows it could check{p.scope_text()}",
            "confirm": "a rule found in the first release, not its definition: confirm it, or correct or remove it"}
    if p.reported:
        meta["rows_breaking_it"] = p.rows + (["..."] if p.reported > len(p.rows) else [])
    return {"type": kind, "kwargs": {**kwargs, **({"where": where} if where else {})}, "meta": meta}


def starter_suite(name: str, profile: Profile, keys: list[str], proposals: list[Proposal],
                  threshold: float = THRESHOLD) -> dict[str, Any]:
    """The suite: ranges, the proposals, series checks. The key's uniqueness and presence are not repeated
    here: the descriptor's primaryKey implies them (blank parts declared `required: false` excepted)."""
    expectations: list[dict[str, Any]] = []
    rates = [p.candidate for p in proposals if isinstance(p.candidate, Rate)]
    populations = {r.population for r in rates if r.per >= 1000}  # shares (per 100) divide by totals
    for c in profile.columns:
        if c.type == "integer" and c.is_measure and c.name not in keys:
            expectations.append({"type": "expect_column_values_to_be_between",
                                 "kwargs": {"column": c.name, "min_value": 1 if c.name in populations else 0}})
    expectations += [proposal_entry(p) for p in proposals]
    periods = [k for k in keys if profile.column(k).year_like]
    if periods:
        period, places = periods[0], [k for k in keys if k != periods[0]]
        expectations.append({"type": "expect_series_to_have_no_gaps",
                             "kwargs": {"period": period, "group_by": places}})
        leaf_counts = [c.name for c in profile.columns if c.type == "integer" and c.is_measure
                       and c.name not in keys and c.name not in populations]
        if leaf_counts:
            kwargs: dict[str, Any] = {"columns": leaf_counts, "period": period, "group_by": places}
            if populations:
                kwargs["exposure"] = sorted(populations)[0]
            expectations.append({"type": "expect_counts_to_change_plausibly", "kwargs": kwargs})
    return {"name": name, "meta": {"great_expectations_version": "1.24.1", "audit_suite_version": 1,
                                   "audit_init": {"threshold": threshold},
                                   "notes": "Written by `audit init`; review every expectation marked proposed_by. "
                                            f"A rule was proposed when it held in at least {threshold:.0%} of the "
                                            "rows it could check; the rows that break it are in its meta."},
            "expectations": expectations}


def key_text(profile: Profile) -> str:
    key = profile.key
    if key is None:
        return "none found: no column identifies rows (add a key by hand)"
    if key.whole_row:
        return ("none: no column identifies rows (only figures), so every column is the matchKey: rows are matched "
                "between releases by all their values, and a changed value shows as a row removed and one added; "
                "choose a key by hand if the table has one")
    text = " + ".join(key.columns)
    if key.blank_parts and not key.repeats:
        text += (f" ({', '.join(key.blank_parts)} blank in one group of rows, such as national totals, told apart "
                 "by the rest of the key)")
    elif key.blank_parts:
        text += f" ({', '.join(key.blank_parts)} may be blank)"
    if key.repeats:
        text += (f"; no set of columns identifies every row: {key.repeats:,} row(s) repeat another's values of it, "
                 "so it is written as the matchKey (not a primaryKey, which must be unique): rows that repeat it are "
                 "matched between releases in their order in the file")
    return text


def rule_lines(p: Proposal, shown: int = 5) -> list[str]:
    """A proposal in plain lines: the rule, how far it holds, the first rows that break it."""
    held = (f"holds in all {p.checked:,} rows it can check" if not p.broken
            else f"holds in {p.holds:,} of {p.checked:,} rows; breaks in {p.broken:,} (likely defects)")
    # Rows check reports that say nothing about whether the rule holds, and are defects all the same.
    also = [f"{n:,} {what}" for n, what in ((p.blank, "blank where it gives a figure"),
                                            (p.from_zero, "printed as a change from zero, which is undefined")) if n]
    if also:
        held += "; also " + " and ".join(also)
    lines = [f"{p.candidate.kind}: {p.candidate}{p.scope_text()} — {held}"]
    for row, message in list(zip(p.rows, p.messages))[:shown]:
        lines.append(f"    {row}: {message}")
    if p.reported > shown:
        lines.append(f"    ... and {p.reported - shown:,} more row(s): `audit check` lists them all")
    return lines


def rejected_line(r: Rejected) -> str:
    if r.checked < MIN_CHECKED:
        return (f"not proposed: {r.candidate.kind} {r.candidate} can be checked in only {r.checked:,} row(s), "
                "too few to tell a rule from a coincidence")
    share = (r.checked - r.broken) / r.checked
    return (f"not proposed: {r.candidate.kind} {r.candidate} holds in only {r.checked - r.broken:,} of "
            f"{r.checked:,} rows ({share:.0%})")


def offences_line(offences: Offences) -> str:
    todo = len(offences.categories) - offences.named
    return (f"offence categories proposed: {offences.column} ({len(offences.categories):,} values, {offences.named:,} "
            f"placed in a category by their words" + (f", {todo:,} left as TODO" if todo else "") + "): "
            "reclassifications between categories, and downgrades out of the violent ones, are counted in every diff")


def _descriptor_comment(read: str, profile: Profile, proposals: list[Proposal], rejected: list[Rejected],
                        offences: Offences | None = None) -> str:
    lines = [f"Starter descriptor written by `audit init` from {read} ({profile.rows} rows).",
             "Fill in every TODO, and confirm the key and the arithmetic in the suite.",
             f"Key proposed: {key_text(profile)}", *([offences_line(offences)] if offences else [])]
    for p in proposals:
        lines += rule_lines(p, shown=3)
    lines += [rejected_line(r) for r in rejected]
    return "".join(f"# {line}\n" for line in lines)
