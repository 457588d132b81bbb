"""The Jinja2 templates of every page the tool writes for people: the public site and the report page."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def environment():
    """One environment: templates autoescaped, a missing value an error, figures as people read them."""
    import jinja2

    from audit.findings import shown

    env = jinja2.Environment(loader=jinja2.PackageLoader("audit.publish", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2", "atom"]),
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["figure"] = shown
    env.filters["linkable"] = linkable
    env.filters["cell"] = _cell
    return env


def _cell(value):
    """A value in a table cell: whole figures with separators, at most four decimals, JSON for structures."""
    import json

    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return "" if value is None else str(value)


SAFE_SCHEMES = ("http", "https", "mailto")


def linkable(url: object) -> bool:
    """Whether an address from an office's file may be a link on a page: http, https or mailto only (a
    `javascript:` or `data:` address would run in the reader's browser); anything else is shown as text."""
    import urllib.parse

    text = str(url or "").strip()
    return bool(text) and urllib.parse.urlsplit(text).scheme.lower() in SAFE_SCHEMES
