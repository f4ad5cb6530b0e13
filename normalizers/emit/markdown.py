"""Scanner text made inert for Markdown renderers (GitHub rule help, job summaries).

Scanner prose is attacker-influenced: a ZAP description echoes what the target served and
a package description is whatever its author wrote. Rendered raw, it could inject HTML,
fake headings, links, tables, `@mentions` or `#issue` references into a PR. So every
Markdown metacharacter is backslash-escaped (CommonMark lets any ASCII punctuation be
escaped) and `&`, `<`, `>` become entities, so no tag or autolink survives.
"""

from __future__ import annotations

import functools
import html
import re
from urllib.parse import quote, urlsplit

from normalizers.caches import ADVISORIES_REMEMBERED

_MARKDOWN_PUNCTUATION = re.compile(r"[\\`*_{}\[\]()#+\-.!|~=^@:\"'$]")
_LINK_SAFE = ":/?#@!$&'*+,;=%~-._"  # parentheses, spaces and brackets get percent-encoded


def escape_markdown(text: str) -> str:
    """Text that renders as itself: no emphasis, links, headings, HTML or mentions."""
    return _MARKDOWN_PUNCTUATION.sub(_backslashed, html.escape(text, quote=False))


def _backslashed(match: re.Match[str]) -> str:
    # A function rather than a replacement template, which sre expands in Python at every match (2 to 10x slower).
    return "\\" + match[0]


@functools.lru_cache(maxsize=ADVISORIES_REMEMBERED)  # advisories share reference pages (a bulletin names many CVEs)
def markdown_link(url: str) -> str:
    """A link for http(s) URLs; anything else (javascript:, data:, relative) stays escaped text."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return escape_markdown(url)
    return f"[{escape_markdown(url)}]({quote(url.strip(), safe=_LINK_SAFE)})"
