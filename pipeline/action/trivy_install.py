"""Installing Trivy from its official release: the archive for this runner, checked against the
release's published checksums file, unpacked to `$RUNNER_TEMP/tollgate-trivy/bin` and put on PATH.

Trivy's releases are `trivy_<version>_<OS>-<arch>.tar.gz` next to `trivy_<version>_checksums.txt`
(`<sha256>  <file>` lines). `trivy-url` replaces the release folder with a mirror of it. Only the
`trivy` binary is taken from the archive, so no entry can land outside the folder. Windows runners
are refused: the actions' steps are bash and the venv layout is POSIX (docs/actions.md's table).
"""

from __future__ import annotations

import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.action.download import checked_url, fetch, verify_sha256
from pipeline.action.env import Env, runner_temp, text, write_outputs
from pipeline.errors import ConfigError, ExitCode, ScannerError

TRIVY_RELEASE = "https://github.com/aquasecurity/trivy/releases/download/v{version}"
# (RUNNER_OS, RUNNER_ARCH) -> the platform part of the release's archive name.
PLATFORMS = {("Linux", "X64"): "Linux-64bit", ("Linux", "ARM64"): "Linux-ARM64",
             ("macOS", "X64"): "macOS-64bit", ("macOS", "ARM64"): "macOS-ARM64"}


@dataclass(frozen=True)
class TrivyRelease:
    version: str
    folder_url: str  # the release folder: GitHub's, or a mirror of it
    platform: str

    @classmethod
    def from_env(cls, env: Env) -> TrivyRelease:
        version = text(env, "TOLLGATE_TRIVY_VERSION").removeprefix("v")
        if not version:
            raise ConfigError("input trivy-version: empty")
        runner = (text(env, "RUNNER_OS", "Linux"), text(env, "RUNNER_ARCH", "X64"))
        if runner not in PLATFORMS:
            raise ConfigError(f"Trivy cannot be installed on a {runner[0]} {runner[1]} runner",
                              "use an ubuntu or macOS runner, or install-trivy: false with trivy on PATH")
        folder = text(env, "TOLLGATE_TRIVY_URL") or TRIVY_RELEASE.format(version=version)
        return cls(version, checked_url(folder.rstrip("/"), "trivy-url"), PLATFORMS[runner])

    @property
    def archive(self) -> str:
        return f"trivy_{self.version}_{self.platform}.tar.gz"

    @property
    def checksums(self) -> str:
        return f"trivy_{self.version}_checksums.txt"


def published_sha256(checksums: Path, archive: str) -> str:
    """The archive's line of the release's checksums file."""
    for line in checksums.read_text(encoding="utf-8", errors="replace").splitlines():
        digest, _, name = line.strip().partition("  ")
        if name.strip() == archive and len(digest) == 64:
            return digest.lower()
    raise ScannerError(f"{checksums.name}: no checksum for {archive}; not installing it")


def extract_binary(archive: Path, destination: Path) -> Path:
    """Write the archive's `trivy` file (and nothing else) to `destination`/trivy, executable."""
    with tarfile.open(archive, "r:gz") as bundle:
        member = next((m for m in bundle.getmembers() if m.name.lstrip("./") == "trivy" and m.isfile()), None)
        source = bundle.extractfile(member) if member else None
        if source is None:
            raise ScannerError(f"{archive.name}: no trivy executable in the archive")
        destination.mkdir(parents=True, exist_ok=True)
        executable = destination / "trivy"
        with source, open(executable, "wb") as handle:
            shutil.copyfileobj(source, handle)
    executable.chmod(0o755)
    return executable


def command_install_trivy(env: Env) -> int:
    release = TrivyRelease.from_env(env)
    folder = runner_temp(env) / "tollgate-trivy"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    checksums = fetch(f"{release.folder_url}/{release.checksums}", folder / release.checksums)
    expected = published_sha256(checksums, release.archive)
    archive = fetch(f"{release.folder_url}/{release.archive}", folder / release.archive)
    verify_sha256(archive, expected)
    executable = extract_binary(archive, folder / "bin")
    path_file = env.get("GITHUB_PATH")
    if path_file:  # later steps find `trivy` on PATH, whichever Python runs the scan
        with open(path_file, "a", encoding="utf-8") as handle:
            handle.write(f"{executable.parent}\n")
    print(f"tollgate: installed Trivy {release.version} ({release.archive}, SHA-256 {expected})")
    write_outputs({"executable": str(executable)}, env)
    return ExitCode.PASSED
