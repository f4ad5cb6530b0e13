"""The bundled popular-name lists the typosquat check compares against (see README.md here).

Each file is one name per line, most popular first; `#` lines are comments. PyPI names are
stored PEP 503-normalized. `npm-downloads.tsv.gz` holds npm's longer tail with monthly downloads;
PyPI has no such public list on its registry, so its counts are empty.
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources

from pipeline.firewall.model import Ecosystem
from pipeline.firewall.names import normalize

DOWNLOAD_COUNTS = {Ecosystem.NPM: "npm-downloads.tsv.gz"}


@cache
def popular_names(ecosystem: Ecosystem) -> tuple[str, ...]:
    text = resources.files(__name__).joinpath(f"{ecosystem.value}.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@cache
def popularity_rank(ecosystem: Ecosystem) -> dict[str, int]:
    """Normalized name (names.normalize) -> 1-based rank in the bundled list."""
    ranks: dict[str, int] = {}
    for rank, name in enumerate(popular_names(ecosystem), start=1):
        ranks.setdefault(normalize(name, ecosystem), rank)
    return ranks


@cache
def monthly_downloads(ecosystem: Ecosystem) -> dict[str, int]:
    """Normalized name -> monthly downloads, for the names the bundled counts hold (most downloaded first)."""
    file = DOWNLOAD_COUNTS.get(ecosystem)
    if file is None:
        return {}
    text = gzip.decompress(resources.files(__name__).joinpath(file).read_bytes()).decode("utf-8")
    counts: dict[str, int] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, count = line.split("\t")
            counts.setdefault(normalize(name, ecosystem), int(count))
    return counts
