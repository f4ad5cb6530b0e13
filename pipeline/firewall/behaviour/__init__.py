"""Install-time behaviour signals: what a package does when it is installed, read from its artifact.

Modules, one job each:
- `archive`: the members of an sdist (.tar.gz, .zip) or npm tarball (.tgz), bounded, never extracted;
- `setup_py`: what a setup.py calls (network, processes, decoding), from its AST;
- `content`: encoded payloads and bundled binaries in any member;
- `signals`: the signals of one artifact and of one package's metadata, each with its evidence;
- `store`: where the artifact comes from: the registry's URL, checked by its digest, cached on disk.

Each signal is a rule of the points table (`firewall.reputation.rules`), so it adds its points, with
its evidence, to the package's score. GuardDog's public heuristics were the reference for what to
look for; nothing here is copied from it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BehaviourSignal:
    rule: str  # a rule of the points table
    evidence: str  # where and what: `setup.py:45 calls urllib.request.urlopen`
