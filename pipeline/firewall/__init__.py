"""The supply-chain firewall (seeds B and C): is a package safe to install, before anyone installs it?

One engine serves two front ends: `tollgate scan` (the `supply-chain` scanner reads the manifests
and lockfiles of a repository and writes a Tollgate supply-chain report, see
normalizers/parsers/supply_chain.py) and `tollgate firewall check|serve` (one package at a time,
for a person or for a repository manager such as Nexus or CodeArtifact).

Modules, one job each:
- `model`: the frozen records every other module passes around;
- `names`: ecosystem name rules (PEP 503 for PyPI, npm's), shared by the checks and the API;
- `manifests/`: readers for requirements files, pyproject.toml, poetry.lock, Pipfile.lock,
  package.json, package-lock.json and yarn.lock;
- `popular/`: the bundled popular-name lists the typosquat check compares against;
- `typosquat`, `confusion`, `policy`, `reputation`: the checks;
- `registry`, `cache`, `facts`: registry metadata, cached on disk, reduced to the facts the
  reputation table scores;
- `config`: the `firewall:` section of `.tollgate.yml`;
- `engine`: every check on one package; `findings_document`: the scanner's output format; `server`: the HTTP API.
"""
