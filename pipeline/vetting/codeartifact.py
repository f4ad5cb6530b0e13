"""The CodeArtifact calls of the flow and of the client, by coordinates (domain, owner, repository).

CodeArtifact's package formats are `pypi` and `npm`, the firewall's ecosystem names; an npm scope
is its namespace (without the @). A copy answers per version: `successfulVersions` or
`failedVersions` with an errorCode; ALREADY_EXISTS (the version is in the vetted repository
already, for instance after its status item expired) counts as copied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.vetting.model import PackageVersion

PUBLISHED = "Published"
ALREADY_EXISTS = "ALREADY_EXISTS"
TOKEN_SECONDS = 900  # the shortest token CodeArtifact issues: enough for one fetch or one install


class CopyFailed(Exception):
    """CopyPackageVersions did not put the version into the vetted repository."""


@dataclass(frozen=True)
class Repository:
    domain: str
    owner: str  # the domain owner's account id
    name: str


@dataclass(frozen=True)
class CodeArtifact:
    client: Any  # a boto3 CodeArtifact client

    def token(self, repository: Repository, seconds: int = TOKEN_SECONDS) -> str:
        answer = self.client.get_authorization_token(domain=repository.domain, domainOwner=repository.owner,
                                                     durationSeconds=seconds)
        return str(answer["authorizationToken"])

    def endpoint(self, repository: Repository, ecosystem: str) -> str:
        answer = self.client.get_repository_endpoint(domain=repository.domain, domainOwner=repository.owner,
                                                     repository=repository.name, format=ecosystem)
        endpoint = str(answer["repositoryEndpoint"])
        return endpoint if endpoint.endswith("/") else endpoint + "/"

    def status(self, repository: Repository, package: PackageVersion) -> str | None:
        """The version's status in the repository (Published, Unfinished, ...), None when it is not there."""
        try:
            answer = self.client.describe_package_version(**self._coordinates(repository, package),
                                                          packageVersion=package.version)
        except self.client.exceptions.ResourceNotFoundException:
            return None
        return str(answer["packageVersion"]["status"])

    def copy(self, source: Repository, destination: Repository, package: PackageVersion) -> str:
        """Copy the version from source to destination; returns the copied revision or ALREADY_EXISTS."""
        coordinates = self._coordinates(source, package)
        coordinates.pop("repository")
        answer = self.client.copy_package_versions(
            **coordinates, sourceRepository=source.name, destinationRepository=destination.name,
            versions=[package.version], allowOverwrite=False, includeFromUpstream=False)
        copied = (answer.get("successfulVersions") or {}).get(package.version)
        if copied is not None:
            return str(copied.get("revision", ""))
        failure = (answer.get("failedVersions") or {}).get(package.version) or {}
        if failure.get("errorCode") == ALREADY_EXISTS:
            return ALREADY_EXISTS
        code = failure.get("errorCode", "no answer")
        message = failure.get("errorMessage", "the version is in neither successfulVersions nor failedVersions")
        raise CopyFailed(f"CopyPackageVersions did not copy {package}: {code}: {message}")

    @staticmethod
    def _coordinates(repository: Repository, package: PackageVersion) -> dict[str, Any]:
        coordinates = {"domain": repository.domain, "domainOwner": repository.owner, "repository": repository.name,
                       "format": package.ecosystem.value, "package": package.bare_name}
        if package.namespace:
            coordinates["namespace"] = package.namespace
        return coordinates
