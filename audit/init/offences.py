"""Which column of an incident table names the offence, and the category each of its values counts under.

A weekly export names offences in its own words ("Shoplifting", "AGG. ASSAULT", "Robbery - Carjacking"). The
offence column is found by its values, never its name: text with a few dozen values at most, repeated across
rows, most of whose values read as offences. Each value is given the Uniform Crime Reporting category its words
name; a value whose words name none is left a TODO for the office, which the publication gate then asks for. A
field with `categories` is what makes the diff count reclassifications, and downgrades out of the violent
categories (audit.diff.reclassify).

The words are the categories' own and their common synonyms, read in order, so the first that matches wins:
"aggravated assault" before "assault", "auto theft" before "theft", a robbery of a car before a car theft.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from audit.init.profile import Profile
from audit.sql import ident

CATEGORY_WORDS: tuple[tuple[str, str], ...] = (
    (r"homicide|murder|manslaughter", "homicide"),
    (r"rape|sexual assault|sex assault|sodomy", "rape"),
    (r"robbery|carjack|hold ?up|mugging", "robbery"),
    (r"agg(ravated|\.)? ?(assault|aslt|battery)|shooting|assault with a (deadly|dangerous) weapon|adw", "aggravated_assault"),
    (r"burglary|breaking and entering|b ?& ?e|break[- ]in|housebreaking", "burglary"),
    (r"(auto|motor vehicle|vehicle|car) theft|stolen (auto|vehicle|car)|mvt|gta", "motor_vehicle_theft"),
    (r"arson", "arson"),
    (r"larceny|theft|shoplift|pickpocket|purse snatch|stolen", "larceny"),
    (r"(simple|common) (assault|battery)|assault|battery", "simple_assault"),
    (r"fraud|forgery|counterfeit|embezzle", "fraud"),
    (r"vandal|criminal mischief|destruction of property|graffiti", "vandalism"),
    (r"weapon|firearm violation|carrying", "weapons"),
    (r"narcotic|drug|controlled substance", "drugs"),
    (r"dui|dwi|driving under", "dui"),
    (r"disorderly|disturbing the peace", "disorderly_conduct"),
    (r"trespass", "trespass"),
)
TODO = "TODO: the category of {value!r}"
# At most this many values: an offence list, not free text or an address.
MAX_VALUES = 100


@dataclass(frozen=True)
class Offences:
    column: str                    # the field's name
    categories: dict[str, str]     # value -> category (or a TODO)

    @property
    def named(self) -> int:
        """How many values were given a category by their words."""
        return sum(not c.startswith("TODO") for c in self.categories.values())


def category_of(value: str) -> str | None:
    """The category `value`'s words name, or None."""
    words = " " + re.sub(r"[^0-9a-z&.]+", " ", value.lower()) + " "
    for pattern, category in CATEGORY_WORDS:
        # Every alternative starts a word: "adw" is no part of "Broadway", "dui" none of "conduit".
        if re.search(rf"(?<![a-z])(?:{pattern})", words):
            return category
    return None


def find_offences(con: duckdb.DuckDBPyConnection, table: str, profile: Profile, keys: list[str]) -> Offences | None:
    """The offence column of `table` (typed, as init leaves it) and its categories; None when no column's values
    read mostly as offences (a summary table, or incidents whose offence is a code the words cannot place)."""
    best: tuple[float, Offences] | None = None
    for c in profile.columns:
        if c.type != "string" or c.name in keys or c.positional or c.distinct < 2:
            continue
        if c.distinct > 0.75 * (profile.rows - c.nulls):  # values mostly unique are descriptions, not a list
            continue
        values = [v for (v,) in con.execute(f"SELECT DISTINCT {ident(c.name)} FROM {ident(table)} "
                                            f"WHERE {ident(c.name)} IS NOT NULL ORDER BY 1 "
                                            f"LIMIT {MAX_VALUES + 1}").fetchall()]
        if len(values) > MAX_VALUES:
            continue
        named = {v: category_of(str(v)) for v in values}
        share = sum(1 for v in named.values() if v) / len(values)
        if share >= 0.5 and (best is None or share > best[0]):
            best = (share, Offences(c.name, {str(v): named[v] or TODO.format(value=v) for v in values}))
    return best[1] if best else None
