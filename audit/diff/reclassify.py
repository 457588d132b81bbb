"""Reclassifications: incidents whose offence code changed between releases.

The offence field is the one whose descriptor maps codes to `categories`.
Moves are counted by (from category, to category) and, where the descriptor
says so, by place and period:

    reclassification:
      by: [district]          # fields to count by (the new release's value)
      period: occurred        # date field, counted by `grain`
      grain: month            # year, quarter, month, week or day
      violent: [homicide, rape, robbery, aggravated_assault]   # the default

A move out of a violent category into one that is not (or into no category) is
a downgrade: the pattern behind past crime-statistics scandals, reported
whether or not a note explains it so that an auditor sees the volume.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from audit.dataset import Dataset, Field, header_key
from audit.diff.compare import DIFF_ROWS, Columns, new, old
from audit.diff.notes import RevisionNote, covering_note_sql
from audit.errors import ConfigError
from audit.sql import GRAINS, ident, literal, period_sql

RECLASSIFICATIONS = "reclassifications"
# FBI Uniform Crime Reporting's violent offences, as category names (compared ignoring case and punctuation).
VIOLENT = ("homicide", "murder", "rape", "robbery", "aggravated_assault")


@dataclass(frozen=True)
class Reclassification:
    """How a dataset's reclassifications are counted (from its descriptor)."""

    offence: Field
    by: list[str] = field(default_factory=list)
    period: str | None = None
    grain: str = "month"
    violent: tuple[str, ...] = VIOLENT


def reclassification_settings(dataset: Dataset) -> Reclassification | None:
    """The settings for `dataset`, or None when no field maps offence codes to categories."""
    offences = [f for f in dataset.fields if f.categories]
    if not offences:
        return None
    where = f"{dataset.descriptor_path}: reclassification"
    entry = dataset.descriptor.get("reclassification") or {}
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping with by, period, grain, violent")
    names = {f.name for f in dataset.fields}
    by = list(entry.get("by") or [])
    unknown = [c for c in [*by, entry.get("period")] if c is not None and c not in names]
    if unknown:
        raise ConfigError(f"{where}: the dataset has no field {', '.join(map(repr, unknown))}")
    grain = entry.get("grain", "month")
    if grain not in GRAINS:
        raise ConfigError(f"{where}: grain {grain!r} is not one of {', '.join(GRAINS)}")
    violent = tuple(entry.get("violent") or VIOLENT)
    categories = {header_key(c) for c in offences[0].categories.values()}
    if entry.get("violent") and not {header_key(v) for v in violent} <= categories:
        raise ConfigError(f"{where}: violent names categories no code maps to")
    return Reclassification(offences[0], by, entry.get("period"), grain, violent)


def summarise_reclassifications(
    con: duckdb.DuckDBPyConnection, settings: Reclassification, cols: Columns, dataset: Dataset,
    notes: list[RevisionNote],
) -> None:
    """Create `reclassifications`: incidents moved, explained and downgraded, per category move, place and period."""
    code = settings.offence.name
    body = ", ".join(f"({literal(k)}, {literal(v)})" for k, v in settings.offence.categories.items())
    violent = ", ".join(literal(header_key(v)) for v in settings.violent)

    def is_violent(category: str) -> str:
        return f"coalesce(regexp_replace(lower({category}), '[^0-9a-z]+', '', 'g') IN ({violent}), false)"

    groups = [f"{cols.row_value(c)} AS {ident(c)}" for c in settings.by]
    if settings.period:
        groups.append(f"{period_sql(cols.row_value(settings.period), settings.grain)} AS period")
    note = covering_note_sql(notes, dataset, cols.row_value, code, "changed")
    con.execute(
        f"CREATE OR REPLACE TABLE {RECLASSIFICATIONS} AS "
        f"WITH codes(code, category) AS (VALUES {body}), moves AS ("
        f"SELECT f.category AS from_category, t.category AS to_category, "
        f"{', '.join([*groups, f'{note} IS NOT NULL AS explained'])} "
        f"FROM {DIFF_ROWS} r LEFT JOIN codes f ON CAST(r.{old(code)} AS VARCHAR) = f.code "
        f"LEFT JOIN codes t ON CAST(r.{new(code)} AS VARCHAR) = t.code "
        f"WHERE __in_old AND __in_new AND r.{old(code)} IS DISTINCT FROM r.{new(code)}) "
        f"SELECT * EXCLUDE (explained), count(*) AS incidents, count(*) FILTER (explained) AS explained, "
        f"{is_violent('from_category')} AND NOT {is_violent('to_category')} AS downgrade "
        f"FROM moves GROUP BY ALL ORDER BY ALL"
    )
