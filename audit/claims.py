"""The claims file: statements a data office (or its city) has published about a dataset.

`datapackages/<dataset>/claims.yaml`, beside the descriptor:

    claims:
      - id: violent-crime-rate-2019
        statement: In 2019 Baltimore's violent crime rate was 2,027.01 per 100,000 residents.
        source: NPSP case study of Baltimore (BJA, 2023)
        stated: "2,027.01"             # as printed; its decimals set the precision
        rate: {count: violent_crime, population: population, per: 100000, where: {year: 2019}}
      - id: homicides-fell-2022
        statement: Homicides fell 11 percent in 2022.
        stated: -11
        percent_change: {column: homicide, from: {year: 2021}, to: {year: 2022}}

Each claim has exactly one computation (value, rate, difference, percent_change;
see `audit.validate.expectations.claims`) and may set `tolerance` (absolute) and
`severity` (warning by default: the data is not wrong, a statement about it is).
Each becomes one `expect_claim_to_be_supported` expectation in the suite run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from audit.errors import ConfigError
from audit.officefile import read_office_file

FILE_NAME = "claims.yaml"
STATED = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?")

# What a claim states: one figure, a rate, a difference or a percent change (audit.validate.expectations.claims
# checks each against the data).
KINDS = ("value", "rate", "difference", "percent_change")


def parse_stated(stated: Any, where: str) -> tuple[float, float]:
    """A stated figure as printed ("2,027.01", "-33%", 1870) -> (value, half a unit of its last digit)."""
    text = str(stated).strip().rstrip("%").strip().replace("\u2212", "-")
    if isinstance(stated, bool) or not STATED.fullmatch(text):
        raise ConfigError(f"{where}: stated value {stated!r} is not a number as printed (like 2,027.01 or -33%)")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return float(text.replace(",", "")), 0.5 * 10 ** (-decimals)


def _columns_named(kind: str, spec: dict[str, Any]) -> list[str]:
    names = [spec.get(k) for k in ("column", "count", "population")]
    for part in ("where", "from", "to"):
        names += list((spec.get(part) or {}).keys())
    return [n for n in names if n]


def _needs(kind: str) -> tuple[str, ...]:
    return {"value": ("column",), "rate": ("count", "population"),
            "difference": ("column", "from", "to"), "percent_change": ("column", "from", "to")}[kind]


def load_claims(path: Path, field_names: list[str]) -> list[dict[str, Any]]:
    """The claims in `path` as GX expectation configurations; [] when there is no file."""
    if not path.is_file():
        return []
    claims = read_office_file(path, "claims")["claims"]  # its shape: audit/schemas/claims.schema.json
    expectations, seen = [], set()
    for number, claim in enumerate(claims, 1):
        where = f"{path}: claim {number}"
        if claim["id"] in seen:
            raise ConfigError(f"{where}: id {claim['id']!r} is used twice")
        seen.add(claim["id"])
        kinds = [k for k in KINDS if k in claim]
        if len(kinds) != 1:
            raise ConfigError(f"{where} ({claim['id']}): give exactly one of {', '.join(KINDS)}")
        kind, spec = kinds[0], claim[kinds[0]]
        if not isinstance(spec, dict) or any(k not in spec for k in _needs(kind)):
            raise ConfigError(f"{where} ({claim['id']}): {kind} needs {', '.join(_needs(kind))}")
        unknown = [c for c in _columns_named(kind, spec) if c not in field_names]
        if unknown:
            raise ConfigError(f"{where} ({claim['id']}): no field {', '.join(map(repr, unknown))} in the dataset")
        stated, half_unit = parse_stated(claim["stated"], where)
        expectation = {
            "type": "expect_claim_to_be_supported",
            "kwargs": {
                "claim_id": str(claim["id"]), "statement": str(claim["statement"]), "source": claim.get("source"),
                "stated": stated, "tolerance": float(claim.get("tolerance", half_unit)), "kind": kind, "spec": spec,
            },
        }
        if claim.get("severity"):  # the findings' word `error` is GX's `critical`
            expectation["severity"] = {"error": "critical"}.get(claim["severity"], claim["severity"])
        expectations.append(expectation)
    return expectations
