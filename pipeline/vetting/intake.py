"""Pull one package version into the intake repository, so that CodeArtifact stores it there.

CodeArtifact keeps a version from the public external connection once an asset of it is asked
for through the repository endpoint. Two ways to ask:

- **Through the endpoint, from the Lambda** (the default, no instance): read the version's files
  from the PEP 503 simple index (PyPI) or the package document (npm) with a short-lived token,
  download each one and check it against the hash the index gives (`#sha256=` for PyPI, `dist.integrity`
  or `dist.shasum` for npm). Nothing is installed or unpacked: the files are hashed and dropped.
- **By SSM Run Command** (an option for networks where only managed instances reach the
  endpoint): `pip download --no-deps --only-binary=:all:` or `npm pack` on the instances with the
  target tag, neither of which runs the package's code (an sdist-only version fails: its metadata
  would be built by its own code); the instance role gets its own token, which the command keeps
  in the environment or a temporary `.npmrc`, never on a command line.

A version the public registry does not have, a hash that does not match or a file over
`max_bytes` is an InstallFailed: the state machine records FAILED with the reason.
"""

from __future__ import annotations

import base64
import hashlib
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urldefrag, urljoin, urlsplit

import requests
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from pipeline.firewall.model import Ecosystem
from pipeline.vetting.model import PackageVersion

CHUNK = 1 << 16
MAX_FILES = 100  # a PyPI release with more wheels than this is not a normal release
SSM_TERMINAL_FAILURES = frozenset({"Failed", "Cancelled", "TimedOut", "Cancelling"})


class InstallFailed(Exception):
    """The version could not be pulled into the intake repository."""


@dataclass(frozen=True)
class Fetched:
    files: tuple[str, ...]
    total_bytes: int


@dataclass(frozen=True)
class EndpointFetcher:
    """Fetch through the repository endpoint (https://DOMAIN-OWNER.d.codeartifact.REGION.amazonaws.com/FORMAT/REPO/)."""

    endpoint: str
    token: str
    max_bytes: int
    timeout: float = 30.0

    def fetch(self, package: PackageVersion) -> Fetched:
        files = list(self._pypi_files(package) if package.ecosystem is Ecosystem.PYPI else self._npm_files(package))
        if not files:
            raise InstallFailed(f"the intake repository lists no file of {package}")
        total = sum(self._download(url, algorithm, digest, package.ecosystem) for url, algorithm, digest in files)
        return Fetched(tuple(urlsplit(url).path.rsplit("/", 1)[-1] for url, _, _ in files), total)

    def _auth(self, ecosystem: Ecosystem) -> dict[str, Any]:
        # CodeArtifact takes the token as the password of user "aws" for pip, as a bearer token for npm.
        if ecosystem is Ecosystem.PYPI:
            return {"auth": ("aws", self.token)}
        return {"headers": {"Authorization": f"Bearer {self.token}"}}

    def _get(self, url: str, ecosystem: Ecosystem, what: str, stream: bool = False) -> requests.Response:
        try:
            response = requests.get(url, timeout=self.timeout, stream=stream, **self._auth(ecosystem))
        except requests.RequestException as exc:
            raise InstallFailed(f"{what}: the repository endpoint did not answer ({type(exc).__name__})") from None
        if response.status_code == 404:
            raise InstallFailed(f"{what}: not found through the intake repository (not on the public registry?)")
        if response.status_code != 200:
            raise InstallFailed(f"{what}: the repository endpoint answered HTTP {response.status_code}")
        return response

    def _pypi_files(self, package: PackageVersion) -> Iterator[tuple[str, str, str | None]]:
        index = urljoin(self.endpoint, f"simple/{quote(package.name)}/")
        links = _Links()
        links.feed(self._get(index, package.ecosystem, f"the index of {package.name}").text)
        wanted = _version(package.version)
        matched = 0
        for href in links.hrefs:
            url, fragment = urldefrag(urljoin(index, href))
            if _pypi_file_version(urlsplit(url).path.rsplit("/", 1)[-1], package.name) != wanted:
                continue
            matched += 1
            if matched > MAX_FILES:
                raise InstallFailed(f"{package} has more than {MAX_FILES} files; not fetched")
            algorithm, _, digest = fragment.partition("=")
            yield url, algorithm or "sha256", digest or None

    def _npm_files(self, package: PackageVersion) -> Iterator[tuple[str, str, str | None]]:
        document_url = urljoin(self.endpoint, quote(package.name, safe="@"))  # @scope%2fname, as npm asks
        try:
            document = self._get(document_url, package.ecosystem, f"the package document of {package.name}").json()
        except ValueError:
            raise InstallFailed(f"the package document of {package.name} is not JSON") from None
        dist = ((document.get("versions") or {}).get(package.version) or {}).get("dist") or {}
        if not dist.get("tarball"):
            raise InstallFailed(f"{package} is not in the package document (no such version on the public registry?)")
        integrity = str(dist.get("integrity") or "")
        if integrity.startswith("sha512-"):
            yield str(dist["tarball"]), "sha512", base64.b64decode(integrity[7:]).hex()
        else:
            yield str(dist["tarball"]), "sha1", dist.get("shasum")

    def _download(self, url: str, algorithm: str, digest: str | None, ecosystem: Ecosystem) -> int:
        name = urlsplit(url).path.rsplit("/", 1)[-1]
        try:
            hasher = hashlib.new(algorithm)
        except ValueError:
            raise InstallFailed(f"{name}: the index gives an unknown hash {algorithm[:20]!r}") from None
        size = 0
        with self._get(url, ecosystem, name, stream=True) as response:
            for chunk in response.iter_content(CHUNK):
                size += len(chunk)
                if size > self.max_bytes:
                    raise InstallFailed(f"{name} is over the {self.max_bytes} byte limit; not fetched")
                hasher.update(chunk)
        if digest is not None and hasher.hexdigest() != digest.lower():
            raise InstallFailed(f"{name}: the file's {algorithm} does not match the index")
        return size


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def _version(text: str) -> Version | str:
    try:
        return Version(text)
    except InvalidVersion:
        return text


def _pypi_file_version(filename: str, name: str) -> Version | str | None:
    """The version a wheel or sdist file name carries, when it is a file of `name`."""
    try:
        if filename.endswith(".whl"):
            file_name, version, _, _ = parse_wheel_filename(filename)
        else:
            file_name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return version if file_name == canonicalize_name(name) else None


# ------------------------------------------------------------------------------------------------
# The SSM Run Command variant
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SsmFetcher:
    client: Any  # a boto3 SSM client
    target_tag: tuple[str, str]  # instances with this tag key and value run the command
    domain: str
    owner: str
    region: str
    output_bucket: str | None = None
    timeout_seconds: int = 600

    def send(self, package: PackageVersion, endpoint: str) -> str:
        key, value = self.target_tag
        arguments: dict[str, Any] = {
            "DocumentName": "AWS-RunShellScript",
            "Targets": [{"Key": f"tag:{key}", "Values": [value]}],
            "Parameters": {"commands": self.commands(package, endpoint)},
            "TimeoutSeconds": self.timeout_seconds,
            "Comment": f"Tollgate vetting: pull {package} into intake"[:100],
        }
        if self.output_bucket:
            arguments.update(OutputS3BucketName=self.output_bucket,
                             OutputS3KeyPrefix=f"vetting/{package.ecosystem.value}")
        return str(self.client.send_command(**arguments)["Command"]["CommandId"])

    def state(self, command_id: str) -> str:
        """The command's status: Pending, InProgress, Success, or a failure (SSM_TERMINAL_FAILURES)."""
        [command] = self.client.list_commands(CommandId=command_id)["Commands"]
        return str(command["Status"])

    def commands(self, package: PackageVersion, endpoint: str) -> list[str]:
        """The shell lines; every value in them was validated (PackageVersion) and is quoted."""
        token = (f"TOKEN=$(aws codeartifact get-authorization-token --domain {shlex.quote(self.domain)} "
                 f"--domain-owner {shlex.quote(self.owner)} --region {shlex.quote(self.region)} "
                 "--duration-seconds 900 --query authorizationToken --output text)")
        host_path = endpoint.split("://", 1)[-1]
        lines = ["set -eu", token, 'WORK=$(mktemp -d)', 'trap \'rm -rf "$WORK"\' EXIT', 'cd "$WORK"']
        if package.ecosystem is Ecosystem.PYPI:
            # Wheels only: preparing an sdist's metadata would run the unvetted package's build code.
            lines.append(f'PIP_INDEX_URL="https://aws:${{TOKEN}}@{host_path}simple/" python3 -m pip download '
                         f"--no-deps --only-binary=:all: --no-cache-dir --dest . {shlex.quote(str(package))}")
        else:
            lines.append(f"printf '//%s:_authToken=%s\\n' {shlex.quote(host_path)} \"$TOKEN\" > .npmrc")
            lines.append(f"npm pack --userconfig .npmrc --registry {shlex.quote('https://' + host_path)} "
                         f"{shlex.quote(str(package))}")
        return lines
