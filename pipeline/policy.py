"""The gate's policy: `.tollgate.yml`, validated by the JSON Schema shipped beside this module.

Every problem is reported as `<file>: <path>: <what is wrong>`, e.g.
`.tollgate.yml: suppressions[2]: 'reason' is a required property`, and every error in the
file is listed at once, so a user fixes the policy in one round trip. YAML syntax errors
are one line with the line and column. Dates stay strings while the schema checks them
(PyYAML would otherwise turn `2026-12-31` into a `date` the schema cannot see), and a key
written twice is an error, because YAML would silently keep the last one: a second,
laxer `fail-on` must never win unnoticed.

With no policy file the gate fails on HIGH and CRITICAL findings.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from packageurl import PackageURL

from normalizers.model import Category, Finding, Severity
from pipeline.config_file import format_path, load_yaml
from pipeline.errors import ConfigError

DEFAULT_POLICY_FILE = ".tollgate.yml"
DEFAULT_FAIL_ON = Severity.HIGH
NEVER_FAIL = "none"


@dataclass(frozen=True)
class Suppression:
    """One accepted finding or group of findings. All selectors given must match (AND)."""

    index: int  # position in `suppressions`, so messages point at the entry
    reason: str
    expires: date  # the last day it applies
    rule: str | None = None
    fingerprint: str | None = None
    path: str | None = None
    package: str | None = None

    def is_expired(self, today: date) -> bool:
        return today > self.expires

    @property
    def label(self) -> str:
        selectors = (("rule", self.rule), ("fingerprint", self.fingerprint), ("path", self.path),
                     ("package", self.package))
        described = ", ".join(f"{name} {value}" for name, value in selectors if value)
        return f"suppressions[{self.index}] ({described})"


@dataclass(frozen=True)
class Policy:
    fail_on: Severity | None = DEFAULT_FAIL_ON  # None: never fail
    category_fail_on: tuple[tuple[Category, Severity | None], ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    baseline: str | None = None  # resolved against the policy file's directory
    source: str = "<default policy>"
    fail_on_kev: bool = False  # an open CVE in CISA KEV fails, whatever its severity or the baseline
    fail_on_epss: float | None = None  # an open CVE this likely to be exploited (EPSS) fails, likewise
    vex: tuple[str, ...] = ()  # VEX documents, resolved against the policy file's directory
    epss: str | None = None  # an EPSS snapshot, resolved against the policy file's directory

    def threshold(self, category: Category) -> Severity | None:
        return dict(self.category_fail_on).get(category, self.fail_on)

    def exploitation_fails(self, finding: Finding) -> bool:
        """Known (KEV) or likely (EPSS) exploitation fails an open finding whatever its severity, new or not."""
        if self.fail_on_kev and finding.kev is not None:
            return True
        return (self.fail_on_epss is not None and finding.epss is not None
                and finding.epss.probability >= self.fail_on_epss)

    def with_fail_on(self, fail_on: str | None) -> Policy:
        """A command-line `--fail-on` replaces the file's default threshold, not its overrides."""
        return self if fail_on is None else dataclasses.replace(self, fail_on=parse_threshold(fail_on))

    def describe_thresholds(self) -> str:
        overrides = "".join(f"; {c.value}: {_threshold_name(s)}" for c, s in self.category_fail_on)
        kev = "; fail-on-kev" if self.fail_on_kev else ""
        epss = f"; fail-on-epss {self.fail_on_epss:g}" if self.fail_on_epss is not None else ""
        return f"fail-on {_threshold_name(self.fail_on)}{overrides}{kev}{epss}"


def parse_threshold(value: str) -> Severity | None:
    if value.lower() == NEVER_FAIL:
        return None
    try:
        return Severity(value.upper())
    except ValueError:
        allowed = ", ".join([s.value.lower() for s in Severity] + [NEVER_FAIL])
        raise ConfigError(f"fail-on: {value!r} is not a severity ({allowed})") from None


def _threshold_name(severity: Severity | None) -> str:
    return NEVER_FAIL if severity is None else severity.value.lower()


@cache
def policy_schema() -> dict[str, Any]:
    text = resources.files("pipeline").joinpath("policy.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def load_policy(path: str | Path) -> Policy:
    text = Path(path).read_text(encoding="utf-8")
    policy = parse_policy(text, source=str(path))
    folder = Path(path).parent
    return dataclasses.replace(policy, baseline=str(folder / policy.baseline) if policy.baseline else None,
                               vex=tuple(str(folder / vex) for vex in policy.vex),
                               epss=str(folder / policy.epss) if policy.epss else None)


def parse_policy(text: str, source: str = DEFAULT_POLICY_FILE) -> Policy:
    document = load_yaml(text, source)
    if document is None:  # an empty file is the default policy
        return Policy(source=source)
    problems = sorted(_schema_problems(document)) or list(_purl_problems(document))
    if problems:
        raise ConfigError("\n".join(f"{source}: {where}{what}" for where, what in problems),
                          tip="the policy's JSON Schema is pipeline/policy.schema.json")
    return _policy_from_document(document, source)


def _schema_problems(document: Any) -> Iterable[tuple[str, str]]:
    validator = Draft202012Validator(policy_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    for error in validator.iter_errors(document):
        where = format_path(error.absolute_path)
        prefix = f"{where}: " if where else ""
        for message in _messages(error):
            yield prefix, message


def _messages(error: ValidationError) -> list[str]:
    custom: Mapping[str, str] = error.schema.get("x-messages", {}) if isinstance(error.schema, dict) else {}
    if error.validator in custom:
        return [custom[str(error.validator)]]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        return _unknown_keys(error.instance, error.schema)
    return [error.message]


def _unknown_keys(instance: dict[str, Any], schema: Any) -> list[str]:
    known = list(schema.get("properties", {}))
    messages = []
    for key in sorted(str(k) for k in instance if k not in known):
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        messages.append(f"unknown key {key!r} ({hint}allowed: {', '.join(known)})")
    return messages


def _purl_problems(document: dict[str, Any]) -> Iterable[tuple[str, str]]:
    for index, entry in enumerate(document.get("suppressions") or ()):
        package = entry.get("package", "")
        if package.startswith("pkg:"):
            try:
                PackageURL.from_string(package)
            except ValueError as exc:
                yield f"suppressions[{index}].package: ", f"{package!r} is not a valid purl ({exc})"


def _policy_from_document(document: dict[str, Any], source: str) -> Policy:
    fail_on = document.get("fail-on")
    return Policy(
        fail_on=DEFAULT_FAIL_ON if fail_on is None else parse_threshold(fail_on),
        category_fail_on=tuple(
            (Category(name), parse_threshold(override["fail-on"]))
            for name, override in (document.get("categories") or {}).items()
        ),
        suppressions=tuple(
            _suppression(index, entry) for index, entry in enumerate(document.get("suppressions") or ())
        ),
        baseline=document.get("baseline"),
        source=source,
        fail_on_kev=bool(document.get("fail-on-kev", False)),
        fail_on_epss=document.get("fail-on-epss"),
        vex=tuple(document.get("vex") or ()),
        epss=document.get("epss"),
    )


def _suppression(index: int, entry: dict[str, Any]) -> Suppression:
    return Suppression(
        index=index,
        reason=entry["reason"].strip(),
        expires=date.fromisoformat(entry["expires"]),
        rule=None if entry.get("rule") is None else str(entry["rule"]),
        fingerprint=entry.get("fingerprint"),
        path=entry.get("path"),
        package=entry.get("package"),
    )
