"""Registry metadata (PyPI JSON API, npm packument) reduced to the facts the points table scores.

- Releases: PyPI versions with at least one uploaded file (an empty release was never
  installable), dated by their earliest upload; npm versions, dated by the packument's `time`.
- Maintainers: npm lists them; PyPI's JSON API does not (owners are not in it), so it is None,
  "unknown", for PyPI.
- Links: PyPI's `project_urls`, `home_page` and `download_url`; npm's `homepage`, `repository`
  and `bugs`, top-level or the latest version's. The first github.com link names the repository
  whose stars are looked up.
- Install scripts: the npm latest version's `preinstall`, `install` and `postinstall` hooks,
  which run with the installing user's rights (seed B's install-time threat).
- Artifacts: per version, the file an install downloads and its digest: PyPI's sdist (`url`,
  `digests.sha256`), npm's `dist.tarball` and `dist.integrity` (sha512 only: sha1 is not a check).
- Emails: PyPI's author and maintainer addresses; npm's maintainers' and publisher's.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline.firewall.model import ArtifactRef, Ecosystem
from pipeline.firewall.registry import NPM_INSTALL_HOOKS

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_GITHUB_REPO = re.compile(r"github\.com[/:](?P<owner>[\w.-]+)/(?P<repo>[\w.-]+?)(?:\.git)?(?:[/#?]|$)", re.IGNORECASE)


@dataclass(frozen=True)
class PackageFacts:
    releases: tuple[tuple[str, datetime | None], ...]  # (version, first upload), registry order
    maintainers: int | None
    links: tuple[str, ...]
    install_scripts: tuple[str, ...] = ()
    latest: str | None = None
    artifacts: tuple[tuple[str, ArtifactRef], ...] = ()  # (version, its sdist or tarball)
    emails: tuple[str, ...] = ()

    def artifact(self, version: str) -> ArtifactRef | None:
        return dict(self.artifacts).get(version)

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(version for version, _ in self.releases)

    @property
    def first_release(self) -> datetime | None:
        return min((when for _, when in self.releases if when), default=None)

    @property
    def last_release(self) -> datetime | None:
        return max((when for _, when in self.releases if when), default=None)

    @property
    def github_repository(self) -> str | None:
        """`owner/repo` of the first GitHub link."""
        for link in self.links:
            match = _GITHUB_REPO.search(link)
            if match:
                return f"{match['owner']}/{match['repo']}"
        return None


def facts_from(ecosystem: Ecosystem, body: Any) -> PackageFacts:
    """The facts of a (trimmed) registry answer; a field of the wrong type reads as absent, never raises."""
    body = _mapping(body)
    return _pypi_facts(body) if ecosystem is Ecosystem.PYPI else _npm_facts(body)


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _pypi_facts(body: dict[str, Any]) -> PackageFacts:
    info = _mapping(body.get("info"))
    releases = tuple(
        (version, min((w for f in files if isinstance(f, dict) and (w := _when(f.get("upload_time_iso_8601")))),
                      default=None))
        for version, files in _mapping(body.get("releases")).items()
        if isinstance(files, list) and files
    )
    urls = [*_mapping(info.get("project_urls")).values(), info.get("home_page"), info.get("download_url")]
    artifacts = tuple((version, ref) for version, files in _mapping(body.get("releases")).items()
                      if isinstance(files, list) and (ref := _pypi_sdist(files)))
    emails = _emails(info.get(key) for key in ("author_email", "maintainer_email"))
    return PackageFacts(releases=releases, maintainers=None, links=_links(urls), latest=_string(info.get("version")),
                        artifacts=artifacts, emails=emails)


def _pypi_sdist(files: list[Any]) -> ArtifactRef | None:
    for file in files:
        if isinstance(file, dict) and file.get("packagetype") == "sdist":
            url, sha256 = _string(file.get("url")), _string(_mapping(file.get("digests")).get("sha256"))
            if url and sha256:
                return ArtifactRef(url, url.rsplit("/", 1)[-1], "sha256", sha256.lower())
    return None


def _npm_tarball(manifest: dict[str, Any]) -> ArtifactRef | None:
    dist = _mapping(manifest.get("dist"))
    url, integrity = _string(dist.get("tarball")), _string(dist.get("integrity"))
    if not (url and integrity and integrity.startswith("sha512-")):
        return None
    try:
        digest = base64.b64decode(integrity.removeprefix("sha512-"), validate=True).hex()
    except (binascii.Error, ValueError):
        return None
    return ArtifactRef(url, url.rsplit("/", 1)[-1], "sha512", digest)


def _emails(values: Any) -> tuple[str, ...]:
    """Addresses in fields like `"A <a@x.org>, b@y.org"`, lower-cased, first seen first."""
    found = (match.lower() for value in values if isinstance(value, str) for match in _EMAIL.findall(value))
    return tuple(dict.fromkeys(found))


def _npm_facts(body: dict[str, Any]) -> PackageFacts:
    times = _mapping(body.get("time"))
    versions = _mapping(body.get("versions"))
    latest = _string(_mapping(body.get("dist-tags")).get("latest"))
    manifest = _mapping(versions.get(latest or ""))
    maintainers = body.get("maintainers") or manifest.get("maintainers")
    urls = [_url(source.get(key)) for source in (body, manifest) for key in ("homepage", "repository", "bugs")]
    hooks = tuple(hook for hook in NPM_INSTALL_HOOKS if hook in _mapping(manifest.get("scripts")))
    people = [*(maintainers if isinstance(maintainers, list) else ()), manifest.get("_npmUser")]
    return PackageFacts(
        releases=tuple((version, _when(times.get(version))) for version in versions),
        maintainers=len(maintainers) if isinstance(maintainers, list) else None,
        links=_links(urls),
        install_scripts=hooks,
        latest=latest,
        artifacts=tuple((version, ref) for version, body in versions.items() if (ref := _npm_tarball(_mapping(body)))),
        emails=_emails(_mapping(person).get("email") for person in people),
    )


def _mapping(value: Any) -> dict[str, Any]:
    """A registry field that should be an object; anything else (a mirror's oddity) reads as empty."""
    return value if isinstance(value, dict) else {}


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _url(value: Any) -> str | None:
    """npm writes links as strings or `{"url": ...}`; `owner/repo` shorthand means GitHub."""
    text = value.get("url") if isinstance(value, dict) else value
    if isinstance(text, str) and re.fullmatch(r"[\w.-]+/[\w.-]+", text):
        return f"https://github.com/{text}"
    return text if isinstance(text, str) else None


def _links(urls: list[Any]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(u.strip() for u in urls if isinstance(u, str) and u.strip().startswith(
        ("http://", "https://", "git+", "git://", "ssh://", "git@"))))
