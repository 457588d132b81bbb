"""Summary tables whose period is in their headers ("5/26-6/8", "vs. 5/12-5/25", "Violent 5/26-6/8"): the
reshape templates that read them long (audit.ingest.reshape), found from the headers of a first release.

Each header holding a date (5/26, 5/26/2025, 2025-05-26) or a range of them is written as a template with the date
replaced by a placeholder, and the headers that share a template are one field. The period that makes rows is the
one a template repeats over (Violent 5/26-6/8, Violent 5/12-5/25), else the latest; a date that only appears
beside it (vs. 5/12-5/25, the weeks compared with) is a placeholder of its own, `previous`. A year alone (2024
Murder) is not such a date: a table of years side by side keeps its columns (audit.init.arithmetic pairs them).
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from audit.ingest.infer import field_name

_DAY = r"(?:\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{4}-\d{2}-\d{2})"
DATED = re.compile(rf"(?<![0-9/]){_DAY}(?:\s*(?:-|–|to|thru|through)\s*{_DAY})?(?![0-9/])")


def _last_day(token: str) -> tuple[int, ...]:
    """Where a date or range ends, to order periods: (year if written, month, day)."""
    last = re.findall(r"\d+", token)
    if re.search(r"\d{4}-\d{2}-\d{2}$", token):
        return tuple(int(n) for n in last[-3:])
    numbers = [int(n) for n in last]
    if len(numbers) >= 3 and numbers[-1] > 31:  # m/d/yyyy
        return (numbers[-1], numbers[-3], numbers[-2])
    return (0, numbers[-2], numbers[-1])


def dated_templates(headers: list[str]) -> dict[str, Any] | None:
    """The resource's `reshape` for these headers, or None when no header holds a date."""
    templates: dict[str, list[str]] = defaultdict(list)   # template (with {} for the date) -> the dates
    for header in headers:
        found = DATED.findall(header.strip())
        if len(found) == 1:
            templates[DATED.sub("{}", header.strip())].append(found[0])
    if not templates:
        return None
    repeated = [dates for dates in templates.values() if len(dates) > 1]
    if repeated:
        periods = set(repeated[0])
    else:
        periods = {max((d for dates in templates.values() for d in dates), key=_last_day)}
    taken: set[str] = set()
    columns = []
    for template, dates in templates.items():
        placeholder = "period" if set(dates) & periods else "previous"
        name = field_name(template.replace("{}", " ").strip(" .:-") or "value", taken)
        columns.append({"header": template.replace("{}", "{" + placeholder + "}"), "field": name})
    return {"columns": columns}
