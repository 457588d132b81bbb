"""The office's branding on every page written for people (the site, the report pages): its name, its logo and
its accent colour, from the workspace's audit.yaml (`site:`), checked once here."""

from __future__ import annotations

import base64
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.errors import ConfigError

DEFAULT_ACCENT = "#1f4e79"


@dataclass(frozen=True)
class Branding:
    name: str | None             # None: the workspace names no office (pages fall back to the data's publisher)
    accent: str
    logo: Path | None = None
    public_key: Path | None = None

    def logo_data_uri(self) -> str | None:
        """The logo inside the page itself, so a page that is one file stays one file."""
        if self.logo is None:
            return None
        kind = mimetypes.guess_type(self.logo.name)[0] or "application/octet-stream"
        return f"data:{kind};base64,{base64.b64encode(self.logo.read_bytes()).decode()}"


def contrast(colour: str) -> float:
    """WCAG contrast of `colour` (#rrggbb) against white."""
    def channel(byte: int) -> float:
        c = byte / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 1.05 / (0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b) + 0.05)


def branding(config: dict[str, Any], workspace_root: Path) -> Branding:
    site = config.get("site") or {}
    accent = site.get("accent") or DEFAULT_ACCENT
    if contrast(accent) < 4.5:
        raise ConfigError(f"audit.yaml: site.accent {accent} is too light for text on white (contrast "
                          f"{contrast(accent):.1f}:1; WCAG 2.1 AA asks for 4.5:1)")
    files = {}
    for key in ("logo", "public_key"):
        if site.get(key):
            path = workspace_root / site[key]
            if not path.is_file():
                raise ConfigError(f"audit.yaml: site.{key} {site[key]!r} is not a file in the workspace")
            files[key] = path
    return Branding(site.get("name"), accent, files.get("logo"), files.get("public_key"))
