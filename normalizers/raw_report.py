"""A report's bytes, parsed at most once as JSON or XML, for sniffing and parsing alike."""

from __future__ import annotations

import functools
import json
import os
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

from normalizers.errors import MalformedReportError, ReportTooLargeError

DEFAULT_MAX_BYTES = 1024 * 1024 * 1024  # 1 GiB: bigger than any real report, smaller than RAM
_HEAD_BYTES = 64 * 1024


class Report:
    """An input report. `source` names it in errors; it is never used to pick a parser.

    A report read from a path is not kept in memory as bytes: sniffing reads its head, and
    `json`/`xml` read the file, parse it and let the bytes go, so a 180 MB report costs its
    parsed form only, not its parsed form plus its bytes (benchmarks/normalize.py).
    """

    def __init__(self, source: str, raw: bytes | None = None, *, path: str | None = None) -> None:
        if raw is None and path is None:
            raise ValueError("a Report needs bytes or a path")
        self.source = source
        self._raw = raw
        self._path = path

    @classmethod
    def from_path(cls, path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Report:
        size = os.stat(path).st_size
        if size > max_bytes:
            raise ReportTooLargeError(f"{path}: {size} bytes is over the {max_bytes} byte limit")
        with open(path, "rb"):  # fail now, with the OS's reason, if it cannot be read
            pass
        return cls(source=path, path=path)

    def _read(self) -> bytes:
        if self._raw is not None:
            return self._raw
        with open(str(self._path), "rb") as handle:
            return handle.read()

    @property
    def raw(self) -> bytes:
        """All the bytes; text formats need them, JSON and XML parsing does not keep them."""
        if self._raw is None:
            self._raw = self._read()
        return self._raw

    @functools.cached_property
    def head(self) -> bytes:
        """The first 64 KiB without BOM or leading whitespace: enough for every sniff."""
        if self._raw is not None:
            return _strip_leading(self._raw[:_HEAD_BYTES])
        with open(str(self._path), "rb") as handle:
            return _strip_leading(handle.read(_HEAD_BYTES))

    @property
    def is_empty(self) -> bool:
        return not self.head and not _strip_leading(self._read())

    @property
    def stripped(self) -> bytes:
        return _strip_leading(self.raw)

    @property
    def looks_like_json(self) -> bool:
        return self.head[:1] in (b"{", b"[") or self.head[:4] == b"null"

    @property
    def looks_like_xml(self) -> bool:
        return self.head[:1] == b"<"

    @functools.cached_property
    def json(self) -> Any:
        """The parsed JSON document; MalformedReportError when it does not parse.

        The standard library, not orjson, on purpose: orjson peaks at ~4.9x the input size
        while parsing (it builds an intermediate tree), json at ~3.2x, for 15% more time; and
        a file is decoded straight to text so its bytes are never held beside it. Memory is
        the limit that breaks the importer Lambda; time is not.
        """
        try:
            content = self._text_for_json()
            if not content:
                raise MalformedReportError(f"{self.source}: the report is empty")
            return json.loads(content)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise MalformedReportError(f"{self.source}: not valid JSON ({exc})") from None

    def _text_for_json(self) -> str:
        if self._raw is not None:
            return _strip_leading(self._raw).decode("utf-8")
        with open(str(self._path), encoding="utf-8-sig") as handle:
            return handle.read().lstrip()

    @functools.cached_property
    def xml(self) -> Element:
        """The parsed XML root, with entity and DTD attacks refused by defusedxml."""
        content = _strip_leading(self._read())
        if not content:
            raise MalformedReportError(f"{self.source}: the report is empty")
        try:
            return SafeElementTree.fromstring(content)
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


def _strip_leading(data: bytes) -> bytes:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")


def local_name(tag: str) -> str:
    """`{namespace}name` -> `name`: dependency-check and ZAP XML differ only in namespaces."""
    return tag.rsplit("}", 1)[-1]
