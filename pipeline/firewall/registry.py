"""Registry lookups: package metadata, download counts and GitHub stars, cached on disk, with timeouts.

Endpoints (each answer trimmed to the fields the firewall reads, in the registry's own shape, so
a trimmed document is still a valid, smaller answer; `trim_*` below):
- PyPI JSON API `<pypi-url>/<name>/json`; npm registry `<npm-url>/<name>` (scoped names as
  `@scope%2Fname`). Both URLs are configurable for mirrors (`firewall.registry`).
- Downloads: pypistats.org `/api/packages/<name>/recent`, npm `api.npmjs.org/downloads/point/last-month/<name>`.
- Stars: `api.github.com/repos/<owner>/<repo>`, with `$GITHUB_TOKEN` as a bearer token when set
  (60 unauthenticated calls an hour would not last one lockfile). The token is sent in a header
  only and never appears in a message.

Online, a cached answer younger than the TTL is used as is; an older one is refetched, and kept
(said to be stale) when the registry cannot be reached. Offline, only the cache is read, whatever
its age, and every answer says it came from the offline cache or was not there. A 404 is an
answer (cached); a timeout, a refused connection, a 429 or a 5xx is "unknown", never "absent".
Responses over `MAX_RESPONSE_BYTES` are refused. Each thread has its own requests session.

Artifacts (an sdist, an npm tarball) are files under `<cache-dir>/artifacts/<host>/`, named as the
registry names them. One is believed only when its digest is the registry's (sha256 for PyPI,
the sha512 of npm's `integrity`), cached or fresh; a download is at most `MAX_ARTIFACT_BYTES`.
Without `fetch` (inspection not asked for) or offline, only the cache is read.
"""

from __future__ import annotations

import enum
import hashlib
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import orjson

from pipeline.atomic import write_atomic
from pipeline.firewall.cache import CacheEntry, DiskCache
from pipeline.firewall.config import RegistrySettings
from pipeline.firewall.model import ArtifactRef, Ecosystem

if TYPE_CHECKING:  # requests loads only when a lookup goes to the network
    import requests

MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # @types/node's packument is ~10 MB
MAX_ARTIFACT_BYTES = 50 * 1024 * 1024
_SAFE_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
PYPISTATS_URL = "https://pypistats.org/api/packages"
NPM_DOWNLOADS_URL = "https://api.npmjs.org/downloads/point/last-month"
GITHUB_API_URL = "https://api.github.com/repos"
NPM_INSTALL_HOOKS = ("preinstall", "install", "postinstall")
_NPM_VERSION_KEYS = ("deprecated", "maintainers", "repository", "homepage", "bugs", "_npmUser")
_NPM_DIST_KEYS = ("tarball", "integrity")
_PYPI_FILE_KEYS = ("upload_time_iso_8601", "yanked", "packagetype", "filename", "url", "size")
_PYPI_INFO_KEYS = ("name", "version", "summary", "home_page", "download_url", "project_urls", "author",
                   "author_email", "maintainer", "maintainer_email")


class Status(str, enum.Enum):
    FOUND = "found"
    MISSING = "missing"  # the registry answered 404
    UNKNOWN = "unknown"  # no answer: offline and not cached, unreachable, throttled, broken


@dataclass(frozen=True)
class Lookup:
    status: Status
    body: Any = None
    detail: str = ""  # where the answer came from, or why there is none, for the finding's text
    fetched_at: datetime | None = None


@dataclass(frozen=True)
class ArtifactLookup:
    path: Path | None  # the verified file, or None
    detail: str  # where it came from, or why there is none


def trim_pypi(body: Any) -> Any:
    """`info` without the long description; per release, its earliest file's upload time and yank, and its sdist."""
    info = body.get("info") or {}
    releases = {}
    for version, files in (body.get("releases") or {}).items():
        earliest = sorted(files, key=lambda f: str(f.get("upload_time_iso_8601")))[:1] if files else []
        sdist = [f for f in files or () if f.get("packagetype") == "sdist"][:1]
        releases[version] = [_pypi_file(f) for f in (*earliest, *(s for s in sdist if s not in earliest))]
    return {"info": {key: info.get(key) for key in _PYPI_INFO_KEYS}, "releases": releases}


def _pypi_file(file: dict[str, Any]) -> dict[str, Any]:
    kept = {key: file[key] for key in _PYPI_FILE_KEYS if key in file}
    sha256 = (file.get("digests") or {}).get("sha256")
    return {**kept, "digests": {"sha256": sha256}} if sha256 else kept


def trim_npm(body: Any) -> Any:
    versions = {}
    for version, manifest in (body.get("versions") or {}).items():
        kept = {key: manifest[key] for key in _NPM_VERSION_KEYS if key in manifest}
        dist = {key: manifest["dist"][key] for key in _NPM_DIST_KEYS if key in (manifest.get("dist") or {})}
        kept.update({"dist": dist} if dist else {})
        hooks = {hook: str(command) for hook, command in (manifest.get("scripts") or {}).items()
                 if hook in NPM_INSTALL_HOOKS}
        versions[version] = {**kept, "scripts": hooks} if hooks else kept
    kept_top = {key: body[key] for key in ("name", "dist-tags", "time", "maintainers", "repository", "homepage",
                                           "bugs") if key in body}
    return {**kept_top, "versions": versions}


class Registry:
    """Every lookup the firewall makes; safe to share between threads."""

    def __init__(self, settings: RegistrySettings, env: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.cache = DiskCache(settings.cache_dir)
        self._token = (env if env is not None else os.environ).get("GITHUB_TOKEN") or None
        self._local = threading.local()

    def metadata_url(self, ecosystem: Ecosystem, name: str) -> str:
        if ecosystem is Ecosystem.PYPI:
            return f"{self.settings.pypi_url}/{quote(name, safe='')}/json"
        return f"{self.settings.npm_url}/{quote(name, safe='@')}"

    def metadata(self, ecosystem: Ecosystem, name: str) -> Lookup:
        trim = trim_pypi if ecosystem is Ecosystem.PYPI else trim_npm
        return self._lookup(self.metadata_url(ecosystem, name), trim)

    def downloads(self, ecosystem: Ecosystem, name: str) -> Lookup:
        """Downloads in the last month, as `{"downloads": N}`."""
        if not self.settings.downloads:
            return Lookup(Status.UNKNOWN, detail="downloads lookups are turned off (firewall.registry.downloads)")
        if ecosystem is Ecosystem.PYPI:
            url = f"{PYPISTATS_URL}/{quote(name.lower(), safe='')}/recent"
            return self._lookup(url, lambda body: {"downloads": int((body.get("data") or {})["last_month"])})
        return self._lookup(f"{NPM_DOWNLOADS_URL}/{quote(name, safe='@')}",
                            lambda body: {"downloads": int(body["downloads"])})

    def stars(self, repository: str) -> Lookup:
        """GitHub stars of `owner/repo`, as `{"stars": N}`."""
        if not self.settings.stars:
            return Lookup(Status.UNKNOWN, detail="GitHub stars lookups are turned off (firewall.registry.stars)")
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        return self._lookup(f"{GITHUB_API_URL}/{repository}", lambda body: {"stars": int(body["stargazers_count"])},
                            headers)

    def artifact_path(self, ref: ArtifactRef) -> Path | None:
        """Where the artifact is cached; None for a file name that could escape the folder, or a URL without a host."""
        host = urlsplit(ref.url).hostname
        if not _SAFE_FILE_NAME.match(ref.filename) or not host or not _SAFE_FILE_NAME.match(host):
            return None
        return self.settings.cache_dir / "artifacts" / host / ref.filename

    def artifact(self, ref: ArtifactRef, fetch: bool) -> ArtifactLookup:
        """The artifact's file, checked against its digest: from the cache, or downloaded when `fetch` and online."""
        path = self.artifact_path(ref)
        if path is None:
            return ArtifactLookup(None, f"{ref.url[:120]!r} names no host or a file name not safe to store")
        if path.is_file() and _digest(path.read_bytes(), ref.algorithm) == ref.digest:
            return ArtifactLookup(path, f"{ref.filename} from the artifact cache")
        if self.settings.offline or not fetch:
            why = "offline" if self.settings.offline else "firewall.inspect-artifacts is off"
            return ArtifactLookup(None, f"{ref.filename} is not in the artifact cache ({why})")
        return self._download(ref, path)

    def _download(self, ref: ArtifactRef, path: Path) -> ArtifactLookup:
        try:
            response = self._session().get(ref.url, timeout=self.settings.timeout, stream=True)
            with response:
                if response.status_code != 200:
                    return ArtifactLookup(None, f"{_host(ref.url)} answered HTTP {response.status_code} for "
                                          f"{ref.filename}")
                data = _bounded_content(response, MAX_ARTIFACT_BYTES)
        except OSError as exc:
            return ArtifactLookup(None, f"could not download {ref.filename} ({exc.__class__.__name__})")
        except ValueError:
            return ArtifactLookup(None, f"{ref.filename} is larger than {MAX_ARTIFACT_BYTES // 2**20} MB")
        if _digest(data, ref.algorithm) != ref.digest:
            return ArtifactLookup(None, f"{ref.filename} does not match the registry's {ref.algorithm} digest")
        write_atomic(path, data)
        return ArtifactLookup(path, f"{ref.filename} from {_host(ref.url)}")

    def _lookup(self, url: str, trim: Callable[[Any], Any], headers: dict[str, str] | None = None) -> Lookup:
        now = datetime.now(timezone.utc)
        cached = self.cache.get(url, trim)
        if self.settings.offline:
            if cached is None:
                return Lookup(Status.UNKNOWN, detail=f"offline: {_host(url)} answer not in the cache")
            return _from_cache(cached, f"offline: from the cache, recorded {_age(cached, now)}")
        if cached is not None and cached.age_seconds(now) < self.settings.ttl_seconds:
            return _from_cache(cached, f"from the cache, recorded {_age(cached, now)}")
        fetched = self._fetch(url, trim, headers or {})
        if fetched.status is Status.UNKNOWN and cached is not None:
            return _from_cache(cached, f"{fetched.detail}; used the stale cached answer, recorded {_age(cached, now)}")
        return fetched

    def _fetch(self, url: str, trim: Callable[[Any], Any], headers: dict[str, str]) -> Lookup:
        try:
            response = self._session().get(url, timeout=self.settings.timeout, stream=True,
                                           headers={"Accept": "application/json", **headers})
            with response:
                if response.status_code == 404:
                    entry = self.cache.put(url, 404, None)
                    return Lookup(Status.MISSING, detail=f"{_host(url)} answered 404", fetched_at=entry.fetched_at)
                if response.status_code != 200:
                    return Lookup(Status.UNKNOWN, detail=f"{_host(url)} answered HTTP {response.status_code}")
                body = trim(orjson.loads(_bounded_content(response)))
        except OSError as exc:  # requests' errors are OSErrors too
            return Lookup(Status.UNKNOWN, detail=f"could not reach {_host(url)} ({exc.__class__.__name__})")
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            return Lookup(Status.UNKNOWN, detail=f"{_host(url)} sent an answer Tollgate cannot read")
        entry = self.cache.put(url, 200, body)
        return Lookup(Status.FOUND, body, f"from {_host(url)}", entry.fetched_at)

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            import requests  # noqa: PLC0415 - lazy: `tollgate scan --help` lists the scanners without it

            session = requests.Session()
            self._local.session = session
        return session


def _digest(data: bytes, algorithm: str) -> str:
    return hashlib.new(algorithm, data).hexdigest()


def _bounded_content(response: requests.Response, limit: int = MAX_RESPONSE_BYTES) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=1 << 16):
        size += len(chunk)
        if size > limit:
            raise ValueError("response too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _from_cache(entry: CacheEntry, detail: str) -> Lookup:
    if entry.status == 404:
        return Lookup(Status.MISSING, detail=f"{_host(entry.url)} answered 404 ({detail})", fetched_at=entry.fetched_at)
    return Lookup(Status.FOUND, entry.body, detail, entry.fetched_at)


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def _age(entry: CacheEntry, now: datetime) -> str:
    days = entry.age_seconds(now) / 86400
    when = entry.fetched_at.date().isoformat()
    return f"{when} ({days:.0f} days ago)" if days >= 1 else f"{when} (today)"
