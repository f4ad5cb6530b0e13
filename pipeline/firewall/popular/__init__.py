"""The bundled popular-name lists the typosquat check compares against (see SOURCES.md here).

Each file is one name per line, most popular first; `#` lines are comments. PyPI names are
stored PEP 503-normalized.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from pipeline.firewall.model import Ecosystem


@cache
def popular_names(ecosystem: Ecosystem) -> tuple[str, ...]:
    text = resources.files(__name__).joinpath(f"{ecosystem.value}.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@cache
def popularity_rank(ecosystem: Ecosystem) -> dict[str, int]:
    """name -> 1-based rank in the bundled list."""
    return {name: rank for rank, name in enumerate(popular_names(ecosystem), start=1)}
