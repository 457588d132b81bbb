"""Text from an office's files, or from the data, written into Markdown (a package's README) as text: never as markup
a renderer would act on (an HTML tag, a link, an image), whatever it holds."""

from __future__ import annotations

import re

# CommonMark lets any ASCII punctuation be escaped with a backslash; these are the ones that start markup.
_MARKUP = re.compile(r"([\\`*_\[\]<>!#|~&])")


def md(text: object) -> str:
    """`text` as Markdown text: every character that could start markup escaped, line breaks kept as spaces."""
    return _MARKUP.sub(r"\\\1", " ".join(str(text if text is not None else "").split()))


def md_link(url: object) -> str:
    """An address as an autolink when a reader may follow it (http, https, mailto), else as escaped text."""
    from audit.publish.templates import linkable

    return f"<{url}>" if linkable(url) and not re.search(r"[\s<>]", str(url)) else md(url)
