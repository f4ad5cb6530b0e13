"""The behaviour tables (data/behaviour.yaml), loaded once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class BehaviourTables:
    setup_calls: dict[str, frozenset[str]]  # category -> dotted call names
    hook_tokens: dict[str, tuple[str, ...]]  # category -> tokens
    disposable_domains: frozenset[str]


@lru_cache(maxsize=1)
def tables() -> BehaviourTables:
    text = resources.files("pipeline.firewall").joinpath("data/behaviour.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return BehaviourTables(
        setup_calls={kind: frozenset(names) for kind, names in loaded["setup-calls"].items()},
        hook_tokens={kind: tuple(tokens) for kind, tokens in loaded["hook-tokens"].items()},
        disposable_domains=frozenset(domain.lower() for domain in loaded["disposable-mail-domains"]),
    )
