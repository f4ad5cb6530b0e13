"""Run pip or npm against the vetted repository, with a CodeArtifact token kept off the command line.

- **pip**: `python -m pip install ARGS` with `PIP_INDEX_URL=https://aws:TOKEN@ENDPOINT/simple/`
  in the environment (pip redacts it from its output). The vetted repository has no upstream, so
  pip can install nothing that was not vetted: a dependency that was not is "no matching
  distribution", and the hint says to vet a lockfile with every dependency pinned.
- **npm**: `npm --registry ENDPOINT --userconfig TEMP ARGS` (ARGS starts with `install` or `ci`),
  where TEMP is a 0600 file holding `//ENDPOINT:_authToken=TOKEN`, removed when npm exits.

The installer's own output goes to this process's stdout and stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.firewall.model import Ecosystem


@dataclass(frozen=True)
class InstallCommand:
    argv: tuple[str, ...]
    environment: dict[str, str]  # added to the current environment
    npmrc: str | None = None  # written to a private temporary file passed with --userconfig


def pip_command(endpoint: str, token: str, arguments: Sequence[str], python: str = sys.executable) -> InstallCommand:
    parts = urlsplit(endpoint)
    index = f"{parts.scheme}://aws:{token}@{parts.netloc}{parts.path.rstrip('/')}/simple/"
    return InstallCommand((python, "-m", "pip", "install", *arguments), {"PIP_INDEX_URL": index})


def npm_command(endpoint: str, token: str, arguments: Sequence[str], npm: str = "npm") -> InstallCommand:
    parts = urlsplit(endpoint)
    registry = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}/"
    npmrc = f"//{parts.netloc}{parts.path.rstrip('/')}/:_authToken={token}\nregistry={registry}\n"
    return InstallCommand((npm, "--registry", registry, *arguments), {}, npmrc)


def command_for(ecosystem: Ecosystem, endpoint: str, token: str, arguments: Sequence[str]) -> InstallCommand:
    return pip_command(endpoint, token, arguments) if ecosystem is Ecosystem.PYPI else npm_command(
        endpoint, token, arguments)


def run(command: InstallCommand, timeout: float | None = None) -> int:
    """Run the installer; its exit status (127 when it cannot be started)."""
    environment = {**os.environ, **command.environment}
    with tempfile.TemporaryDirectory(prefix="tollgate-install-") as scratch:
        argv = list(command.argv)
        if command.npmrc is not None:
            npmrc = Path(scratch) / ".npmrc"
            npmrc.touch(mode=0o600)
            npmrc.write_text(command.npmrc, encoding="utf-8")
            argv[1:1] = ["--userconfig", str(npmrc)]
        try:
            return subprocess.run(argv, env=environment, timeout=timeout, check=False).returncode  # noqa: S603
        except FileNotFoundError:
            return 127

