"""Which versions to vet and what to hand the installer, from the command line's packages and files.

- A package argument is `name==version` for pip (PEP 508; any other specifier is a range) and
  `name@version` for npm (`@scope/name@version`); without an exact version it is resolved.
- A file is any manifest the firewall reads (requirements*.txt, pyproject.toml, poetry.lock,
  Pipfile.lock, package.json, package-lock.json, npm-shrinkwrap.json, yarn.lock): every package
  it declares is vetted. A lockfile pins them; a range is resolved.
- **Resolving** a range asks the public registry (through the firewall's registry client and its
  cache) for the newest final release the range allows, as an installer would pick it. A name the
  registry does not answer for cannot be vetted: a usage error that says to pin it.
- A line of a file that cannot be read is a usage error naming it: nothing is skipped silently.

What the installer gets: pip installs `-r FILE` for a requirements file and `name==version` for
everything else; npm runs `npm ci` in a lockfile's folder and `npm install name@version` otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from pipeline.errors import ConfigError
from pipeline.firewall.engine import newest_allowed
from pipeline.firewall.facts import facts_from
from pipeline.firewall.manifests import READERS, is_manifest, read_manifests
from pipeline.firewall.model import DeclaredPackage, Ecosystem
from pipeline.firewall.names import registry_name
from pipeline.firewall.registry import Registry, Status
from pipeline.vetting.model import InvalidRequest, PackageVersion

NPM_LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json")
Resolver = Callable[[DeclaredPackage], str | None]


@dataclass(frozen=True)
class Wanted:
    versions: tuple[PackageVersion, ...]
    installer_arguments: tuple[str, ...]


def registry_resolver(registry: Registry) -> Resolver:
    def resolve(package: DeclaredPackage) -> str | None:
        lookup = registry.metadata(package.ecosystem, registry_name(package.name, package.ecosystem))
        if lookup.status is not Status.FOUND:
            return None
        return newest_allowed(package, facts_from(package.ecosystem, lookup.body).versions)

    return resolve


def wanted(ecosystem: Ecosystem, arguments: Sequence[str], files: Sequence[Path], resolve: Resolver) -> Wanted:
    if not arguments and not files:
        raise ConfigError("name a package or a file to install")
    versions: dict[str, PackageVersion] = {}
    installer: list[str] = []
    for argument in arguments:
        version = _version(_argument(ecosystem, argument), resolve)
        versions.setdefault(version.key, version)
        installer.append(str(version))
    for path in files:
        declared = [_version(package, resolve) for package in _file(ecosystem, path)]
        versions.update({version.key: version for version in declared if version.key not in versions})
        installer += _file_arguments(ecosystem, path, declared)
    if ecosystem is Ecosystem.NPM:
        if "ci" in installer and (arguments or len(files) > 1):
            raise ConfigError("npm ci installs one lockfile as it is: give the lockfile alone")
        installer = installer if "ci" in installer else ["install", *installer]
    return Wanted(tuple(versions.values()), tuple(installer))


def _version(package: DeclaredPackage, resolve: Resolver) -> PackageVersion:
    version = package.version or resolve(package)
    if version is None:
        raise ConfigError(f"{package.manifest}: {package.name}{' ' + package.spec if package.spec else ''}: no version "
                          "to vet (the registry did not answer or no release matches)", tip="pin an exact version")
    try:
        return PackageVersion.of(package.ecosystem, package.name, version)
    except InvalidRequest as exc:
        raise ConfigError(f"{package.manifest}: {exc}") from None


def _argument(ecosystem: Ecosystem, argument: str) -> DeclaredPackage:
    if ecosystem is Ecosystem.PYPI:
        try:
            requirement = Requirement(argument)
        except InvalidRequirement as exc:
            raise ConfigError(f"{argument!r} is not a package requirement: {exc}") from None
        specifiers = list(requirement.specifier)
        exact = specifiers[0].version if len(specifiers) == 1 and specifiers[0].operator in ("==", "===") \
            and "*" not in specifiers[0].version else None
        return DeclaredPackage(requirement.name, ecosystem, "command line", 1, str(requirement.specifier), exact)
    at = argument.rfind("@")
    name, spec = (argument[:at], argument[at + 1:]) if at > 0 else (argument, "")
    exact = spec if spec and all(ch.isalnum() or ch in ".-+" for ch in spec) and spec[0].isdigit() else None
    return DeclaredPackage(name, ecosystem, "command line", 1, spec, exact)


def _file(ecosystem: Ecosystem, path: Path) -> list[DeclaredPackage]:
    if not is_manifest(path.name):
        raise ConfigError(f"{path}: not a file Tollgate reads (requirements*.txt, {', '.join(READERS)})")
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    root = path.resolve().parent
    collected = read_manifests(root, [path.resolve()])
    if collected.problems:
        problem = collected.problems[0]
        where = f"{path}:{problem.line}" if problem.line else str(path)
        raise ConfigError(f"{where}: {problem.reason}" + (f" (and {len(collected.problems) - 1} more problems)"
                                                           if len(collected.problems) > 1 else ""))
    other = [p for p in collected.packages if p.ecosystem is not ecosystem]
    if other:
        raise ConfigError(f"{path}: declares {other[0].ecosystem.value} packages; this is a {ecosystem.value} install")
    return collected.packages


def _file_arguments(ecosystem: Ecosystem, path: Path, declared: list[PackageVersion]) -> list[str]:
    if ecosystem is Ecosystem.PYPI:
        return [str(version) for version in declared] if path.name in READERS else ["-r", str(path)]
    if path.name in NPM_LOCKFILES:
        return ["ci", "--prefix", str(path.resolve().parent)]
    raise ConfigError(f"{path}: npm installs from package-lock.json or npm-shrinkwrap.json; vet and install the "
                      "lockfile (yarn.lock and package.json alone do not pin what npm installs)")
