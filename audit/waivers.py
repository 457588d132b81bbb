"""Waivers: findings a data office has accepted, each with a reason.

A waiver never hides a finding: the finding stays in every report, log entry
and package, marked waived with the reason, and stops blocking publication.

    version: 1
    waivers:
      - check: category-sum          # finding code
        key: {year: 2021}            # primary-key values of the row(s) it covers
        observed: 10344              # optional: pin the figures, so a changed
        expected: 9399               #   value is a new finding, not a waived one
        reason: ...
        approved_by: ...
        reference: ...               # optional
      - check: formula-injection
        all: true                    # every finding of the check: it must be said explicitly
        reason: ...
        approved_by: ...

The file is read against `audit/schemas/waivers.schema.json`: an unknown or misspelt entry (`kye:`) is an
input error, never a waiver that covers more than it says. Each report says how many findings each waiver
covered.
"""

from __future__ import annotations

import difflib
from dataclasses import replace
from pathlib import Path
from typing import Any

from audit.errors import ConfigError
from audit.findings import CHECKS, Finding, WaiverUse
from audit.officefile import read_office_file


def load_waivers(path: str | Path | None) -> list[dict[str, Any]]:
    if path is None:
        return []
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"waiver file {path} does not exist")
    waivers = read_office_file(path, "waivers")["waivers"]
    for number, waiver in enumerate(waivers, 1):
        check = waiver["check"]
        if check not in CHECKS and not check.startswith("expect_"):
            near = difflib.get_close_matches(check, list(CHECKS), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else " (see the README's finding codes)"
            raise ConfigError(f"{path}: waiver {number}: {check!r} is not a finding code{hint}")
    return waivers


def _covers(waiver: dict[str, Any], finding: Finding) -> bool:
    if waiver["check"] != finding.check:
        return False
    if not waiver.get("all"):
        key = waiver["key"]
        if not key and finding.key:  # `key: {}` is a table-level finding, not every row
            return False
        if any(str(finding.key.get(k)) != str(v) for k, v in key.items()):
            return False
    if waiver.get("columns") and not set(waiver["columns"]) & set(finding.columns):
        return False
    return all(waiver[k] == getattr(finding, k) for k in ("expected", "observed") if k in waiver)


def require_known_keys(waivers: list[dict[str, Any]], fields: set[str], findings: list[Finding], source: str,
                       dataset: str) -> None:
    """A waiver's key names fields of the dataset (or of a finding's key, such as a claim's id): a misspelt field
    (`yaer: 2021`) would waive nothing and leave the finding open as if the office had not waived it."""
    known = fields | {name for f in findings for name in f.key}
    for number, waiver in enumerate(waivers, start=1):
        for name in waiver.get("key") or {}:
            if name not in known:
                near = difflib.get_close_matches(str(name), sorted(known), n=1)
                raise ConfigError(f"{source}: waiver {number}: its key names {name!r}, which is no field of "
                                  f"{dataset}" + (f"; did you mean {near[0]!r}?" if near else ""))


def apply_waivers(findings: list[Finding], waivers: list[dict[str, Any]]) -> tuple[list[Finding], list[WaiverUse]]:
    """Mark covered findings waived (by the first waiver that covers each); return them with every waiver and
    the number of findings it covered."""
    covered = [0] * len(waivers)
    out = []
    for finding in findings:
        match = next((i for i, w in enumerate(waivers) if _covers(w, finding)), None)
        if match is None:
            out.append(finding)
            continue
        covered[match] += 1
        out.append(replace(finding, waived=True, waiver_reason=waivers[match]["reason"]))
    return out, [WaiverUse(w, n) for w, n in zip(waivers, covered)]
