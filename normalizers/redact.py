"""Secrets never leave: one pass over every text field of every finding, before any emitter.

It masks, keeping at most a short prefix (`F12Z…`):
- tokens in known formats, wherever they appear (AWS key ids and secret keys, GitHub, Slack,
  Stripe and Google tokens, JWTs, private key blocks), and literals assigned to a
  credential-named key (`password = "…"`, `DB_PASSWORD=…`);
- the values that secret scanners and credential rules point at: the quoted literals (and, for
  secret scanners, the assigned values) in the title, message and snippet of a finding from
  Bandit B105 to B107, a Semgrep or Checkov credential rule, Trivy's secret scan, or any tool of
  the secrets category. Such a value is masked in every finding of the report where it is long
  enough to be unambiguous, and in its own finding whatever its length.

The pass runs in `normalizers.parsing.parse_report`, so every path from a report to an output
(normalize, scan, the publish Lambda, gate) goes through it; merged findings are made of
redacted ones.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from normalizers.model import Category, CodeLocation, Evidence, Finding, Location, Remediation, UrlLocation

MASK = "…"
_T = TypeVar("_T")
_D = TypeVar("_D")
_REPORT_WIDE_LENGTH = 8  # a shorter value ("admin") is masked only in its own finding

@dataclass(frozen=True)
class _Format:
    """A token format. `group` is the secret (0: a credential assignment, see `_mask_group`); the rest of the
    match stays readable. Every match holds `hint`, searched first (in the lower-cased text where the pattern
    ignores case): a text without it is never run through the pattern."""

    pattern: re.Pattern[str]
    group: int
    hint: re.Pattern[str]
    folded: bool = False


def _format(pattern: str, group: int, hint: str, *, folded: bool = False, flags: int = 0) -> _Format:
    return _Format(re.compile(pattern, flags), group, re.compile(hint), folded)


_KNOWN_FORMATS: tuple[_Format, ...] = (
    _format(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(.*?)(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
            1, r"-----BEGIN", flags=re.S),
    _format(r"\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16})\b",
            1, r"A3T|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA"),
    _format(r"(?i)aws.{0,30}?(?:secret|key).{0,30}?[\s'\"=:(]([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])", 1, r"aws",
            folded=True),
    _format(r"\b(gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b", 1, r"gh[pousr]_|github_pat_"),
    _format(r"\b(xox[abposre]-[A-Za-z0-9-]{10,})", 1, r"xox"),
    _format(r"hooks\.slack\.com/services/([A-Za-z0-9_/-]{8,})", 1, r"hooks\.slack\.com"),
    _format(r"\b(eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,})", 1, r"eyJ"),
    _format(r"\b(AIza[0-9A-Za-z_-]{35})", 1, r"AIza"),
    _format(r"\b([rs]k_live_[0-9A-Za-z]{20,})", 1, r"k_live_"),
    _format(r"\b(glpat-[0-9A-Za-z_-]{20,})", 1, r"glpat-"),
    _format(r"\b(npm_[A-Za-z0-9]{36})\b", 1, r"npm_"),
    # A literal assigned to a credential-named key, in code, YAML, .env or Terraform:
    # `password = "…"`, `DB_PASSWORD=…`, `secret_key: '…'`. References (var.x, ${X}, env()) are not values.
    # The match starts at the credential word, not at the start of the key (`DB_` stays outside it and is
    # kept as written): a leading `[\w.-]*`, retried from every offset of a long word, was quadratic.
    _format(r"(?i)(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)"
            r"(?:[_-]?(?:key|id|value|hash|str|string))?"
            r"[\"']?\s*(?::=|=>|[:=])\s*(?:(?P<q>[\"'`])(?!\$\{|var\.|local\.)([^\"'`\n]{4,256}?)(?P=q)"
            r"|(?![\"'`$]|var\.|local\.|env\b|os\.)([^\s\"'`(){},;]{8,256}))",
            0, r"passw|pwd|secret|token|key", folded=True),
)
# Any hint at all, in two searches: a case-insensitive alternation costs sre six times as much as both together.
_ANY_HINT = re.compile("|".join(f.hint.pattern for f in _KNOWN_FORMATS if not f.folded))
_ANY_FOLDED_HINT = re.compile("|".join(f.hint.pattern for f in _KNOWN_FORMATS if f.folded))
_QUOTED = re.compile(r"""(['"`])([^'"`\n]{4,256}?)\1""")
_ASSIGNED = re.compile(r"""[=:]\s*([^\s'"`,;)]{8,256})""")
_CREDENTIAL_RULE = re.compile(r"hard-?coded|secret|password|passwd|credential|api[-_]?key|token|private[-_]?key", re.I)
_BANDIT_CREDENTIAL_RULES = frozenset({"B105", "B106", "B107"})
_NAME = re.compile(r"[a-z_]+(?:\.[A-Za-z_]\w*)*|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_NOT_VALUES = frozenset({"true", "false", "none", "null", "nil", "undefined", "required", "optional"})


def mask(value: str) -> str:
    """At most a quarter of the value, and never more than four characters, then `…`."""
    return value[: min(4, len(value) // 4)] + MASK


def redact_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Every finding with every text field masked; findings without secrets come back unchanged."""
    findings = list(findings)
    own = [_pointed_values(f) for f in findings]
    report_wide = {v for values in own for v in values if len(v) >= _REPORT_WIDE_LENGTH}
    shared = _Masker(report_wide)  # most findings point at no value of their own: one masker, one cache
    return [_redacted(f, _Masker(report_wide | values) if values else shared) for f, values in zip(findings, own,
                                                                                                     strict=True)]


def redact_text(text: str) -> str:
    """Known-format tokens masked in free text (log lines, messages that are not findings)."""
    return _Masker(set())(text)


def _is_credential_finding(finding: Finding) -> bool:
    tool = finding.tool.name.lower()
    rule = finding.rule_id.upper()
    if finding.category is Category.SECRETS or rule.startswith("CKV_SECRET"):
        return True
    if tool.startswith("bandit"):
        return rule in _BANDIT_CREDENTIAL_RULES
    return tool.startswith("semgrep") and bool(_CREDENTIAL_RULE.search(finding.rule_id))


def _pointed_values(finding: Finding) -> set[str]:
    """The values a secret scanner or credential rule points at in its own texts."""
    if not _is_credential_finding(finding):
        return set()
    snippet = finding.location.snippet if isinstance(finding.location, CodeLocation) else None
    texts = [finding.title, finding.description, snippet or ""]
    values = {m.group(2) for text in texts for m in _QUOTED.finditer(text)}
    if finding.category is Category.SECRETS and snippet:
        values |= {m.group(1) for m in _ASSIGNED.finditer(snippet)}
    return {v for v in values if not _is_masked(v)}


def _is_masked(value: str) -> bool:
    """Masked already, by us (`F12Z…`) or by the tool (`********`, Checkov's `AKIA****`)."""
    return MASK in value or not value.strip() or value.count("*") >= max(3, len(value) // 2)


class _Masker:
    """Masks texts; an unchanged text, or tuple of texts, comes back as the very object given (callers test `is`).

    Reports repeat their texts (one advisory's description and references in every package it
    affects), so each distinct text, and each distinct tuple of them, is masked once.
    """

    def __init__(self, values: set[str]) -> None:
        self._ordered = sorted(values, key=len, reverse=True)  # a value inside a longer one must not split it
        self._texts: dict[str, str | None] = {}  # text -> its masked form, None when masking changes nothing
        self._tuples: dict[tuple[str, ...], tuple[str, ...] | None] = {}  # the same, for tuples of texts

    def __call__(self, text: str) -> str:
        try:
            result = self._texts[text]
        except KeyError:
            result = self._texts[text] = _mask_text(text, self._ordered)
        return text if result is None else result

    def each(self, texts: tuple[str, ...]) -> tuple[str, ...]:
        if not texts:
            return texts
        try:
            result = self._tuples[texts]
        except KeyError:
            redacted = tuple(map(self, texts))
            result = self._tuples[texts] = None if all(map(operator.is_, redacted, texts)) else redacted
        return texts if result is None else result


def _mask_text(text: str, ordered: list[str]) -> str | None:
    original = text
    for known in _formats_in(text):
        text = known.pattern.sub(functools.partial(_mask_group, group=known.group), text)
    for value in ordered:
        if value in text:
            text = text.replace(value, mask(value))
    return None if text == original else text


def _formats_in(text: str) -> tuple[_Format, ...]:
    """The formats whose hint the text holds; all of them for a text that is not ASCII, since case-insensitive
    matching also folds a few other letters (the long s) onto ASCII ones."""
    if not text.isascii():
        return _KNOWN_FORMATS
    lower = text.lower()
    if not _ANY_HINT.search(text) and not _ANY_FOLDED_HINT.search(lower):
        return ()
    return tuple(f for f in _KNOWN_FORMATS if f.hint.search(lower if f.folded else text))


def _mask_group(match: re.Match[str], *, group: int) -> str:
    if group == 0:  # a credential assignment: the value is the quoted or the bare alternative
        group = 2 if match.group(2) is not None else 3
        value = match.group(group)
        if _is_masked(value) or value.lower() in _NOT_VALUES or (group == 3 and _NAME.fullmatch(value)):
            return match.group(0)  # already masked, a keyword, or a bare name (a variable, not a value)
    start, end = match.span(group)
    whole_start = match.start()
    text = match.group(0)
    secret = match.group(group)
    if not secret.strip():
        return text
    return text[: start - whole_start] + mask(secret.strip()) + text[end - whole_start:]


def _redacted(finding: Finding, masked: _Masker) -> Finding:
    return _with(finding, {
        "rule_id": masked(finding.rule_id),
        "title": masked(finding.title),
        "description": masked(finding.description),
        "remediation": _remediation(finding.remediation, masked),
        "references": masked.each(finding.references),
        "suppression_reason": _opt(finding.suppression_reason, masked),
        "properties": _properties(finding.properties, masked),
        "location": _location(finding.location, masked),
        "evidence": _each(finding.evidence, _evidence, masked),
    })


def _with(record: _D, fields: dict[str, object]) -> _D:
    """`record` itself when every field is the object it already holds, else a copy with the new ones."""
    changed = {name: value for name, value in fields.items() if value is not getattr(record, name)}
    return dataclasses.replace(record, **changed) if changed else record  # type: ignore[type-var]


def _opt(text: str | None, masked: _Masker) -> str | None:
    return masked(text) if text else text


def _each(items: tuple[_T, ...], redact: Callable[[_T, _Masker], _T],
          masked: _Masker) -> tuple[_T, ...]:
    """The same tuple when no item changes, so an untouched finding is never copied."""
    redacted = tuple([redact(item, masked) for item in items])
    return items if all(map(operator.is_, redacted, items)) else redacted


def _properties(properties: tuple[tuple[str, str], ...], masked: _Masker) -> tuple[tuple[str, str], ...]:
    return _each(properties, lambda pair, m: pair if (value := m(pair[1])) is pair[1] else (pair[0], value), masked)


def _remediation(remediation: Remediation | None, masked: _Masker) -> Remediation | None:
    if remediation is None:
        return None
    return _with(remediation, {"text": _opt(remediation.text, masked), "url": _opt(remediation.url, masked)})


def _location(location: Location, masked: _Masker) -> Location:
    if isinstance(location, CodeLocation) and location.snippet:
        return _with(location, {"snippet": masked(location.snippet)})
    if isinstance(location, UrlLocation):
        return _with(location, {"url": masked(location.url), "parameter": _opt(location.parameter, masked),
                                "attack": _opt(location.attack, masked), "evidence": _opt(location.evidence, masked)})
    return location


def _evidence(evidence: Evidence, masked: _Masker) -> Evidence:
    return _with(evidence, {"rule_id": masked(evidence.rule_id), "title": masked(evidence.title),
                            "description": masked(evidence.description)})
