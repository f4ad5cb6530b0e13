"""The reputation score (seed B): points from a configurable table, thresholds for Green, Yellow and Red.

Each rule looks at one signal and adds its points when the signal is past its limit. A signal
that cannot be read adds the rule's `unknown` points, and the reason says why it could not be
read (offline, the API unreachable, no GitHub link); nothing is ever guessed. Install-time
behaviour signals (pipeline/firewall/behaviour/) add their rule's points with their evidence. With the default
table, seed B's `request2` scores 50, Red: downloads unknown (+20), stars unknown (+10), last
release in 2021 (+10), 2 versions (+10). Reasons list only rules that added points, in table order.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pipeline.firewall.behaviour import BehaviourSignal
from pipeline.firewall.config import ReputationTable, ScoreRule
from pipeline.firewall.facts import PackageFacts


class RiskLevel(str, enum.Enum):
    GREEN = "Green"
    YELLOW = "Yellow"
    RED = "Red"

    @property
    def rank(self) -> int:
        return list(RiskLevel).index(self)


@dataclass(frozen=True)
class Signal:
    """A number read from somewhere (downloads, stars), or None with the reason it is unknown."""

    value: int | None
    detail: str
    above_limit: bool = False  # not counted, but known to be far above any limit (a top-ranked package)


@dataclass(frozen=True)
class Reason:
    rule: str
    points: int
    detail: str


@dataclass(frozen=True)
class Score:
    points: int
    level: RiskLevel
    reasons: tuple[Reason, ...]


def level_for(points: int, table: ReputationTable) -> RiskLevel:
    if points >= table.red:
        return RiskLevel.RED
    return RiskLevel.YELLOW if points >= table.yellow else RiskLevel.GREEN


def score(facts: PackageFacts, downloads: Signal, stars: Signal, table: ReputationTable, now: datetime,
          *, behaviour: Sequence[BehaviourSignal] = ()) -> Score:
    reasons = [reason for reason in (
        _below(table.rule("downloads"), downloads, "downloads in the last month"),
        _below(table.rule("stars"), stars, "GitHub stars"),
        _age(table.rule("last-release"), facts.last_release, now, older=True),
        _below(table.rule("versions"), Signal(len(facts.releases), "releases on the registry"), "releases"),
        _age(table.rule("first-release"), facts.first_release, now, older=False),
        _flag(table.rule("project-links"), not facts.links, "no homepage or repository link"),
        _flag(table.rule("install-scripts"), bool(facts.install_scripts),
              f"runs install scripts: {', '.join(facts.install_scripts)}"),
        _below(table.rule("maintainers"), Signal(facts.maintainers, "the registry lists no maintainers"),
               "maintainers"),
        *(_flag(table.rule(signal.rule), True, signal.evidence) for signal in behaviour),
    ) if reason is not None and reason.points > 0]
    total = sum(reason.points for reason in reasons)
    return Score(total, level_for(total, table), tuple(reasons))


def _below(rule: ScoreRule, signal: Signal, what: str) -> Reason | None:
    if signal.above_limit:
        return None
    if signal.value is None:
        return Reason(rule.name, rule.unknown, f"{what}: unknown ({signal.detail})")
    if rule.limit is not None and signal.value < rule.limit:
        return Reason(rule.name, rule.points, f"{signal.value} {what} (< {rule.limit:g})")
    return None


def _age(rule: ScoreRule, when: datetime | None, now: datetime, older: bool) -> Reason | None:
    label = "last release" if older else "first release"
    if when is None:
        return Reason(rule.name, rule.unknown, f"{label}: unknown (the registry gives no dates)")
    days = (now - when).total_seconds() / 86400
    limit = rule.limit or 0
    if (days > limit) if older else (days < limit):
        relation = "more" if older else "less"
        return Reason(rule.name, rule.points,
                      f"{label} {when.date().isoformat()}, {days:.0f} days ago ({relation} than {limit:g} days)")
    return None


def _flag(rule: ScoreRule, raised: bool, detail: str) -> Reason | None:
    return Reason(rule.name, rule.points, detail) if raised else None
