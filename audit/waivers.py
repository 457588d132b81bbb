"""Waivers: findings a data office has accepted, each with a reason.

A waiver never hides a finding: the finding stays in every report, log entry
and package, marked waived with the reason, and stops blocking publication.

    version: 1
    waivers:
      - check: category-sum          # finding code
        key: {year: 2021}            # primary-key values of the row
        observed: 10344              # optional: pin the figures, so a changed
        expected: 9399               #   value is a new finding, not a waived one
        reason: ...
        approved_by: ...
        reference: ...               # optional
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from audit.errors import ConfigError
from audit.findings import Finding
from audit.yamlfile import read_yaml_list

REQUIRED = ("check", "reason", "approved_by")


def load_waivers(path: str | Path | None) -> list[dict[str, Any]]:
    if path is None:
        return []
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"waiver file {path} does not exist")
    waivers = read_yaml_list(path, "waivers")
    for number, waiver in enumerate(waivers, 1):
        missing = [k for k in REQUIRED if not (isinstance(waiver, dict) and waiver.get(k))]
        if missing:
            raise ConfigError(f"{path}: waiver {number} lacks {', '.join(missing)}")
    return waivers


def _covers(waiver: dict[str, Any], finding: Finding) -> bool:
    if waiver["check"] != finding.check:
        return False
    if any(str(finding.key.get(k)) != str(v) for k, v in (waiver.get("key") or {}).items()):
        return False
    if waiver.get("columns") and not set(waiver["columns"]) & set(finding.columns):
        return False
    return all(waiver[k] == getattr(finding, k) for k in ("expected", "observed") if k in waiver)


def apply_waivers(findings: list[Finding], waivers: list[dict[str, Any]]) -> tuple[list[Finding], list[dict[str, Any]]]:
    """Mark covered findings waived; return them with the waivers that covered nothing."""
    used: set[int] = set()
    out = []
    for finding in findings:
        match = next((i for i, w in enumerate(waivers) if _covers(w, finding)), None)
        if match is None:
            out.append(finding)
            continue
        used.add(match)
        out.append(replace(finding, waived=True, waiver_reason=waivers[match]["reason"]))
    return out, [w for i, w in enumerate(waivers) if i not in used]
