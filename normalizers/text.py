"""Plain text from scanner prose: ZAP and dependency-check put HTML in their descriptions."""

from __future__ import annotations

import html
from html.parser import HTMLParser

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


def truncate(value: str, limit: int, marker: str = "…") -> str:
    """Cut to `limit` characters, marking the cut, so a limit never yields an empty field."""
    return value if len(value) <= limit else value[: limit - len(marker)] + marker
