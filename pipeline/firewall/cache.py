"""An on-disk cache of registry answers, one readable JSON file per URL, with a memory layer in front.

A file holds `{"url", "status", "fetched_at", "body"}`: status 200 with the (trimmed) body, or 404
with none, because "this name is not on the public registry" is an answer worth keeping too.
Files are written atomically, so concurrent scans and API threads never read half a file. The
file name is the URL's host and path, percent-encoded (`pypi.org/pypi%2Fdjango%2Fjson.json`), so
a recorded cache (the demo's, examples/registry-cache/) can be read and reviewed by people.
Freshness is the reader's decision (registry.py): online, an entry older than the TTL is
refetched; offline, any entry is used and its age is stated. A file is checked by the reader's
own trimming before it is believed, so a hand-edited or foreign file is a miss, never a crash.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from pipeline.atomic import write_atomic

MEMORY_ENTRIES = 4096
MAX_FILE_NAME = 200


@dataclass(frozen=True)
class CacheEntry:
    url: str
    status: int  # 200 or 404
    fetched_at: datetime
    body: Any = None

    def age_seconds(self, now: datetime) -> float:
        return (now - self.fetched_at).total_seconds()


def cache_path(directory: Path, url: str) -> Path:
    parts = urlsplit(url)
    name = quote(parts.path.strip("/"), safe="@") or "index"
    if len(name) > MAX_FILE_NAME:
        name = hashlib.sha256(name.encode()).hexdigest()
    return directory / (parts.hostname or "local") / f"{name}.json"


class DiskCache:
    """Thread-safe; the memory layer keeps the most recently used entries parsed."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._memory: OrderedDict[str, CacheEntry | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, url: str, check: Callable[[Any], object] | None = None) -> CacheEntry | None:
        """The entry for `url`; a file whose body `check` cannot read (hand-edited, another shape) is no entry."""
        with self._lock:
            if url in self._memory:
                self._memory.move_to_end(url)
                return self._memory[url]
        entry = self._read(url)
        if entry is not None and entry.status == 200 and check is not None:
            try:
                check(entry.body)
            except (KeyError, TypeError, ValueError, AttributeError):
                entry = None
        self._remember(url, entry)
        return entry

    def put(self, url: str, status: int, body: Any, now: datetime | None = None) -> CacheEntry:
        entry = CacheEntry(url, status, now or datetime.now(timezone.utc), body)
        document = {"url": url, "status": status, "fetched_at": entry.fetched_at.isoformat(), "body": body}
        write_atomic(cache_path(self.directory, url), orjson.dumps(document, option=orjson.OPT_INDENT_2))
        self._remember(url, entry)
        return entry

    def _remember(self, url: str, entry: CacheEntry | None) -> None:
        with self._lock:
            self._memory[url] = entry
            self._memory.move_to_end(url)
            while len(self._memory) > MEMORY_ENTRIES:
                self._memory.popitem(last=False)

    def _read(self, url: str) -> CacheEntry | None:
        try:
            document = orjson.loads(cache_path(self.directory, url).read_bytes())
            fetched_at = datetime.fromisoformat(document["fetched_at"])
            if document.get("url") != url or document.get("status") not in (200, 404):
                return None  # a hash collision or a hand-edited file: refetch rather than trust it
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None
        if fetched_at.tzinfo is None:
            fetched_at = fetched_at.replace(tzinfo=timezone.utc)
        return CacheEntry(url, int(document["status"]), fetched_at, document.get("body"))
