"""Installing the dependency-check CLI: download, verify the SHA-256 and the GPG signature, unpack.

The download and the checksum are pipeline/action/download.py's, shared with the Trivy install.

An unverified download is refused: at least one of the checksum and the release signing key's
fingerprint must be given. The URL must be https (a loopback mirror is allowed, for tests). The
signature is checked in a keyring of its own under `$RUNNER_TEMP`, and must come from the pinned
primary key. The archive is unpacked only after every entry was checked to stay inside the folder.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pipeline.action.download import checked_url, fetch, verify_sha256
from pipeline.action.env import Env, runner_temp, text, write_outputs
from pipeline.errors import ConfigError, ExitCode, ScannerError

DEPENDENCY_CHECK_URL = ("https://github.com/dependency-check/DependencyCheck/releases/download/"
                        "v{version}/dependency-check-{version}-release.zip")


@dataclass(frozen=True)
class Download:
    url: str
    sha256: str  # hex; "" when the signature is the only check
    gpg_key: str  # release signing key fingerprint; "" when the checksum is the only check
    keyserver: str

    @classmethod
    def from_env(cls, env: Env) -> Download:
        version = text(env, "TOLLGATE_DEPENDENCY_CHECK_VERSION")
        url = text(env, "TOLLGATE_DEPENDENCY_CHECK_URL")
        if not (url or version):
            raise ConfigError("input dependency-check-version: empty")
        download = cls(url=url or DEPENDENCY_CHECK_URL.format(version=version),
                       sha256=text(env, "TOLLGATE_DEPENDENCY_CHECK_SHA256").lower(),
                       gpg_key=text(env, "TOLLGATE_DEPENDENCY_CHECK_GPG_KEY").replace(" ", "").upper(),
                       keyserver=text(env, "TOLLGATE_DEPENDENCY_CHECK_KEYSERVER", "hkps://keyserver.ubuntu.com"))
        if not (download.sha256 or download.gpg_key):
            raise ConfigError("refusing to run an unverified download of dependency-check",
                              "set dependency-check-sha256, dependency-check-gpg-key, or both")
        checked_url(download.url, "dependency-check-url")
        return download


def verify_signature(archive: Path, signature: Path, fingerprint: str, gnupg_home: Path) -> None:
    """`gpg --verify` in its own keyring; VALIDSIG's last field is the primary key's fingerprint."""
    status = subprocess.run(  # noqa: S603 - an argv list; gpg from PATH, like every runner tool
        ["gpg", "--batch", "--homedir", str(gnupg_home), "--status-fd", "1",  # noqa: S607
         "--verify", str(signature), str(archive)],
        check=False, capture_output=True, text=True)
    valid = [line.split() for line in status.stdout.splitlines() if line.startswith("[GNUPG:] VALIDSIG ")]
    if status.returncode != 0 or not any(fields[-1] == fingerprint for fields in valid):
        raise ScannerError(f"{archive.name}: no valid signature by {fingerprint}; not installing it")


def import_key(fingerprint: str, keyserver: str, gnupg_home: Path) -> None:
    gnupg_home.mkdir(mode=0o700, parents=True, exist_ok=True)
    received = subprocess.run(  # noqa: S603 - an argv list
        ["gpg", "--batch", "--homedir", str(gnupg_home), "--keyserver", keyserver,  # noqa: S607
         "--recv-keys", fingerprint],
        check=False)
    if received.returncode != 0:
        raise ScannerError(f"cannot fetch the signing key {fingerprint} from {keyserver}")


def safe_extract(archive: Path, destination: Path) -> None:
    """Unzip, refusing any entry that would land outside `destination`; keeps the executable bits."""
    root = destination.resolve()
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.infolist():
            target = (root / member.filename).resolve()
            # `a/../b` resolves inside, but zipfile writes it as `a/b`: refuse every `..` rather than guess.
            if ".." in PurePosixPath(member.filename).parts or not target.is_relative_to(root):
                raise ScannerError(f"{archive.name}: entry {member.filename!r} points outside the folder")
        bundle.extractall(root)  # every entry was checked above
        for member in bundle.infolist():
            mode = member.external_attr >> 16
            if mode & 0o111:
                (root / member.filename).chmod(mode & 0o755)


def command_install_dependency_check(env: Env) -> int:
    download = Download.from_env(env)
    folder = runner_temp(env) / "dependency-check-cli"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    archive = fetch(download.url, folder / "dependency-check.zip")
    if download.sha256:
        verify_sha256(archive, download.sha256)
    if download.gpg_key:
        keyring = folder / "gnupg"
        import_key(download.gpg_key, download.keyserver, keyring)
        verify_signature(archive, fetch(f"{download.url}.asc", folder / "dependency-check.zip.asc"),
                         download.gpg_key, keyring)
    safe_extract(archive, folder / "unpacked")
    executable = next((folder / "unpacked").glob("*/bin/dependency-check.sh"), None)
    if executable is None:
        raise ScannerError(f"{download.url}: no */bin/dependency-check.sh in the archive")
    executable.chmod(0o755)
    write_outputs({"executable": str(executable)}, env)
    return ExitCode.PASSED
