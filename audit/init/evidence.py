"""How well a candidate rule holds in the whole table, and what `audit init` proposes from it.

Each candidate is run over every row by the expectation the suite will hold (its own SQL), so
the rows `init` lists as breaking a rule are exactly the rows `check` will report. Then:

- a rule holding in at least `threshold` of the rows it can check is proposed, with the rows
  that break it listed: on day one they are the table's likely defects;
- so is a sum that holds exactly, with a non-zero total, in at least half the rows and at least
  MIN_CHECKED of them, below the threshold: two or more counts adding up to a third to the unit
  in row after row is no coincidence, and a small table (six years, two of them wrong) cannot
  reach 90 percent with its defects in it. Rates and changes, checked within a tolerance, have
  no such path;
- a rule that can only be checked in a range of periods (a column introduced in 2013) is
  scoped to that range, so earlier rows are not reported as incomplete;
- two rules for one column that divide the periods between them (a definition changed) are
  both proposed, each scoped to its range, when each holds in its range;
- where the rows fall into groups (a key part blank in national rows, a column of a few
  categories) and each group has its own rules, or its own periods for them (national rows
  kept the old definition three years longer), each group's rules are proposed scoped to it,
  when together they hold in more rows than the rules for the whole table;
- anything else is not proposed, and `init` says how far it held, so nothing is dropped silently.

A range is never cut to leave out periods where a rule is checkable and breaks, unless another
rule for the same column holds there: broken recent years must show up, not be scoped away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb

from audit.findings import key_text
from audit.init.arithmetic import Candidate, Change, Rate, Sum
from audit.sql import ident, one_row

if TYPE_CHECKING:
    from audit.validate.expectations.base import RowCheckExpectation

SHOWN_EXCEPTIONS = 20
MIN_CHECKED = 3


@dataclass(frozen=True)
class Segment:
    """A group of rows a rule can be scoped to: those where `column` is blank (or not), or has `value`."""
    column: str
    value: Any = None
    blank: bool | None = None       # True: the rows where it is blank; False: where it is not; None: by value

    def clause(self) -> dict[str, Any]:
        """The suite's `where` clause selecting these rows."""
        if self.blank is not None:
            return {"column": self.column, "missing": self.blank}
        return {"column": self.column, "in": [self.value]}

    def text(self) -> str:
        if self.blank is not None:
            return f"{self.column} {'blank' if self.blank else 'not blank'}"
        return f"{self.column} {self.value}"

    def holds(self, group: Any) -> bool:
        """Whether a row whose grouping value (`grouping_sql`) is `group` is in this segment."""
        return group == self.blank if self.blank is not None else group == self.value


def grouping_sql(segments: list[Segment]) -> str:
    """What tells the segments of one partition apart, per row: blankness, or the value."""
    first = segments[0]
    return f"({ident(first.column)} IS NULL)" if first.blank is not None else ident(first.column)


@dataclass
class Tally:
    """One candidate over the whole table: rows checkable and rows broken, per period (None: no period), and
    the same for each segment of the rows (`parts`)."""
    candidate: Candidate
    checked: dict[Any, int]
    broken: dict[Any, int]
    trivial: int = 0              # checkable rows where it holds only as 0 = 0 + ... (a sum of zeros)
    parts: dict[Segment, "Tally"] = field(default_factory=dict)

    def holds_exactly(self) -> int:
        checked, broken = self.within()
        return checked - broken - self.trivial

    def within(self, low: Any = None, high: Any = None) -> tuple[int, int]:
        """(rows checkable, rows broken) in the periods from `low` to `high`. A row can break a rule where it is not
        checkable (a change printed from a zero base), in a period where no row of its group is: it counts all
        the same, in a group as in the whole table."""
        def inside(p: Any) -> bool:
            return p is None or (low is None or p >= low) and (high is None or p <= high)
        return (sum(n for p, n in self.checked.items() if inside(p)),
                sum(n for p, n in self.broken.items() if inside(p)))


@dataclass
class Proposal:
    candidate: Candidate
    checked: int
    broken: int
    scope: tuple[Any, Any] | None = None        # (from, to) periods, either open (None)
    period: str | None = None
    segment: Segment | None = None               # the group of rows it is for; None: every row
    exceptions: list[dict[str, Any]] = field(default_factory=list)   # the first SHOWN_EXCEPTIONS failing rows
    messages: list[str] = field(default_factory=list)               # each as check will explain it
    rows: list[str] = field(default_factory=list)                   # each named by its key (and its file row)
    # Rows check reports beyond `broken`, which are no evidence about the rule: a blank where the rule gives a
    # figure, and (a change) a figure printed from a zero base, where it gives none.
    blank: int = 0
    from_zero: int = 0

    @property
    def reported(self) -> int:
        """Every row check will report for this rule."""
        return self.broken + self.blank + self.from_zero

    @property
    def holds(self) -> int:
        return self.checked - self.broken

    def where(self) -> list[dict[str, Any]] | None:
        clauses = [self.segment.clause()] if self.segment else []
        if self.scope:
            clause: dict[str, Any] = {"column": self.period}
            if self.scope[0] is not None:
                clause["from"] = self.scope[0]
            if self.scope[1] is not None:
                clause["to"] = self.scope[1]
            clauses.append(clause)
        return clauses or None

    def expectation(self) -> RowCheckExpectation:
        return build(self.candidate, self.where())

    def scope_text(self) -> str:
        group = f"rows with {self.segment.text()}" if self.segment else ""
        if not self.scope:
            return f" for {group}" if group else ""
        low, high = self.scope
        if low is not None and high is not None:
            periods = f"{self.period} {low} to {high}"
        else:
            periods = f"{self.period} {'from ' + str(low) if low is not None else 'up to ' + str(high)}"
        return f" for {group + ', ' if group else ''}{periods}"


@dataclass
class Rejected:
    candidate: Candidate
    checked: int
    broken: int


def build(candidate: Candidate, where: list[dict[str, Any]] | None = None) -> RowCheckExpectation:
    from great_expectations.expectations.registry import get_expectation_impl

    # The package, not only its base: defining our classes is what registers them with GX. GX's import may still be
    # under way in init's background thread (audit.validate.import_in_background); importing the package waits for
    # it to end, where importing `base` alone did not, and GX then knew no sum check (found under load: 1 init in 15).
    from audit.validate import expectations as _registers  # noqa: F401
    from audit.validate.expectations.base import RowCheckExpectation

    kind, kwargs = candidate.expectation()
    expectation = get_expectation_impl(kind)(**kwargs, **({"where": where} if where else {}))  # type: ignore[arg-type]
    assert isinstance(expectation, RowCheckExpectation)  # every kind init proposes is one of ours
    return expectation


def _checkable_sql(candidate: Candidate, table: str) -> str:
    """The rows a candidate can be checked on, in SQL over `table`: every value it needs is present."""
    t = ident(table)
    if isinstance(candidate, Sum):
        present = " AND ".join(f"{ident(c)} IS NOT NULL" for c in (candidate.total, *candidate.parts))
        return f"SELECT * FROM {t} WHERE {present}"
    if isinstance(candidate, Rate):
        return (f"SELECT * FROM {t} WHERE {ident(candidate.column)} IS NOT NULL AND {ident(candidate.count)} IS NOT NULL "
                f"AND {ident(candidate.population)} IS NOT NULL AND {ident(candidate.population)} <> 0")
    if candidate.base is not None:
        of, base = ident(candidate.of), ident(candidate.base)
        return (f"SELECT * FROM {t} WHERE {of} IS NOT NULL AND {base} IS NOT NULL AND {base} <> 0 "
                f"AND {ident(candidate.column)} IS NOT NULL")
    partition = f"PARTITION BY {', '.join(map(ident, candidate.group_by))} " if candidate.group_by else ""
    of, period = candidate.measure_sql(), ident(candidate.period or "")  # a change with no base runs along a period
    return (f"SELECT * FROM (SELECT *, lag({of}) OVER ({partition}ORDER BY {period}) AS __prev FROM {t} "
            f"WHERE {period} IS NOT NULL) WHERE __prev IS NOT NULL AND __prev <> 0 AND {of} IS NOT NULL "
            f"AND {ident(candidate.column)} IS NOT NULL")


def _own_failures(candidate: Candidate, expectation: RowCheckExpectation, tally_only: bool = True) -> str:
    """Which failing rows count against the rule: not a sum's incomplete rows (a warning); for the tally, not a
    blank rate or change either (a column that starts later is scoped, not broken), though check reports those."""
    if isinstance(candidate, Sum):
        return f"WHERE __check = '{expectation.check}'" + (" AND __observed IS NOT NULL" if tally_only else "")
    if tally_only:
        # A change printed from a zero base is a defect check reports, but no evidence about the formula, which
        # is undefined there: a state that prints one for every county without murders last year still computes
        # its other changes by the rule.
        return "WHERE __observed IS NOT NULL" + (" AND __previous <> 0" if isinstance(candidate, Change) else "")
    return ""


def tally(con: duckdb.DuckDBPyConnection, table: str, candidate: Candidate, period: str | None,
          partitions: list[list[Segment]] | None = None) -> Tally:
    """The candidate over every row, counted per period, and per period within each segment of `partitions`
    (each a list of segments that between them hold every row once): one grouped count each."""
    partitions = partitions or []
    expectation = build(candidate)
    failing = expectation.failing_rows_query().replace("{batch}", ident(table))
    own = _own_failures(candidate, expectation)
    groups = ", ".join([ident(period) if period else "NULL", *(grouping_sql(p) for p in partitions)])
    checkable = _checkable_sql(candidate, table)
    checked = con.execute(f"SELECT {groups}, count(*) FROM ({checkable}) GROUP BY ALL").fetchall()
    broken = con.execute(f"SELECT {groups}, count(*) FROM ({failing}) {own} GROUP BY ALL").fetchall()
    trivial: list[tuple[Any, ...]] = []
    if isinstance(candidate, Sum):
        zeros = " AND ".join(f"{ident(c)} = 0" for c in (candidate.total, *candidate.parts))
        trivial = con.execute(f"SELECT {groups}, count(*) FROM ({checkable}) WHERE {zeros} GROUP BY ALL").fetchall()

    def counted(rows: list[tuple[Any, ...]], which: int | None = None, segment: Segment | None = None) -> dict:
        out: dict[Any, int] = {}
        for row in rows:
            if which is None or segment is not None and segment.holds(row[1 + which]):
                out[row[0]] = out.get(row[0], 0) + row[-1]
        return out

    parts = {s: Tally(candidate, counted(checked, i, s), counted(broken, i, s), sum(counted(trivial, i, s).values()))
             for i, partition in enumerate(partitions) for s in partition}
    return Tally(candidate, counted(checked), counted(broken), sum(counted(trivial).values()), parts)


def decide(tallies: list[Tally], threshold: float, period: str | None, all_periods: list[Any],
           partitions: list[list[Segment]] | None = None,
           segment_periods: dict[Segment, list[Any]] | None = None) -> tuple[list[Proposal], list[Rejected]]:
    """What to propose for each target column: at most one rule, or two dividing the periods; or, where the rows
    fall into groups (`partitions`, each group's periods in `segment_periods`), that for each group."""
    by_target: dict[str, list[Tally]] = {}
    for t in tallies:
        by_target.setdefault(t.candidate.target, []).append(t)
    proposals, rejected = [], []
    for options in by_target.values():
        chosen = _choose(options, threshold, period, all_periods)
        for partition in partitions or []:
            split = _choose_by_segment(options, partition, threshold, period, segment_periods or {})
            # Rules by group must hold in more rows than rules for the whole table (the same rule in every group
            # holds in the same rows): every row they hold in more is a correct row the whole table's rules would
            # report, and each group's rules must hold in `threshold` of its own rows, so a coincidence rarely wins.
            if split and _held(split) > _held(chosen):
                chosen = split
        if chosen:
            proposals += chosen
        else:
            best = max(options, key=lambda t: _fraction(*t.within()))
            rejected.append(Rejected(best.candidate, *best.within()))
    return proposals, rejected


def _held(chosen: list[Proposal] | None) -> int:
    return sum(p.holds for p in chosen) if chosen else -1


def _choose(options: list[Tally], threshold: float, period: str | None, all_periods: list[Any]) -> list[Proposal] | None:
    """The best rule for these rows, or two dividing the periods when they hold in more rows than the best rule
    alone (which may be one of them, scoped to the periods it can be checked in)."""
    single = _best_single(options, threshold, period, all_periods)
    pair = _best_pair(options, threshold, period) if period and len(options) > 1 else None
    return pair if _held(pair) > _held(single) else single


def _choose_by_segment(options: list[Tally], partition: list[Segment], threshold: float, period: str | None,
                       segment_periods: dict[Segment, list[Any]]) -> list[Proposal] | None:
    """The rules of each segment, each scoped to it; None unless every segment has its own (a group no rule holds
    in would be left unchecked, its broken rows scoped away)."""
    out: list[Proposal] = []
    for segment in partition:
        chosen = _choose([t.parts[segment] for t in options], threshold, period, segment_periods.get(segment, []))
        if not chosen:
            return None
        for p in chosen:
            p.segment = segment
        out += chosen
    return out


def _fraction(checked: int, broken: int) -> float:
    return (checked - broken) / checked if checked else 0.0


def _holds_enough(t: Tally, checked: int, broken: int, threshold: float) -> bool:
    """Whether a rule holding in `checked - broken` of `checked` rows is one to propose: in `threshold` of them, or,
    for a sum, exactly in half of them and in MIN_CHECKED rows that are not all zeros (see the module's note)."""
    if checked < MIN_CHECKED:
        return False
    exact = isinstance(t.candidate, Sum) and checked - broken - t.trivial >= MIN_CHECKED and _fraction(checked, broken) >= 0.5
    return _fraction(checked, broken) >= threshold or exact


def _best_single(options: list[Tally], threshold: float, period: str | None, all_periods: list[Any]) -> list[Proposal] | None:
    good = []
    for t in options:
        checked, broken = t.within()
        if not _holds_enough(t, checked, broken, threshold):
            continue
        scope = None
        if period and all_periods:
            # Checkable in a range only (a column that starts or stops): scope the rule to that range.
            seen = sorted(p for p, n in t.checked.items() if n and p is not None)
            # A change can never be checked in the first period (it has no previous one): that is no range.
            lagged = isinstance(t.candidate, Change) and t.candidate.base is None
            first = all_periods[1] if lagged and len(all_periods) > 1 else all_periods[0]
            low = seen[0] if seen and seen[0] > first else None
            high = seen[-1] if seen and seen[-1] < all_periods[-1] else None
            scope = (low, high) if low is not None or high is not None else None
        good.append((_fraction(checked, broken), -len(getattr(t.candidate, "parts", ())), checked,
                     Proposal(t.candidate, checked, broken, scope, period)))
    if not good:
        return None
    return [max(good, key=lambda g: g[:3])[3]]


def _best_pair(options: list[Tally], threshold: float, period: str) -> list[Proposal] | None:
    """Two rules that divide the periods: one up to a period, the other after it, each holding in its range."""
    best = None
    for early in options:
        for late in options:
            if early is late:
                continue
            periods = sorted(p for p in set(early.checked) | set(late.checked) if p is not None)
            for i in range(1, len(periods) - 1):
                cut = periods[i]  # early holds up to the period before `cut`, late from `cut`
                e = early.within(None, periods[i - 1])
                t = late.within(cut, None)
                if not (_holds_enough(early, *e, threshold) and _holds_enough(late, *t, threshold)):
                    continue
                score = (e[0] - e[1]) + (t[0] - t[1])
                if best is None or score > best[0]:
                    best = (score, [Proposal(early.candidate, *e, (None, periods[i - 1]), period),
                                    Proposal(late.candidate, *t, (cut, None), period)])
    return best[1] if best else None


def row_name(row: dict[str, Any], key: list[str]) -> str:
    """A row as a person finds it: by its key, as `check` names a finding's row (`year=2013, state=AK`), and by
    its row in the file; by the file row alone when nothing identifies rows."""
    place = f"{row['__file']} row {row['__row']}" if row.get("__file") else f"row {row['__row']}"
    if not key:
        return place
    return key_text({k: row.get(k) for k in key}) + f" ({place})"


def list_exceptions(con: duckdb.DuckDBPyConnection, table: str, proposal: Proposal, label=str,
                    key: list[str] | None = None) -> None:
    """Fill in the first rows that break the proposal, each named by its `key` and explained as check will
    explain it."""
    expectation = proposal.expectation()
    query = expectation.scoped_query().replace("{batch}", ident(table))
    own = _own_failures(proposal.candidate, expectation, tally_only=False)
    zero = "__previous = 0" if isinstance(proposal.candidate, Change) else "false"
    proposal.blank, proposal.from_zero = one_row(
        con, f"SELECT coalesce(count_if(__observed IS NULL), 0), coalesce(count_if(__observed IS NOT NULL AND {zero}), 0) "
             f"FROM ({query}) {own}")
    cursor = con.execute(f"SELECT * FROM ({query}) {own} ORDER BY __row LIMIT {SHOWN_EXCEPTIONS}")
    names = [d[0] for d in cursor.description]
    proposal.exceptions = [dict(zip(names, row)) for row in cursor.fetchall()]
    proposal.messages = [expectation.explain(row, label) for row in proposal.exceptions]
    proposal.rows = [row_name(row, key or []) for row in proposal.exceptions]


