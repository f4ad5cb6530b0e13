"""Plain text from scanner prose: ZAP and dependency-check put HTML in their descriptions."""

from __future__ import annotations

import functools
import html
import re
from html.parser import HTMLParser

from normalizers.caches import ADVISORIES_REMEMBERED

_BLOCK_TAGS = frozenset({"p", "br", "li", "div", "tr", "ul", "ol", "pre", "h1", "h2", "h3", "h4"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip_depth:
            self._skip_depth -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(value: str | None) -> str:
    """Tags dropped, entities decoded, blank lines collapsed. Plain text passes unchanged."""
    if not value:
        return ""
    if "<" not in value and "&" not in value:
        return value.strip()
    extractor = _TextExtractor()
    extractor.feed(value)
    extractor.close()
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).splitlines())
    return "\n".join(line for line in lines if line)


def unescape(value: str | None) -> str:
    return html.unescape(value or "").strip()


_WEB_URL = re.compile(r"(?i:https?)://[^/\s]+\S*")


def web_url(value: str | None) -> str | None:
    """An http(s) URL with a host and no whitespace inside, stripped; anything else is no URL at all."""
    url = (value or "").strip()
    return url if _WEB_URL.fullmatch(url) else None


@functools.lru_cache(maxsize=ADVISORIES_REMEMBERED)
def web_urls(values: tuple[str, ...]) -> tuple[str, ...]:
    """The values that are web URLs (`web_url`), in order; cached, as reports repeat one advisory's list."""
    return tuple(url for url in map(web_url, values) if url)


def truncate(value: str, limit: int, marker: str = "…") -> str:
    """Cut to `limit` characters, marking the cut, so a limit never yields an empty field."""
    return value if len(value) <= limit else value[: limit - len(marker)] + marker


# Trivy's SARIF messages open with a block of labels ("Artifact: x", "Type: y",
# "Vulnerability DS-0002", "Severity: HIGH", "Message: …", "Link: [id](url)"). Everything but the
# message is already in the finding (location, rule, severity); the link becomes a reference.
_HEADER_LINE = re.compile(
    r"^(?:(?P<label>artifact|type|target|class|severity|package|pkgpath|installed version|fixed version|"
    r"version|fix version|location|data namespace|resource|line|check|message|link):[ \t]*(?P<value>.*)"
    r"|(?:vulnerability|misconfiguration|secret)[ \t]+\S+)$",
    re.I,
)
_MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\((https?://[^)\s]+)\)|(https?://\S+)")
_METAVARIABLE = re.compile(r"\$[A-Z_][A-Z0-9_]*")


def split_labelled_header(text: str) -> tuple[str, tuple[str, ...]]:
    """(the text without a leading Trivy-style label block, the links the block held).

    The block's "Message:" is kept as the first line of what remains; text that does not open
    with at least two label lines is returned unchanged.
    """
    lines = text.strip().splitlines()
    matches = []
    for line in lines:
        match = _HEADER_LINE.match(line.strip())
        if match is None:
            break
        matches.append(match)
    if len(matches) < 2:
        return text.strip(), ()
    body, links = [], []
    for match in matches:
        label = (match.group("label") or "").lower()
        if label == "message":
            body.append(match.group("value"))
        elif label == "link":
            links += [a or b for a, b in _MARKDOWN_LINK.findall(match.group("value"))]
    body += lines[len(matches):]
    return "\n".join(body).strip(), tuple(links)


def resolve_metavariables(template: str, resolved: str) -> str | None:
    """A rule text with Semgrep metavariables ($FUNC) filled from the result message that resolved them.

    The message is the same sentence with the values in (Semgrep resolves messages, not rule
    descriptions); where the template does not match it the values are unknown and None is
    returned, so a "$METHOD()" never reaches a reader.
    """
    names = _METAVARIABLE.findall(template)
    if not names:
        return template
    pattern = "(.+?)".join(re.escape(part) for part in _METAVARIABLE.split(template))
    for candidate in (resolved.strip(), *(line.strip() for line in resolved.splitlines())):
        match = re.fullmatch(pattern, candidate, re.S)
        if match:
            return _filled(template, dict(zip(names, match.groups(), strict=True)))
    return None


def _filled(template: str, values: dict[str, str]) -> str:
    return _METAVARIABLE.sub(lambda m: values[m.group(0)], template)


def without_title(description: str, title: str) -> str:
    """The description minus a copy of the title at its start (Bandit and Semgrep repeat it)."""
    text, head = description.strip(), title.strip().rstrip(".")
    if not head or not text.startswith(head):
        return text
    rest = text[len(head):]
    if rest and rest[0] not in ".:\n":
        return text  # the title is only the start of a longer sentence
    return rest.lstrip(".:").strip()
