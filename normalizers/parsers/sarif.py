"""SARIF 2.1.0 from any tool (CodeQL, Semgrep, Bandit, Checkov, Trivy, Grype, dependency-check, …).

Decisions:
- One Finding per result. Results of kind `pass` or `notApplicable` are not problems: they are
  counted as Skipped. A result that cannot be read (schema-invalid SARIF from the wild: wrong
  types, objects where strings belong) is Skipped with the reason; the rest of the file still counts.
- Tool: `run.tool.driver` name and version. Category: `TOOL_PROFILES` (one table, keyed by the
  lower-case driver name), refined by `CATEGORY_BY_RULE_NAME` (Trivy names its scanner in the
  rule's `name`). A tool not in the table is `sast`, unless its result names a package (`sca`).
- Severity: a tool profile's own rule first (dependency-check: its CVSS, as its JSON report
  gives it); else `properties["security-severity"]` of the result or its rule (a CVSS-like score);
  else `level` (result, then the rule's `defaultConfiguration`, then the SARIF default: `warning`
  for `kind: fail`, `none` otherwise): error HIGH, warning MEDIUM, note LOW, none INFO.
  Then `normalizers.severity` calibrates the tools whose ratings mean something else (Checkov,
  hadolint, Bandit, and the checks of tables/iac_checks.yml).
- Location, first that applies:
  1. a package: a purl in the result's logical locations, its artifact's properties or its
     properties, or package labels (`Package:`, `Installed Version:`, `Fixed Version:`) in the
     message or rule help of a vulnerability result -> PackageLocation, manifest = the artifact.
     dependency-check's SARIF goes through `dependency_check.mapping`, so it gets the same
     identity as the same scan's JSON or XML report.
  2. the first physical location: CodeLocation with the artifact URI made repository-relative
     (`uriBaseId` chains resolved through `originalUriBaseIds`; a base that
     `versionControlProvenance.mappedTo` names, or an undefined one such as `%SRCROOT%`, is the
     repository root; an absolute base is the root unless `source_root` strips it; `file://`
     removed). An `http(s)` URI is a UrlLocation.
  3. no physical location (binary scanners, image linters): CodeLocation whose path is the
     result's `analysisTarget`, else the run's only artifact, else `.` (the scanned target as a
     whole), and whose snippet is the logical location's name, so that the same rule at two
     functions stays two findings. Such results are real findings and are never dropped.
- Suppressions: a non-empty `suppressions` whose statuses are all `accepted` (the default)
  makes the finding inactive, with the justification (or the kind) as the reason.
- A result that names no rule (Gitleaks 7 writes none) is identified by its message's first line.
- The result's message is kept as `Finding.message`: identity tells two results of one rule at one
  place apart by it (normalizers.identity).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from normalizers.errors import MalformedReportError, UnsupportedReportError
from normalizers.identity import FINGERPRINT_KEY, LEGACY_FINGERPRINT_KEY
from normalizers.model import (
    Category,
    CodeLocation,
    Confidence,
    Cvss,
    Finding,
    ImageLocation,
    Location,
    PackageLocation,
    Remediation,
    Severity,
    Skipped,
    Tool,
    UrlLocation,
)
from normalizers.numbers import small_int
from normalizers.parsers.base import ParseOptions, Parser
from normalizers.parsers.dependency_check import mapping as dc
from normalizers.parsers.paths import repo_relative
from normalizers.raw_report import Report
from normalizers.severity import RuleFacts, calibrated
from normalizers.text import resolve_metavariables, split_labelled_header, truncate, without_title
from normalizers.tool_id import ToolId

SeverityRule = Callable[[Mapping[str, Any], Mapping[str, Any]], tuple[Severity, "str | None", tuple[Cvss, ...]]]


@dataclass(frozen=True)
class ToolProfile:
    category: Category
    vulnerability_category: Category | None = None  # for results that name a vulnerability or a package
    severity: SeverityRule | None = None  # the tool's own severity rule, before security-severity and level


TOOL_PROFILES: dict[str, ToolProfile] = {
    "dependency-check": ToolProfile(Category.SCA, severity=dc.sarif_severity),
    "grype": ToolProfile(Category.SCA),
    "osv-scanner": ToolProfile(Category.SCA),
    "govulncheck": ToolProfile(Category.SCA),
    "snyk open source": ToolProfile(Category.SCA),
    "trivy": ToolProfile(Category.IAC, vulnerability_category=Category.SCA),
    "checkov": ToolProfile(Category.IAC),
    "tfsec": ToolProfile(Category.IAC),
    "kics": ToolProfile(Category.IAC),
    "terrascan": ToolProfile(Category.IAC),
    "hadolint": ToolProfile(Category.IAC),
    "cfn-lint": ToolProfile(Category.IAC),
    "dockle": ToolProfile(Category.IMAGE),
    "gitleaks": ToolProfile(Category.SECRETS),
    "detect-secrets": ToolProfile(Category.SECRETS),
    "trufflehog": ToolProfile(Category.SECRETS),
    "ggshield": ToolProfile(Category.SECRETS),
    "zap": ToolProfile(Category.DAST),
    "owasp zap": ToolProfile(Category.DAST),
    "nuclei": ToolProfile(Category.DAST),
}
CATEGORY_BY_RULE_NAME: dict[str, Category] = {
    "secret": Category.SECRETS,
    "misconfiguration": Category.IAC,
    "ospackagevulnerability": Category.SCA,
    "languagespecificpackagevulnerability": Category.SCA,
}
_LEVEL_SEVERITY = {"error": Severity.HIGH, "warning": Severity.MEDIUM, "note": Severity.LOW, "none": Severity.INFO}
_PRECISION = {"very-high": Confidence.HIGH, "high": Confidence.HIGH, "medium": Confidence.MEDIUM, "low": Confidence.LOW}
_NOT_A_PROBLEM = frozenset({"pass", "notApplicable"})
_PACKAGE_LABEL = re.compile(
    r"^[ \t]*(package|installed version|version|fixed version|fix version):[ \t]*(.*?)[ \t]*$", re.I | re.M
)
_LABEL_FIELD = {"package": "name", "installed version": "version", "version": "version",
                "fixed version": "fixed", "fix version": "fixed"}
_PACKAGE_PROPERTIES = {"name": ("component", "packageName", "package_name", "pkgName"),
                       "version": ("componentVersion", "packageVersion", "installedVersion", "installed_version"),
                       "ecosystem": ("componentOrigin", "ecosystem")}
_ABSOLUTE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|/|\\)")
_PLACEHOLDER = re.compile(r"\{(\d+)\}")
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
_PLACEHOLDER_TITLE = re.compile(r"^[\w .-]{1,40} Finding: \S+$")  # Semgrep's "Semgrep Finding: <rule id>"


def profile_for(tool_name: str) -> ToolProfile | None:
    name = tool_name.strip().lower()
    return TOOL_PROFILES.get(name) or next((p for key, p in TOOL_PROFILES.items() if name.startswith(key)), None)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _at(items: tuple[dict[str, Any], ...], index: Any) -> dict[str, Any]:
    """items[index] for a valid SARIF array index, else {} (schema-invalid logs have bad ones)."""
    position = _int(index)
    return items[position] if position is not None and 0 <= position < len(items) else {}


def _text(value: Any) -> str | None:
    """`{"text": …}` (a SARIF message or multiformatMessageString) -> the text."""
    return _str(_dict(value).get("text"))


def _file_path(uri: str) -> str:
    """`file:///C:/x`, `file://C:\\x` (dependency-check), `file://host/x` -> a local path."""
    if uri[:5].lower() == "file:":
        rest = uri[5:]
        if rest.startswith("//"):
            rest = rest[2:]
            if not rest.startswith("/") and not _DRIVE_LETTER.match(rest):
                rest = "/" + rest.split("/", 1)[1] if "/" in rest else rest  # drop the host
        uri = rest
    return unquote(uri)


@dataclass(frozen=True)
class _RuleFacts:
    title: str | None  # the rule's shortDescription
    name: str | None
    full_description: str | None
    remediation: Remediation | None
    references: tuple[str, ...]
    cwe: tuple[int, ...]
    vulnerability_ids: tuple[str, ...]
    confidence: Confidence
    category: Category | None


def _cwe_texts(rule: dict[str, Any], properties: Mapping[str, Any]) -> list[str]:
    texts = [t for t in _dict(rule.get("properties")).get("tags") or () if isinstance(t, str)]
    for value in (properties.get("cwe"), properties.get("cwes")):
        texts += [value] if isinstance(value, str) else [v for v in value or () if isinstance(v, str)]
    for relation in _dicts(rule.get("relationships")):
        target = _dict(relation.get("target"))
        if str(_dict(target.get("toolComponent")).get("name", "")).upper() == "CWE":
            texts.append(f"CWE-{target.get('id')}")
    return texts


def _rule_facts(rule_id: str, rule: dict[str, Any]) -> _RuleFacts:
    properties = _dict(rule.get("properties"))
    help_text, help_uri = _text(rule.get("help")), _str(rule.get("helpUri"))
    return _RuleFacts(
        title=_text(rule.get("shortDescription")),
        name=_str(rule.get("name")),
        full_description=_text(rule.get("fullDescription")),
        remediation=Remediation(help_text, help_uri) if help_text or help_uri else None,
        references=(help_uri,) if help_uri else (),
        cwe=dc.cwe_ids(_cwe_texts(rule, properties)),
        vulnerability_ids=dc.vulnerability_ids(rule_id),
        confidence=_PRECISION.get(str(properties.get("precision", "")).lower(), Confidence.UNKNOWN),
        category=CATEGORY_BY_RULE_NAME.get(str(rule.get("name", "")).lower()),
    )


@dataclass(frozen=True)
class _Run:
    """What every result of one run refers to: its tool, rules, artifacts and URI bases."""

    tool_name: str
    tools: dict[Category, Tool]
    profile: ToolProfile | None
    rules: tuple[tuple[dict[str, Any], ...], ...]  # driver rules, then each extension's
    rules_by_id: dict[str, dict[str, Any]]
    artifacts: tuple[dict[str, Any], ...]
    bases: dict[str, Any]
    repository_roots: frozenset[str]
    logical_locations: tuple[dict[str, Any], ...]
    messages: dict[str, Any]
    options: ParseOptions
    image: str | None = None  # Trivy's image runs name the scanned image in run.properties
    image_digest: str | None = None
    facts: dict[str, _RuleFacts] = field(default_factory=dict)  # per rule id, computed once
    paths: dict[tuple[str, Any], str] = field(default_factory=dict)  # per (uri, uriBaseId), resolved once

    def rule(self, result: dict[str, Any]) -> dict[str, Any]:
        reference = _dict(result.get("rule"))
        index = result.get("ruleIndex", reference.get("index"))
        component = _int(_dict(reference.get("toolComponent")).get("index"))
        if component is None:
            table = self.rules[0]
        else:  # tool.extensions[component]; rules[0] is the driver's
            table = self.rules[component + 1] if 0 <= component < len(self.rules) - 1 else ()
        by_index = _at(table, index)
        if by_index:
            return by_index
        rule_id = _str(result.get("ruleId")) or _str(reference.get("id")) or ""
        return self.rules_by_id.get(rule_id) or self.rules_by_id.get(rule_id.split("/", 1)[0]) or {}

    def rule_facts(self, rule_id: str, rule: dict[str, Any]) -> _RuleFacts:
        facts = self.facts.get(rule_id)
        if facts is None:
            facts = self.facts[rule_id] = _rule_facts(rule_id, rule)
        return facts

    def artifact(self, location: Any) -> dict[str, Any]:
        return _at(self.artifacts, _dict(location).get("index"))

    def uri(self, location: Any) -> str | None:
        """The artifact's URI, repository-relative where the bases allow, else as the tool wrote it."""
        location = _dict(location)
        uri, base = _str(location.get("uri")), location.get("uriBaseId")
        if uri is None:
            fallback = _dict(self.artifact(location).get("location"))
            uri, base = _str(fallback.get("uri")), fallback.get("uriBaseId")
        if uri is None:
            return None
        key = (uri, base if isinstance(base, str) else None)
        path = self.paths.get(key)
        if path is None:
            path = self.paths[key] = self._resolve(uri.strip(), key[1])
        return path

    def _resolve(self, uri: str, base_id: Any) -> str:
        relative, root, seen = uri, None, set()
        if _ABSOLUTE.match(uri):
            base_id = None  # an absolute URI ignores its base
        while isinstance(base_id, str) and base_id not in self.repository_roots and base_id not in seen:
            seen.add(base_id)
            base = _dict(self.bases.get(base_id))
            base_uri = _str(base.get("uri"))
            if base_uri is None:
                break  # an undefined base (%SRCROOT%) is the repository root
            if _ABSOLUTE.match(base_uri.strip()):
                root = base_uri.strip()
                break
            relative = base_uri.strip().rstrip("/") + "/" + relative
            base_id = base.get("uriBaseId")
        if relative.lower().startswith(("http://", "https://")):
            return relative
        relative_path = repo_relative(_file_path(relative), self.options.source_root)
        if root is None:
            return relative_path
        full = repo_relative(_file_path(root.rstrip("/") + "/" + relative), self.options.source_root)
        return relative_path if _ABSOLUTE.match(full) else full


def _positional(value: Any) -> tuple[dict[str, Any], ...]:
    """A SARIF array addressed by index: a bad entry becomes {} so later indexes still point right."""
    return tuple(_dict(item) for item in value) if isinstance(value, list) else ()


def _run_context(run: Any, options: ParseOptions) -> _Run:
    run = _dict(run)
    tool = _dict(run.get("tool"))
    driver = _dict(tool.get("driver"))
    name = _str(driver.get("name"))
    if name is None:
        raise dc.RecordError("run without tool.driver.name")
    version = _str(driver.get("semanticVersion")) or _str(driver.get("version"))
    extensions = (_positional(extension.get("rules")) for extension in _positional(tool.get("extensions")))
    tables = (_positional(driver.get("rules")), *extensions)
    roots = {_dict(p.get("mappedTo")).get("uriBaseId") for p in _dicts(run.get("versionControlProvenance"))}
    return _Run(
        tool_name=name.strip(),
        tools={category: Tool(name.strip(), category, version) for category in Category},
        profile=profile_for(name),
        rules=tables,
        rules_by_id={r["id"]: r for table in reversed(tables) for r in table if isinstance(r.get("id"), str)},
        artifacts=_positional(run.get("artifacts")),
        bases=_dict(run.get("originalUriBaseIds")),
        repository_roots=frozenset(r for r in roots if isinstance(r, str)),
        logical_locations=_positional(run.get("logicalLocations")),
        messages=_dict(driver.get("globalMessageStrings")),
        options=options,
        image=_str(_dict(run.get("properties")).get("imageName")),
        image_digest=_str(_dict(run.get("properties")).get("imageID")),
    )


def _message(result: dict[str, Any], rule: dict[str, Any], run: _Run) -> str:
    message = _dict(result.get("message"))
    text = _str(message.get("text"))
    if text is None and isinstance(message.get("id"), str):
        template = _dict(rule.get("messageStrings")).get(message["id"]) or run.messages.get(message["id"])
        text = _text(template)
    text = text or _str(message.get("markdown")) or ""
    arguments = message.get("arguments")
    if isinstance(arguments, list) and "{" in text:
        def argument(match: re.Match[str]) -> str:
            position = small_int(match.group(1))
            return str(arguments[position]) if position is not None and position < len(arguments) else match.group(0)

        text = _PLACEHOLDER.sub(argument, text)
    return text.strip()


def _rule_id(result: dict[str, Any], rule: dict[str, Any], message: str) -> str:
    rule_id = _str(result.get("ruleId")) or _str(_dict(result.get("rule")).get("id")) or _str(rule.get("id"))
    if rule_id is None and message:
        rule_id = truncate(message.splitlines()[0], 200)  # the rule is unnamed: its message names it
    if rule_id is None:
        raise dc.RecordError("result names no rule and has no message")
    return rule_id.strip()


def _logical_name(result: dict[str, Any], run: _Run) -> str | None:
    for location in _dicts(result.get("locations")):
        for logical in _dicts(location.get("logicalLocations")):
            for candidate in (logical, _at(run.logical_locations, logical.get("index"))):
                name = _str(candidate.get("fullyQualifiedName")) or _str(candidate.get("name"))
                if name:
                    return name
    return None


def _physicals(result: dict[str, Any], run: _Run) -> list[tuple[str, dict[str, Any]]]:
    """(repository path or URL, region) of every physical location that names an artifact."""
    found = []
    for location in _dicts(result.get("locations")):
        physical = _dict(location.get("physicalLocation"))
        path = run.uri(physical.get("artifactLocation")) if physical else None
        if path:
            found.append((path, _dict(physical.get("region"))))
    return found


def _other_locations(physicals: list[tuple[str, dict[str, Any]]]) -> tuple[tuple[str, str], ...]:
    """The locations after the first, kept as a property: one result is one finding, nothing vanishes."""
    if len(physicals) < 2:
        return ()
    places = (f"{path}:{_int(region.get('startLine')) or 0}" for path, region in physicals[1:])
    return (("sarif.other_locations", "; ".join(places)),)


def _code_location(result: dict[str, Any], run: _Run, physical: tuple[str, dict[str, Any]] | None) -> Location:
    if physical is None:
        only = run.artifacts[0].get("location") if len(run.artifacts) == 1 else None
        path = run.uri(result.get("analysisTarget")) or run.uri(only) or "."
        return CodeLocation(path=path, snippet=_logical_name(result, run))
    path, region = physical
    if path.lower().startswith(("http://", "https://")):
        return UrlLocation(url=path)
    return CodeLocation(
        path=path,
        start_line=_int(region.get("startLine")),
        end_line=_int(region.get("endLine")),
        start_column=_int(region.get("startColumn")),
        end_column=_int(region.get("endColumn")),
        snippet=_text(region.get("snippet")),
    )


def _purl(result: dict[str, Any], run: _Run, properties: Mapping[str, Any]) -> str | None:
    for location in _dicts(result.get("locations")):
        for logical in _dicts(location.get("logicalLocations")):
            name = _str(logical.get("fullyQualifiedName"))
            if name and name.startswith("pkg:"):
                return name
        artifact = run.artifact(_dict(location.get("physicalLocation")).get("artifactLocation"))
        for value in _dict(artifact.get("properties")).values():
            if isinstance(value, str) and value.startswith("pkg:"):
                return value  # dependency-check 6 names the dependency's purl as artifact property `id<n>`
    return next((p for k in ("purl", "packageUrl", "package_url") if (p := _str(properties.get(k)))), None)


def _labelled_package(texts: tuple[str | None, ...], properties: Mapping[str, Any]) -> dict[str, str]:
    """Package facts from properties (Black Duck) or from `Package: x` lines (Trivy, Grype)."""
    from_properties = {}
    for key, names in _PACKAGE_PROPERTIES.items():
        value = next((v for name in names if (v := _str(properties.get(name)))), None)
        if value:
            from_properties[key] = value
    if from_properties.get("name"):
        return from_properties
    for text in texts:
        labels: dict[str, str] = {}
        for label, value in _PACKAGE_LABEL.findall(text or ""):
            labels.setdefault(_LABEL_FIELD[label.lower()], value)
        if labels.get("name"):
            return labels
    return {}


def _package(result: dict[str, Any], rule: dict[str, Any], run: _Run, *, facts: _RuleFacts,
             properties: Mapping[str, Any], message: str, path: str) -> PackageLocation | None:
    purl = _purl(result, run, properties)
    if purl:
        return dc.package_location(dc.Identity(file_path=path, purls=(purl,)), run.options)
    if not _may_name_package(run, facts):
        return None
    labels = _labelled_package((message, _text(rule.get("help"))), properties)
    if not labels.get("name"):
        return None
    fixed = tuple(v.strip() for v in labels.get("fixed", "").split(",") if v.strip())
    manifest = dc.manifest_path(path, run.options.source_root) if path else None
    return PackageLocation(labels["name"], labels.get("version") or None, None, labels.get("ecosystem"), manifest,
                           fixed_versions=fixed)


def _may_name_package(run: _Run, facts: _RuleFacts) -> bool:
    """Only vulnerability results are searched for package labels: a code finding never names one."""
    if facts.vulnerability_ids:
        return True
    return run.profile is not None and Category.SCA in (run.profile.category, run.profile.vulnerability_category)


def _severity(result: dict[str, Any], rule: dict[str, Any], properties: Mapping[str, Any],
              run: _Run) -> tuple[Severity, str | None, tuple[Cvss, ...]]:
    if run.profile and run.profile.severity:
        return run.profile.severity(rule, properties)
    raw_score = properties.get("security-severity")
    score = dc.number(raw_score)
    if score is not None:
        return Severity.from_cvss(score), str(raw_score), ()
    level = _level(result, rule)
    return _LEVEL_SEVERITY.get(level, Severity.MEDIUM), level, ()


def _level(result: dict[str, Any], rule: dict[str, Any]) -> str:
    """The result's level, else the rule's configured one, else SARIF's default for its kind."""
    configured = _dict(rule.get("defaultConfiguration")).get("level")
    default = "warning" if result.get("kind", "fail") == "fail" else "none"
    return _str(result.get("level")) or _str(configured) or default


def _suppression_reason(result: dict[str, Any]) -> str | None:
    """The reason when the result is suppressed: every suppression accepted (SARIF §3.27.23)."""
    suppressions = _dicts(result.get("suppressions"))
    if not suppressions:
        return None
    statuses = {s.get("status", s.get("state", "accepted")) for s in suppressions}  # `state`: 2.1.0 drafts
    if statuses - {"accepted", None}:
        return None
    justification = next((j for s in suppressions if (j := _str(s.get("justification")))), None)
    kind = next((k for s in suppressions if (k := _str(s.get("kind")))), "external")
    return justification or f"suppressed in SARIF ({kind})"


def _category(run: _Run, facts: _RuleFacts, package: PackageLocation | None) -> Category:
    if facts.category:
        return facts.category
    profile = run.profile
    if profile is None:
        return Category.SCA if package else Category.SAST
    if profile.vulnerability_category and (package or facts.vulnerability_ids):
        return profile.vulnerability_category
    return profile.category


def _properties(rule: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    rule_properties, result_properties = _dict(rule.get("properties")), _dict(result.get("properties"))
    return {**rule_properties, **result_properties} if result_properties else rule_properties


def _title(facts: _RuleFacts, message: str, rule_id: str) -> str:
    """The rule's short description, unless it is a placeholder ("Semgrep Finding: id"), else the message."""
    short = facts.title
    if short and (_PLACEHOLDER_TITLE.match(short) or short.strip() == rule_id):
        short = None
    short = resolve_metavariables(short, message) if short else None
    first_line = message.splitlines()[0] if message else None
    return truncate(short or first_line or facts.name or rule_id, 256)


def _description(message: str, facts: _RuleFacts, title: str) -> str:
    """The message and the rule's full description, each once, without a copy of the title."""
    full = resolve_metavariables(facts.full_description, message) if facts.full_description else None
    if full and full not in message:
        message = f"{message}\n\n{full}" if message else full
    return without_title(message, title)


def _remediation(result: dict[str, Any], facts: _RuleFacts, *, message: str, title: str,
                 description: str) -> Remediation | None:
    """The result's own fix description first (it is about this place), else the rule's help,
    unless the help only repeats the title and description (Trivy's and Checkov's do)."""
    fix = next((d for f in _dicts(result.get("fixes")) if (d := _text(f.get("description")))), None)
    url = facts.remediation.url if facts.remediation else None
    if fix is None and facts.remediation and facts.remediation.text:
        help_text = resolve_metavariables(split_labelled_header(facts.remediation.text)[0], message)
        help_text = without_title(help_text, title) if help_text else None
        said = " ".join(f"{title} {message} {description}".split())
        fix = help_text if help_text and " ".join(help_text.split()) not in said else None
    return Remediation(fix, url) if fix or url else None


def _confidence(facts: _RuleFacts, properties: Mapping[str, Any]) -> Confidence:
    if facts.confidence is not Confidence.UNKNOWN:
        return facts.confidence
    return dc.confidence(_str(properties.get("issue_confidence")))  # Bandit's, where rules carry no precision


def _finding(result: Any, run: _Run) -> Finding:
    if not isinstance(result, dict):
        raise dc.RecordError("result is not an object")
    rule = run.rule(result)
    message = _message(result, rule, run)
    rule_id = _rule_id(result, rule, message)
    facts = run.rule_facts(rule_id, rule)
    properties = _properties(rule, result)
    physicals = _physicals(result, run)
    physical = physicals[0] if physicals else None
    package = _package(result, rule, run, facts=facts, properties=properties, message=message,
                       path=physical[0] if physical else "")
    severity, original, cvss = _severity(result, rule, properties, run)
    text, links = split_labelled_header(message)
    title = _title(facts, text, rule_id)
    description = _description(text, facts, title)
    severity = calibrated(RuleFacts(run.tool_name, rule_id, title, _level(result, rule), properties)) or severity
    reason = _suppression_reason(result)
    image = ImageLocation(run.image, run.image_digest, package=package) if package and run.image else None
    return Finding(
        tool=run.tools[Category.IMAGE if image else _category(run, facts, package)],
        rule_id=rule_id,
        title=title,
        severity=severity,
        location=image or package or _code_location(result, run, physical),
        description=description,
        original_severity=original,
        confidence=_confidence(facts, properties),
        cwe=facts.cwe or dc.cwe_ids(_cwe_texts({}, _dict(result.get("properties")))),
        cvss=cvss,
        vulnerability_ids=facts.vulnerability_ids,
        remediation=_remediation(result, facts, message=text, title=title, description=description),
        references=tuple(dict.fromkeys((*facts.references, *links))),
        active=reason is None,
        suppression_reason=reason,
        properties=(*_other_locations(physicals), *_carried_identity(result)),
        message=message or None,
        fingerprint=_str(_dict(result.get("partialFingerprints")).get(FINGERPRINT_KEY)) or "",
    )


def _carried_identity(result: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """Tollgate's own identity, when the SARIF came from Tollgate: kept, so re-reading Tollgate's SARIF
    (a baseline, an earlier run) matches on it instead of on lines."""
    partial = _dict(result.get("partialFingerprints"))
    return tuple((key, value) for key in (FINGERPRINT_KEY, LEGACY_FINGERPRINT_KEY) if (value := _str(partial.get(key))))


class SarifParser(Parser):
    tool_id = ToolId.SARIF

    def sniff(self, report: Report) -> bool:
        document = report.json_or_none()
        if not isinstance(document, dict):
            return False
        schema = document.get("$schema")
        return (isinstance(schema, str) and "sarif" in schema.lower()) or (
            document.get("version") == "2.1.0" and isinstance(document.get("runs"), list)
        )

    def parse(self, report: Report, options: ParseOptions) -> Iterator[Finding | Skipped]:
        if not report.is_empty and not report.looks_like_json:
            raise UnsupportedReportError(f"{report.source}: not JSON, so not a SARIF log")
        document = report.json  # MalformedReportError when empty or truncated
        if not self.sniff(report):
            raise UnsupportedReportError(f"{report.source}: not a SARIF log")
        version = document.get("version")
        if version is not None and not str(version).startswith("2.1.0"):
            raise UnsupportedReportError(f"{report.source}: SARIF version {version!r}; Tollgate reads 2.1.0")
        runs = document.get("runs")
        if not isinstance(runs, list):
            raise MalformedReportError(f"{report.source}: SARIF log without a 'runs' list")
        for index, run in enumerate(runs):
            yield from self._run(run, f"runs[{index}]", options)

    def _run(self, raw: Any, record: str, options: ParseOptions) -> Iterator[Finding | Skipped]:
        results = _dict(raw).get("results")
        if results is not None and not isinstance(results, list):
            yield Skipped("sarif", "'results' is not a list", f"{record}.results")
            return
        try:
            run = _run_context(raw, options)
        except dc.RecordError as exc:
            for index in range(len(results or ())):  # every unreadable result is counted, not dropped
                yield Skipped("sarif", str(exc), f"{record}.results[{index}]")
            return
        for index, result in enumerate(results or ()):
            if isinstance(result, dict) and result.get("kind") in _NOT_A_PROBLEM:
                yield Skipped(run.tool_name, f"kind '{result['kind']}' is not a problem", f"{record}.results[{index}]")
                continue
            if isinstance(result, dict) and result.get("baselineState") == "absent":
                yield Skipped(run.tool_name, "baselineState 'absent': gone from this run", f"{record}.results[{index}]")
                continue
            try:
                yield _finding(result, run)
            except (dc.RecordError, TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
                yield Skipped(run.tool_name, f"unreadable result: {exc}", f"{record}.results[{index}]")


PARSER = SarifParser()
