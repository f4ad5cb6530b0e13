"""A report's bytes, parsed at most once as JSON or XML, for sniffing and parsing alike."""

from __future__ import annotations

import functools
import json
import os
import re
import select
import stat
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any, overload
from xml.etree.ElementTree import Element

import msgspec
import orjson
from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

from normalizers.errors import MalformedReportError, ReportTimeoutError, ReportTooLargeError
from normalizers.numbers import INT_MAX, INT_MIN, MAX_INT_DIGITS, MAX_NUMBER_CHARS

DEFAULT_MAX_BYTES = 1024 * 1024 * 1024  # 1 GiB: bigger than any real report, smaller than RAM
_HEAD_BYTES = 64 * 1024
# Real reports nest under 20 levels (SARIF is the deepest); orjson refuses to write past 255, and
# parsers and emitters recurse, so anything deeper is refused as input rather than crash later.
MAX_DEPTH = 100
# A pipe or FIFO is read once, into memory; this long without a byte (a FIFO nobody writes to) is an error.
STREAM_IDLE_SECONDS = 30.0
STDIN = "-"
# A report this big is sniffed on its outline and read record by record by the parsers that can
# (`Report.streamed_json`): its parsed form is several times its size, its records one at a time are not.
STREAM_BYTES = 16 * 1024 * 1024
STREAMED_ARRAY_ITEMS = 256  # a shorter array is decoded at once
OUTLINE_ITEMS = 3  # what sniffing sees of each array
_ONE_LEVEL = dict[str, msgspec.Raw] | list[msgspec.Raw] | str | int | float | bool | None
_ITEMS = msgspec.json.Decoder(list[msgspec.Raw])
# Each decode reads all the bytes under it, so two levels at once read a big array's bytes half as often.
_TWO_LEVELS = msgspec.json.Decoder(dict[str, _ONE_LEVEL] | list[_ONE_LEVEL] | str | int | float | bool | None)


class JsonRecords(Sequence[Any]):
    """A long JSON array kept as its undecoded items; an item is decoded when it is read, and not kept.

    Items go through the same bounds as a whole document (`load_json`): the depth counts from the
    array's own depth.
    """

    def __init__(self, items: list[msgspec.Raw], source: str, depth: int) -> None:
        self._items = items
        self._source = source
        self._depth = depth

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self._decoded(item) for item in self._items[index]]
        return self._decoded(self._items[index])

    def __iter__(self) -> Iterator[Any]:
        return map(self._decoded, self._items)

    def _decoded(self, item: msgspec.Raw) -> Any:
        return load_json_bytes(bytes(memoryview(item)), self._source, self._depth)


JSON_ARRAYS = (list, JsonRecords)  # what a parser reading `streamed_json` accepts as an array


class Report:
    """An input report. `source` names it in errors; it is never used to pick a parser.

    A report read from a path is not kept in memory as bytes beside its parsed form: sniffing
    reads its head, and `json`/`xml` read the file, parse it and let the bytes go. A big report
    (STREAM_BYTES) is the other way round: its bytes are kept and never decoded whole; its
    records are decoded one at a time from views into them (`streamed_json`), so a 180 MB report
    costs about its size, not several times it (benchmarks/normalize.py).
    """

    def __init__(self, source: str, raw: bytes | None = None, *, path: str | None = None) -> None:
        if raw is None and path is None:
            raise ValueError("a Report needs bytes or a path")
        self.source = source
        self._raw = raw
        self._path = path

    @classmethod
    def from_path(cls, path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Report:
        """A regular file is read lazily, as often as needed; anything else (`-` for stdin, /dev/stdin,
        a pipe from process substitution, a FIFO) cannot be read twice, so it is read once, now."""
        if path == STDIN:
            return cls(source="<stdin>", raw=read_stream(sys.stdin.fileno(), "<stdin>", max_bytes))
        if not stat.S_ISREG(os.stat(path).st_mode):
            descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO's open would wait for a writer
            try:
                return cls(source=path, raw=read_stream(descriptor, path, max_bytes))
            finally:
                os.close(descriptor)
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
        """The parsed JSON document; MalformedReportError when it does not parse (`load_json_bytes`)."""
        content = _strip_leading(self._read())
        if not content:
            raise MalformedReportError(f"{self.source}: the report is empty")
        return load_json_bytes(content, self.source)

    @functools.cached_property
    def xml(self) -> Element:
        """The parsed XML root, with entity and DTD attacks refused by defusedxml."""
        content = _strip_leading(self._read())
        if not content:
            raise MalformedReportError(f"{self.source}: the report is empty")
        try:
            root = SafeElementTree.fromstring(content)
        except SafeElementTree.ParseError as exc:
            raise MalformedReportError(f"{self.source}: not well-formed XML ({exc})") from None
        except DefusedXmlException as exc:
            raise MalformedReportError(f"{self.source}: refused unsafe XML ({exc})") from None
        _check_depth(root, Element, self.source)
        return root

    @property
    def text(self) -> str:
        try:
            return self.raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedReportError(f"{self.source}: not UTF-8 text ({exc})") from None

    def json_or_none(self) -> Any:
        """The JSON document when this is JSON at all, else None; for cheap sniffing. A big report
        gives its outline: every array cut to its first OUTLINE_ITEMS items."""
        if not self.looks_like_json:
            return None
        try:
            return self._outline if self._is_big else self.json
        except MalformedReportError:
            return None

    def streamed_json(self) -> Any:
        """The JSON document, where a big report's long arrays are JsonRecords read item by item
        (`JSON_ARRAYS`); for parsers whose records are independent of each other."""
        return self._streamed if self._is_big else self.json

    @property
    def _is_big(self) -> bool:
        size = len(self._raw) if self._raw is not None else os.stat(str(self._path)).st_size
        return size >= STREAM_BYTES

    @functools.cached_property
    def _outline(self) -> Any:
        return _outline(self._streamed)

    @functools.cached_property
    def _streamed(self) -> Any:
        """Objects and short arrays decoded, long arrays as JsonRecords (which hold views, not copies).
        Anything msgspec refuses goes through the whole-document reader, for its exact error."""
        data = memoryview(self.raw)
        head = data[:_HEAD_BYTES].tobytes()
        data = data[len(head) - len(_strip_leading(head)):]  # a view: the bytes are not copied
        try:
            return _lazy(msgspec.Raw(data), self.source, 1)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
            return self.json

    def xml_or_none(self) -> Element | None:
        if not self.looks_like_xml:
            return None
        try:
            return self.xml
        except MalformedReportError:
            return None


def read_stream(descriptor: int, source: str, max_bytes: int, idle_seconds: float | None = None) -> bytes:
    """Everything a pipe, FIFO or terminal holds until its writer closes it, within `max_bytes`;
    ReportTimeoutError after `idle_seconds` (STREAM_IDLE_SECONDS) without a byte or an end."""
    idle = STREAM_IDLE_SECONDS if idle_seconds is None else idle_seconds
    poller = select.poll()
    poller.register(descriptor, select.POLLIN | select.POLLHUP)
    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + idle
    while True:
        if not poller.poll(max(0.0, deadline - time.monotonic()) * 1000):
            raise ReportTimeoutError(f"{source}: nothing to read for {idle:g} s (a pipe or FIFO with no writer?)")
        try:
            chunk = os.read(descriptor, 1024 * 1024)
        except BlockingIOError:  # woken without data: wait again
            continue
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise ReportTooLargeError(f"{source}: over the {max_bytes} byte limit")
        chunks.append(chunk)
        deadline = time.monotonic() + idle


def _lazy(raw: msgspec.Raw, source: str, depth: int) -> Any:
    _check_lazy_depth(source, depth)
    value = _TWO_LEVELS.decode(raw)
    if isinstance(value, list) and len(value) >= STREAMED_ARRAY_ITEMS:
        return JsonRecords(_ITEMS.decode(raw), source, depth + 1)  # its items undecoded: read once more
    if isinstance(value, dict):
        return {key: _lazy_child(item, source, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_lazy_child(item, source, depth + 1) for item in value]
    return value


def _lazy_child(value: Any, source: str, depth: int) -> Any:
    """A value `_TWO_LEVELS` decoded: a container of undecoded items, or a plain value."""
    _check_lazy_depth(source, depth)
    if isinstance(value, dict):
        return {key: _lazy(item, source, depth + 1) for key, item in value.items()}
    if not isinstance(value, list):
        return value
    if len(value) < STREAMED_ARRAY_ITEMS:
        return [_lazy(item, source, depth + 1) for item in value]
    return JsonRecords(value, source, depth + 1)


def _check_lazy_depth(source: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise MalformedReportError(f"{source}: nested deeper than {MAX_DEPTH} levels")


def _outline(document: Any) -> Any:
    """What sniffing sees of a streamed document: each long array cut to its first OUTLINE_ITEMS items."""
    if isinstance(document, dict):
        return {key: _outline(value) for key, value in document.items()}
    if isinstance(document, JsonRecords):
        return [_outline(item) for item in document[:OUTLINE_ITEMS]]
    if isinstance(document, list):
        return [_outline(item) for item in document]
    return document


def load_json_bytes(content: bytes, source: str, depth: int = 1) -> Any:
    """`load_json` for bytes, at orjson's speed. orjson refuses what the bounded reader refuses
    (non-finite numbers, lone surrogates, bad UTF-8) and reads an integer beyond 64 bits as a float;
    whatever it refuses is read again by `load_json`, which names the problem or repairs it."""
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedReportError(f"{source}: not valid JSON ({exc})") from None
        return load_json(text, source, depth)
    # Every level opens with a bracket, so fewer brackets than levels left (strings included) cannot be too deep.
    # They are counted as the bytes that deleting them removes: one pass, not one per kind (0.12 s, not 0.17 s, at 50k).
    if depth + len(content) - len(content.translate(None, b"[{")) > MAX_DEPTH:
        _check_depth(document, (dict, list), source, depth)
    return document


def load_json(content: str, source: str, depth: int = 1) -> Any:
    """The bounded JSON reader: standard JSON within MAX_DEPTH, with 64-bit integers and finite
    floats only (MalformedReportError otherwise), and lone UTF-16 surrogates replaced by U+FFFD."""
    try:
        document = json.loads(content, parse_int=_bounded_int, parse_float=_finite_float,
                              parse_constant=_refused_constant)
    except json.JSONDecodeError as exc:
        raise MalformedReportError(f"{source}: not valid JSON ({exc})") from None
    except RecursionError:
        raise MalformedReportError(f"{source}: nested deeper than {MAX_DEPTH} levels") from None
    except _NumberError as exc:
        raise MalformedReportError(f"{source}: {exc}") from None
    _check_depth(document, (dict, list), source, depth)
    if _SURROGATE_ESCAPE.search(content):  # only escapes make lone surrogates: skip the walk without them
        document = _replace_surrogates(document)
    return document


class _NumberError(ValueError):
    pass


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS or not INT_MIN <= (value := int(text)) <= INT_MAX:
        raise _NumberError(f"the integer {text[:24]}{'…' if len(text) > 24 else ''} is outside 64 bits")
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if len(text) > MAX_NUMBER_CHARS or value in (float("inf"), float("-inf")):
        raise _NumberError(f"the number {text[:24]}{'…' if len(text) > 24 else ''} is too large")
    return value


def _refused_constant(text: str) -> Any:
    raise _NumberError(f"{text} is not a JSON number")


def _check_depth(root: Any, containers: Any, source: str, depth: int = 1) -> None:
    """Iteratively, so a deep document cannot exhaust the stack here either; `depth` is the root's own."""
    stack = [(root, depth)] if isinstance(root, containers) else []
    while stack:
        node, level = stack.pop()
        if level > MAX_DEPTH:
            raise MalformedReportError(f"{source}: nested deeper than {MAX_DEPTH} levels")
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, containers):
                stack.append((child, level + 1))


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _replace_surrogates(node: Any) -> Any:
    """Lone surrogates (a `\\ud800` escape with no pair) cannot be written as UTF-8: U+FFFD instead.
    The depth is already bounded, so recursion is safe here."""
    if isinstance(node, str):
        return _LONE_SURROGATE.sub("\ufffd", node)
    if isinstance(node, list):
        return [_replace_surrogates(item) for item in node]
    if isinstance(node, dict):
        return {_replace_surrogates(key): _replace_surrogates(value) for key, value in node.items()}
    return node


def _strip_leading(data: bytes) -> bytes:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")


def local_name(tag: str) -> str:
    """`{namespace}name` -> `name`: dependency-check and ZAP XML differ only in namespaces."""
    return tag.rsplit("}", 1)[-1]
