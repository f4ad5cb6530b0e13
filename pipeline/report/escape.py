"""Escaping scanner text for the places it goes: GitHub Markdown, workflow commands, links.

Scanner text is attacker-controlled: a ZAP alert quotes whatever the scanned site sent, and
a SAST snippet is whatever a pull request wrote. None of it may become markup in a PR.
HTML needs no function here: the HTML report's Jinja2 environment autoescapes everything.
"""

from __future__ import annotations

import string
from urllib.parse import quote, urlsplit

from normalizers.text import truncate

# Characters that change meaning in GitHub's Markdown, or that break a table row, and
# what they become. CommonMark lets every ASCII punctuation character be backslash-escaped
# (spec §2.4), so escaping all of it needs no knowledge of which construct could start
# where: links, images, emphasis, headings, tables (`|`), autolinks (`:`, `.`) all die.
# `<`, `>` and `&` become entities, which also hold inside raw-HTML-looking runs. `@` gets a
# zero-width space after it: GitHub links mentions after rendering, on decoded text, so
# neither `\@` nor `&#64;` stops a mention, but `@\u200bname` is no longer one.
_MARKDOWN_TABLE: dict[int, str | None] = {ord(c): "\\" + c for c in string.punctuation}
_MARKDOWN_TABLE.update({ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord("@"): "@\u200b"})
# Line breaks end a table row and a list item: scanner text is kept on one line.
_LINE_BREAKS = "\r\n\t\f\v\u2028\u2029\x85"
_MARKDOWN_TABLE.update({ord(c): " " for c in _LINE_BREAKS})
# Other control characters and bidirectional overrides (Trojan Source) carry no meaning
# worth keeping in a summary and can disguise what a reviewer reads.
_INVISIBLE = [*range(0x00, 0x09), 0x0E, 0x0F, *range(0x10, 0x20), 0x7F,
              *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_MARKDOWN_TABLE.update(dict.fromkeys(_INVISIBLE))

_PLAIN_TABLE: dict[int, str | None] = dict.fromkeys(_INVISIBLE)
_CONSOLE_TABLE: dict[int, str | None] = {ord(c): " " for c in _LINE_BREAKS}
_CONSOLE_TABLE.update(dict.fromkeys(_INVISIBLE))

CELL_LIMIT = 160  # characters of a title, rule, location or fact shown in a table cell
SAFE_URL_SCHEMES = frozenset({"http", "https"})
# Characters left as they are in a link target; everything else (spaces, quotes, brackets,
# parentheses, backslashes, `<>`) is percent-encoded so the target cannot end early.
_URL_SAFE_CHARACTERS = "/:?#&=+%~-._,;!*$@"


def plain_text(text: str) -> str:
    """Scanner text without control characters or bidirectional overrides, line breaks kept.

    Applied to everything a report shows, whatever the format: a U+202E in a finding's
    title would otherwise reorder what a reviewer reads, in HTML and PDF as much as Markdown.
    """
    return text.translate(_PLAIN_TABLE)


def cell_text(text: str, limit: int = CELL_LIMIT) -> str:
    """Scanner text as a report cell shows it: plain text, shortened to `limit` characters."""
    return truncate(plain_text(text), limit)


def escape_markdown(text: object) -> str:
    """Plain text that GitHub's Markdown renders literally, on one line, in a table cell too."""
    return str(text).translate(_MARKDOWN_TABLE)


def safe_url(url: str | None) -> str | None:
    """An http(s) URL made safe to put in a Markdown link target or an HTML href; else None.

    `javascript:`, `data:`, relative and malformed URLs are refused, not repaired.
    """
    if not url:
        return None
    candidate = url.strip()
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_URL_SCHEMES or not parts.hostname:
        return None
    return quote(candidate, safe=_URL_SAFE_CHARACTERS)


def markdown_link(text: object, url: str | None) -> str:
    """`[text](url)` with both parts escaped, or the escaped text alone when the URL is unsafe."""
    label = escape_markdown(text)
    target = safe_url(url)
    return f"[{label}]({target})" if target else label


def console_text(text: object) -> str:
    """Scanner text for a log line: no line breaks (a line starting `::` is a workflow
    command on GitHub's runner) and no control characters (terminal escape sequences)."""
    return str(text).translate(_CONSOLE_TABLE)


def command_data(text: object) -> str:
    """A workflow command's message, escaped as @actions/core's `escapeData` does."""
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def command_property(text: object) -> str:
    """A workflow command's property value, escaped as @actions/core's `escapeProperty` does."""
    return command_data(text).replace(":", "%3A").replace(",", "%2C")
