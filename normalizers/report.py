"""A report's bytes, parsed at most once as JSON or XML, for sniffing and parsing alike."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

import orjson
from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

from normalizers.errors import MalformedReportError, ReportTooLargeError

DEFAULT_MAX_BYTES = 1024 * 1024 * 1024  # 1 GiB: bigger than any real report, smaller than RAM


@dataclass(frozen=True)
class Report:
    """An input report. `source` names it in errors; it is never used to pick a parser."""

    source: str
    raw: bytes

    @classmethod
    def from_path(cls, path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Report:
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
        if len(raw) > max_bytes:
            raise ReportTooLargeError(f"{path}: larger than the {max_bytes} byte limit")
        return cls(source=path, raw=raw)

    @functools.cached_property
    def stripped(self) -> bytes:
        return self.raw.lstrip(b"\xef\xbb\xbf \t\r\n")

    @property
    def looks_like_json(self) -> bool:
        return self.stripped[:1] in (b"{", b"[") or self.stripped[:4] == b"null"

    @property
    def looks_like_xml(self) -> bool:
        return self.stripped[:1] == b"<"

    @functools.cached_property
    def json(self) -> Any:
        """The parsed JSON document; MalformedReportError when it does not parse."""
        if not self.stripped:
            raise MalformedReportError(f"{self.source}: the report is empty")
        try:
            return orjson.loads(self.stripped)
        except orjson.JSONDecodeError as exc:
            raise MalformedReportError(f"{self.source}: not valid JSON ({exc})") from None

    @functools.cached_property
    def xml(self) -> Element:
        """The parsed XML root, with entity and DTD attacks refused by defusedxml."""
        if not self.stripped:
            raise MalformedReportError(f"{self.source}: the report is empty")
        try:
            return SafeElementTree.fromstring(self.stripped)
        except SafeElementTree.ParseError as exc:
            raise MalformedReportError(f"{self.source}: not well-formed XML ({exc})") from None
        except DefusedXmlException as exc:
            raise MalformedReportError(f"{self.source}: refused unsafe XML ({exc})") from None

    @property
    def text(self) -> str:
        try:
            return self.raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedReportError(f"{self.source}: not UTF-8 text ({exc})") from None

    def json_or_none(self) -> Any:
        """The JSON document when this is JSON at all, else None; for cheap sniffing."""
        if not self.looks_like_json:
            return None
        try:
            return self.json
        except MalformedReportError:
            return None

    def xml_or_none(self) -> Element | None:
        if not self.looks_like_xml:
            return None
        try:
            return self.xml
        except MalformedReportError:
            return None


def local_name(tag: str) -> str:
    """`{namespace}name` -> `name`: dependency-check and ZAP XML differ only in namespaces."""
    return tag.rsplit("}", 1)[-1]
