"""ZAP's traditional report mapped to Findings, shared by the JSON and the XML reader.

Both readers reduce their document to one plain shape: per site, its name and its alerts as
dicts keyed by ZAP's own field names (`pluginid`, `alert`, `riskcode`, `confidence`, `desc`,
`solution`, `otherinfo`, `reference`, `cweid`, `wascid`, `alertRef`, and `instances`, a list
of dicts with `uri`, `method`, `param`, `attack`, `evidence`, `otherinfo`). This module maps
that shape once.

Decisions, documented here because they differ from other importers:
- Every site and every instance is read (the seed pipeline read only the first site).
- One Finding per alert *instance*: each URL + method + parameter is a separate place to fix,
  and identity (docs/design.md) is per URL. DefectDojo makes one finding per alert instead.
- An alert without instances becomes one Finding at the site URL, so it is never lost.
- Severity comes from `riskcode` (docs/design.md): 3 HIGH, 2 MEDIUM, 1 LOW, 0 INFO. The original
  severity is ZAP's risk name for that code, since `riskdesc` is an unresolved i18n key in
  some reports add-on templates.
- ZAP confidence is kept separately: 4 (User Confirmed) and 3 → HIGH, 2 → MEDIUM, 1 → LOW.
  0 means a user marked the alert "False Positive" in ZAP, so the Finding is kept with
  `active=False` and that reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from normalizers.model import (
    Category,
    Confidence,
    Finding,
    Remediation,
    Severity,
    Skipped,
    Tool,
    UrlLocation,
)
from normalizers.numbers import small_int
from normalizers.text import html_to_text

TOOL_NAME = "ZAP"

_RISK: dict[str, tuple[Severity, str]] = {
    "3": (Severity.HIGH, "High"),
    "2": (Severity.MEDIUM, "Medium"),
    "1": (Severity.LOW, "Low"),
    "0": (Severity.INFO, "Informational"),
}
_CONFIDENCE: dict[str, tuple[Confidence, str]] = {
    "4": (Confidence.HIGH, "User Confirmed"),
    "3": (Confidence.HIGH, "High"),
    "2": (Confidence.MEDIUM, "Medium"),
    "1": (Confidence.LOW, "Low"),
    "0": (Confidence.LOW, "False Positive"),
}
_FALSE_POSITIVE = "0"


def zap_tool(version: Any) -> Tool:
    return Tool(name=TOOL_NAME, category=Category.DAST, version=text_or_none(version))


def text_or_none(value: Any) -> str | None:
    """ZAP writes absent values as "", null or a missing key; all three mean None."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def site_findings(site_name: str, alerts: Iterable[Any], tool: Tool, record: str) -> Iterator[Finding | Skipped]:
    """Every instance of every alert of one site; `record` points at the site in the report."""
    for index, alert in enumerate(alerts):
        pointer = f"{record}.alerts[{index}]"
        if not isinstance(alert, dict):
            yield Skipped(tool=TOOL_NAME, reason="the alert is not an object", record=pointer)
            continue
        yield from _alert_findings(site_name, alert, tool, pointer)


def _alert_findings(site_name: str, alert: dict[str, Any], tool: Tool, pointer: str) -> Iterator[Finding | Skipped]:
    shared = _shared_fields(alert, tool)
    if isinstance(shared, str):
        yield Skipped(tool=TOOL_NAME, reason=shared, record=pointer)
        return
    instances = alert.get("instances") or [{}]  # no instances: one finding at the site URL
    if not isinstance(instances, list):
        yield Skipped(tool=TOOL_NAME, reason="`instances` is not a list", record=pointer)
        return
    description = html_to_text(text_or_none(alert.get("desc")))
    alert_other_info = html_to_text(text_or_none(alert.get("otherinfo")))
    for index, instance in enumerate(instances):
        if not isinstance(instance, dict):
            reason = "the instance is not an object"
            yield Skipped(tool=TOOL_NAME, reason=reason, record=f"{pointer}.instances[{index}]")
            continue
        other_info = html_to_text(text_or_none(instance.get("otherinfo"))) or alert_other_info
        yield Finding(
            **shared,
            location=_location(instance, site_name),
            description=f"{description}\n\nOther information: {other_info}" if other_info else description,
        )


def _shared_fields(alert: dict[str, Any], tool: Tool) -> dict[str, Any] | str:
    """The fields every instance of an alert shares, or the reason the alert is unreadable."""
    plugin_id = text_or_none(alert.get("pluginid"))
    title = text_or_none(alert.get("alert")) or text_or_none(alert.get("name"))
    risk = _RISK.get(text_or_none(alert.get("riskcode")) or "")
    if not plugin_id or not title:
        return "the alert has no pluginid or name"
    if risk is None:
        return f"unknown riskcode {alert.get('riskcode')!r}"
    confidence_code = text_or_none(alert.get("confidence")) or ""
    confidence, confidence_name = _CONFIDENCE.get(confidence_code, (Confidence.UNKNOWN, confidence_code))
    solution = html_to_text(text_or_none(alert.get("solution")))
    false_positive = confidence_code == _FALSE_POSITIVE
    return {
        "tool": tool,
        "rule_id": plugin_id,
        "title": title,
        "severity": risk[0],
        "original_severity": risk[1],
        "confidence": confidence,
        "cwe": _positive_ids(alert.get("cweid")),
        "remediation": Remediation(text=solution) if solution else None,
        "references": _references(alert.get("reference")),
        "active": not false_positive,
        "suppression_reason": "marked as a false positive in ZAP (confidence 0)" if false_positive else None,
        "properties": _properties(alert, confidence_name),
    }


def _location(instance: dict[str, Any], site_name: str) -> UrlLocation:
    return UrlLocation(
        url=text_or_none(instance.get("uri")) or site_name,
        method=text_or_none(instance.get("method")),
        parameter=text_or_none(instance.get("param")),
        attack=text_or_none(instance.get("attack")),
        evidence=text_or_none(instance.get("evidence")),
    )


def _positive_ids(value: Any) -> tuple[int, ...]:
    """ZAP writes -1 or 0 for "no CWE"."""
    text = text_or_none(value)
    number = small_int(text)
    return (number,) if number is not None and number > 0 else ()


def _references(value: Any) -> tuple[str, ...]:
    """ZAP's `reference` is HTML with one link per paragraph; one reference per line, no repeats."""
    return tuple(dict.fromkeys(html_to_text(text_or_none(value)).splitlines()))


def _properties(alert: dict[str, Any], confidence_name: str) -> tuple[tuple[str, str], ...]:
    pairs = (
        ("zap.alertRef", text_or_none(alert.get("alertRef"))),
        ("zap.wascid", "".join(map(str, _positive_ids(alert.get("wascid"))))),
        ("zap.confidence", confidence_name or None),
    )
    return tuple((key, value) for key, value in pairs if value)
