"""The behaviour tables (data/behaviour.yaml), loaded once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from normalizers.tables import load_table


@dataclass(frozen=True)
class BehaviourTables:
    setup_calls: dict[str, frozenset[str]]  # category -> dotted call names
    hook_tokens: dict[str, tuple[str, ...]]  # category -> tokens
    disposable_domains: frozenset[str]


@lru_cache(maxsize=1)
def tables() -> BehaviourTables:
    loaded: dict[str, Any] = load_table("pipeline.firewall", "data/behaviour.yaml")
    return BehaviourTables(
        setup_calls={kind: frozenset(names) for kind, names in loaded["setup-calls"].items()},
        hook_tokens={kind: tuple(tokens) for kind, tokens in loaded["hook-tokens"].items()},
        disposable_domains=frozenset(domain.lower() for domain in loaded["disposable-mail-domains"]),
    )
