"""A createJob request, checked before it is sent: the service bills every job it accepts.

Each check is one the service would make later, or one it does not make at all:
- `VulnItems` is a list (the service: 160431 "VulnItems should be list") of known names, with `ALL`
  alone (160433 "Param Value Not Define - VulnItems");
- `UserAgent` and `Speed` are from their documented enums;
- `StartUrl`'s host passes Tollgate's DAST allowlist (pipeline.scope), which the service does not
  know about; its own asset check (160451) only refuses servers outside the caller's account.
Header values (session cookies, bearer tokens) are never repeated in a message or a repr.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from normalizers.parsers.ncp_wsc import CATEGORY_CWE
from pipeline.errors import ConfigError
from pipeline.scope import Allowlist, GuardedTarget

ALL = "ALL"
VULN_ITEMS: tuple[str, ...] = (ALL, *CATEGORY_CWE)
USER_AGENTS = ("PC Chrome", "PC IE", "iPhone", "Android")
SPEEDS = ("1", "2", "3")  # normal, a bit faster, fast
MEMO = "tollgate"


@dataclass(frozen=True)
class JobSpec:
    """The body of `PUT /api/v1/job`, valid by construction (build it with `job_spec`)."""

    start: GuardedTarget
    vuln_items: tuple[str, ...]
    user_agent: str
    speed: str
    exclude_urls: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    memo: str = MEMO
    master_instance: int | None = None  # re-scan of this finished job

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "StartUrl": self.start.url,
            "VulnItems": list(self.vuln_items),
            "UserAgent": self.user_agent,
            "Speed": self.speed,
            "Memo": self.memo,
        }
        if self.exclude_urls:
            body["ExcludeUrl"] = list(self.exclude_urls)
        if self.headers:
            body["Headers"] = dict(self.headers)
        if self.master_instance is not None:
            body["MasterInstanceNo"] = str(self.master_instance)
        return body


def job_spec(start_url: str, allowlist: Allowlist, *, vuln_items: Any, user_agent: str, speed: str,
             exclude_urls: Sequence[str] = (), headers: Mapping[str, str] | None = None,
             master_instance: int | None = None) -> JobSpec:
    """A checked createJob request; ConfigError naming the first problem, before any request."""
    return JobSpec(
        start=allowlist.guard(start_url),
        vuln_items=check_vuln_items(vuln_items),
        user_agent=check_choice("UserAgent", user_agent, USER_AGENTS),
        speed=check_choice("Speed", speed, SPEEDS),
        exclude_urls=tuple(exclude_urls),
        headers=tuple((headers or {}).items()),
        master_instance=master_instance,
    )


def check_vuln_items(value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f'NCP WSC VulnItems must be a list of names such as ["ALL"] or ["XSS", "SQL Injection"], '
                          f"not {value!r} (the service would answer 160431 VulnItems should be list)")
    items = tuple(dict.fromkeys(value))
    unknown = [item for item in items if item not in VULN_ITEMS]
    if not items or unknown:
        raise ConfigError(f"NCP WSC VulnItems: unknown item(s) {unknown or '(none given)'}; known: "
                          f"{', '.join(VULN_ITEMS)} (the service would answer 160433)")
    if ALL in items and len(items) > 1:
        raise ConfigError(f'NCP WSC VulnItems: "ALL" must stand alone, got {list(items)} '
                          "(the service would answer 160433)")
    return items


def check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"NCP WSC {name}: {value!r} is not one of {', '.join(repr(a) for a in allowed)}")
    return str(value)


def parse_headers(text: str, source: str) -> dict[str, str]:
    """Request headers for the scan (auth cookies, tokens): a JSON object, or one `Name: value` per line.

    `source` names where the text came from; no value is ever quoted back.
    """
    stripped = text.strip()
    if stripped.startswith("{"):
        pairs = _json_pairs(stripped, source)
    else:
        pairs = [line.split(":", 1) for line in stripped.splitlines() if line.strip()]
    if any(len(pair) != 2 or not pair[0].strip() for pair in pairs):
        raise ConfigError(f"{source}: each header must look like 'Name: value'")
    return {name.strip(): value.strip() for name, value in pairs}


def _json_pairs(text: str, source: str) -> list[list[str]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        raise ConfigError(f"{source}: not a valid JSON object of headers") from None
    if not all(isinstance(value, str) for value in document.values()):
        raise ConfigError(f"{source}: every header value must be a string")
    return [[name, value] for name, value in document.items()]
