"""Trivy JSON (`trivy image|fs|repo|sbom|vm|k8s --format json`) to Findings.

Layouts read:
- SchemaVersion 2: `{"ArtifactName", "ArtifactType", "Metadata", "Results": [...]}`;
- the legacy layout (Trivy < 0.20): a top-level array of Results, and a literal `null` for "no results";
- `trivy k8s`: `{"ClusterName", "Resources": [{"Namespace", "Kind", "Name", "Metadata", "Results"}]}` (and the
  older k8s split into top-level `Vulnerabilities`/`Misconfigurations` resource lists).

Mapping decisions:
- Vulnerabilities in an image (`container_image`, `vm`, a k8s workload) are category `image`, located by
  `ImageLocation(reference, digest, layer DiffID, package)`: the reference is ArtifactName (else the image's
  reference, tag or OS Target), the digest the first RepoDigest (else the ImageID). Everywhere else (`filesystem`,
  `repository`, `cyclonedx`/`spdx` SBOMs) they are `sca`, located by the package: purl, name, version, ecosystem
  (the Result Type), fixed versions (FixedVersion split on commas) and manifest path (the package's PkgPath when
  Trivy gives one, e.g. the jar, else the Result Target). Vulnerability ids are VulnerabilityID plus VendorIDs.
- Severity is Trivy's label (docs/design.md: Trivy already chose the vendor or NVD source). `UNKNOWN` falls back to
  the preferred CVSS, else INFO. Every CVSS source is kept, named (`nvd`, `ghsa`, `redhat`, ...).
- Descriptions are kept as Trivy wrote them (plain text or an advisory's Markdown): running them through
  `html_to_text` would eat version ranges such as `<1.2.3`.
- A vulnerability with VEX/vendor status `not_affected` is kept inactive; other statuses stay active (`will_not_fix`
  is still exploitable) and the status is kept in `properties`.
- Misconfigurations: `FAIL` is an active `iac` finding; `EXCEPTION` (waived by a Rego exception) is kept inactive;
  `PASS` (only present with `--include-non-failures`) is a passed check, not a problem: counted as skipped.
  The rule id is the AVD id without its `AVD-` prefix (`AVD-KSV-0116` -> `KSV-0116`), the id scheme Trivy itself
  moved to, so reports of old and new Trivy agree; otherwise the `ID`.
- Secrets are `secrets` findings whose snippet is Trivy's redacted `Match`. `Code.Lines` is never read for secrets:
  its context lines are not guaranteed to be redacted. A `Match` with no `*` cannot be shown to be redacted and is
  dropped (the line then anchors the identity).
- Licenses (present only when the user enabled `--scanners license`) are `supply-chain` findings with Trivy's own
  severity for the license category (forbidden, restricted, ...): the user asked for them, so they are not dropped.
- `ExperimentalModifiedFindings` (shown with `--show-suppressed`: `.trivyignore`, VEX) are kept inactive with the
  suppression source as the reason.
- Paths are repository-relative: Targets of a `filesystem`/`repository` scan are joined to the scanned directory
  (`trivy fs src` reports `infra/main.tf` for `src/infra/main.tf`) after `source_root` and CI workspace prefixes are
  stripped. A remote repository URL or an absolute directory outside the source root contributes nothing.
- k8s misconfigurations and secrets have no file in the repository; their path is the pseudo path
  `k8s/[<cluster>/]<namespace>/<Kind>/<Name>`.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from normalizers.cvss import from_vector, severity_from_cvss
from normalizers.errors import MalformedReportError, UnsupportedReportError
from normalizers.model import (
    Category,
    CodeLocation,
    Cvss,
    Finding,
    ImageLocation,
    Location,
    PackageLocation,
    Remediation,
    Severity,
    Skipped,
    Tool,
)
from normalizers.numbers import finite_float, small_int
from normalizers.parsers import paths
from normalizers.parsers.base import ParseOptions, Parser
from normalizers.raw_report import JSON_ARRAYS, Report
from normalizers.tool_id import ToolId

TOOL_NAME = "trivy"
_SEVERITIES = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
    "INFO": Severity.INFO,
}
_IMAGE_ARTIFACTS = frozenset({"container_image", "vm"})
_SOURCE_ARTIFACTS = frozenset({"filesystem", "repository"})
# (vector field, score field, version); a v3 version is read from its vector ("CVSS:3.1/...").
_CVSS_FIELDS = (("V40Vector", "V40Score", "4.0"), ("V3Vector", "V3Score", ""), ("V2Vector", "V2Score", "2.0"))
_ROTATE_ADVICE = "Revoke and rotate the secret, then remove it from the code and its history."

Record = dict[str, Any]
_Shared = TypeVar("_Shared", str, tuple[str, ...])


# Typed readers for scanner JSON (shared with the ASFF parser): a value of the wrong type reads as absent,
# except a required text, whose absence makes the record a Skipped one.


def text(record: Record, key: str) -> str | None:
    value = record.get(key)
    return value if isinstance(value, str) and value else None


def required_text(record: Record, key: str) -> str:
    value = record.get(key)
    if isinstance(value, str) and value:
        return value
    raise KeyError(key) if value in (None, "") else TypeError(f"{key} is not text")


def texts(value: Any) -> list[str]:
    return [item for item in json_list(value) if isinstance(item, str) and item]


def json_list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, JSON_ARRAYS) else []


def json_object(value: Any) -> Record:
    return value if isinstance(value, dict) else {}


def number(value: Any) -> float | None:
    return finite_float(value) if isinstance(value, (int, float)) else None


def line_number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def strip_os_suffix(target: str) -> str:
    """`alpine:3.10 (alpine 3.10.2)` -> `alpine:3.10`: Trivy appends the detected OS to image targets."""
    return target.split(" (", 1)[0] if target.endswith(")") else target


def repo_relative(path: str, source_root: str | None) -> str:
    """The shared rule (normalizers.parsers.paths), with the checkout root itself as ``."""
    relative = paths.repo_relative(path, source_root)
    return "" if relative == "." else relative


@dataclass(frozen=True)
class _Artifact:
    """What a list of Results was found in: an image (reference, digest) or a tree (base path)."""

    image: str | None = None
    digest: str | None = None
    base_path: str = ""  # the repo-relative directory that Result targets are relative to


@dataclass(frozen=True)
class _Memo:
    """A report repeats one advisory in every package it affects: its texts are kept once, and it is read
    once (`_advisory`), for the whole report."""

    texts: dict[Any, Any] = dataclasses.field(default_factory=dict)
    advisories: dict[tuple[str | None, ...], list[_Advisory]] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class _Where:
    """Everything a record needs from its Result and artifact, built once per Result."""

    tools: Mapping[Category, Tool]
    artifact: _Artifact
    target: str
    path: str  # the target as a repository path
    manifest: str | None  # where lang packages are declared; None for OS packages
    ecosystem: str | None
    source_root: str | None
    memo: _Memo

    def repo_path(self, path: str) -> str:
        return _repo_path(self.artifact.base_path, path, self.source_root)

    def once(self, value: _Shared) -> _Shared:
        return self.memo.texts.setdefault(value, value)


def _repo_path(base: str, path: str, source_root: str | None) -> str:
    relative = repo_relative(path, source_root)
    if not base or relative.startswith("/"):
        return relative
    if relative == posixpath.basename(base):  # a single-file artifact: `trivy fs requirements.txt`
        return base
    return posixpath.normpath(posixpath.join(base, relative))


def _source_base(name: str, source_root: str | None) -> str:
    if "://" in name or name.startswith("git@"):
        return ""  # a remote repository: Targets are already relative to its root
    relative = repo_relative(name, source_root)
    if relative.startswith("/"):
        return ""  # a directory outside the checkout: its relative Targets are the best guess
    normalized = posixpath.normpath(relative) if relative else ""
    return "" if normalized == "." else normalized


def _image_digest(metadata: Record) -> str | None:
    for repo_digest in texts(metadata.get("RepoDigests")):
        if "@" in repo_digest:
            return repo_digest.split("@", 1)[1]
    image_id = metadata.get("ImageID")
    return str(image_id) if image_id else None


def _image_name(document: Record, metadata: Record) -> str:
    """ArtifactName, else what else names the image: some reports carry an empty ArtifactName."""
    targets = [text(r, "Target") or "" for r in json_list(document.get("Results")) if isinstance(r, dict)]
    os_targets = [target for target in targets if target.endswith(")")]
    names = [text(document, "ArtifactName"), text(metadata, "Reference"), *texts(metadata.get("RepoTags")), *os_targets]
    return strip_os_suffix(next((name for name in names if name), "image"))


def _artifact(document: Record, source_root: str | None) -> _Artifact:
    kind = text(document, "ArtifactType")
    if kind in _IMAGE_ARTIFACTS:
        metadata = json_object(document.get("Metadata"))
        return _Artifact(image=_image_name(document, metadata), digest=_image_digest(metadata))
    if kind in _SOURCE_ARTIFACTS:
        return _Artifact(base_path=_source_base(text(document, "ArtifactName") or "", source_root))
    return _Artifact()  # SBOM scans: the Targets describe whatever the SBOM described


def _layer_id(record: Any) -> str | None:
    layer = record.get("Layer") if isinstance(record, dict) else None
    return (layer.get("DiffID") or layer.get("Digest")) if isinstance(layer, dict) else None


def _legacy_artifact(results: Sequence[Any]) -> _Artifact:
    """Trivy < 0.20 wrote no artifact type: an image is recognized by its layers."""
    dicts = [r for r in results if isinstance(r, dict)]
    if not any(_layer_id(v) for r in dicts for v in json_list(r.get("Vulnerabilities"))):
        return _Artifact()
    targets = [text(r, "Target") or "" for r in dicts]
    os_targets = [t for t in targets if t.endswith(")")]
    return _Artifact(image=strip_os_suffix((os_targets or targets or ["image"])[0]))


def _k8s_artifacts(document: Record, source: str) -> Iterator[tuple[_Artifact, Any, str]]:
    cluster = text(document, "ClusterName") or ""
    for key in ("Resources", "Vulnerabilities", "Misconfigurations"):  # the last two: Trivy < 0.40
        for index, resource in enumerate(_list_or_fail(document.get(key), source, key)):
            if not isinstance(resource, dict):
                raise MalformedReportError(f"{source}: {key}[{index}] of a Trivy k8s report is not an object")
            metadata = json_object(resource.get("Metadata"))
            workload = [text(resource, key) or "" for key in ("Namespace", "Kind", "Name")]
            tags = texts(metadata.get("RepoTags")) or ["/".join(p for p in workload if p) or "workload"]
            base = "/".join(p for p in ("k8s", cluster, workload[0]) if p)
            artifact = _Artifact(image=tags[0], digest=_image_digest(metadata), base_path=base)
            yield artifact, resource.get("Results"), f"{key}[{index}]."


def _list_or_fail(value: Any, source: str, what: str) -> Sequence[Any]:
    if value is None:
        return []
    if not isinstance(value, JSON_ARRAYS):
        raise MalformedReportError(f"{source}: {what} of a Trivy report is not a list")
    return value


def _artifacts(document: Any, options: ParseOptions, source: str) -> Iterator[tuple[_Artifact, Sequence[Any], str]]:
    """(artifact, its Results, a pointer prefix for Skipped records) for each layout."""
    if document is None:
        return
    if isinstance(document, JSON_ARRAYS):
        yield _legacy_artifact(document), document, ""
        return
    layouts = (
        _k8s_artifacts(document, source)
        if "ClusterName" in document
        else iter([(_artifact(document, options.source_root), document.get("Results"), "")])
    )
    for artifact, results, prefix in layouts:
        yield artifact, _list_or_fail(results, source, f"{prefix}Results"), prefix


def _looks_like_trivy(document: Any) -> bool:
    if isinstance(document, dict):
        if "SchemaVersion" in document:
            return "Results" in document or "ArtifactName" in document
        return "ClusterName" in document and any(
            key in document for key in ("Resources", "Vulnerabilities", "Misconfigurations")
        )
    if isinstance(document, JSON_ARRAYS) and document and isinstance(document[0], dict):
        first = document[0]
        return "Target" in first and any(key in first for key in ("Vulnerabilities", "Type", "Class"))
    return False


def _is_null(report: Report) -> bool:
    return report.head.rstrip() == b"null"


def _severity(label: str, cvss: tuple[Cvss, ...]) -> Severity:
    return _SEVERITIES.get(label.upper()) or severity_from_cvss(cvss) or Severity.INFO


def _cvss(by_source: Any) -> tuple[Cvss, ...]:
    found: list[Cvss] = []
    for source, scores in json_object(by_source).items():
        entry = json_object(scores)
        for vector_key, score_key, version in _CVSS_FIELDS:
            vector, score = text(entry, vector_key), number(entry.get(score_key))
            if score is not None:
                found.append(Cvss(version or _v3_version(vector), score, vector, source))
            elif vector:
                parsed = from_vector(vector, source=source)
                found += [parsed] if parsed else []
    return tuple(found)


def _v3_version(vector: str | None) -> str:
    return vector[5:8] if vector and vector.startswith("CVSS:3.") else "3.0"


def _cwes(ids: Any) -> tuple[int, ...]:
    return tuple(n for c in texts(ids) if c.upper().startswith("CWE-") and (n := small_int(c[4:])) is not None)


def _ids(vulnerability_id: str, aliases: Any) -> tuple[str, ...]:
    """The id plus the advisories Trivy names as the same vulnerability (`VendorIDs`, e.g. GHSA ids)."""
    return (vulnerability_id, *(alias for alias in texts(aliases) if alias != vulnerability_id))


def _remediation(advice: str | None, url: str | None) -> Remediation | None:
    return Remediation(advice, url) if advice or url else None


def _properties(*pairs: tuple[str, str | None]) -> tuple[tuple[str, str], ...]:
    return tuple((key, value) for key, value in pairs if value)


def _package(record: Record, where: _Where) -> PackageLocation:
    fixed = text(record, "FixedVersion") or ""
    pkg_path = text(record, "PkgPath")
    in_image = where.artifact.image is not None
    return PackageLocation(
        name=required_text(record, "PkgName"),
        version=text(record, "InstalledVersion"),
        purl=text(json_object(record.get("PkgIdentifier")), "PURL"),
        ecosystem=where.ecosystem,
        manifest_path=(pkg_path if in_image else where.repo_path(pkg_path)) if pkg_path else where.manifest,
        fixed_versions=tuple(v.strip() for v in fixed.split(",") if v.strip()),
    )


def _locate_package(package: PackageLocation, layer: Any, where: _Where) -> Location:
    artifact = where.artifact
    if artifact.image is None:
        return package
    layer = json_object(layer)
    return ImageLocation(artifact.image, artifact.digest, text(layer, "DiffID") or text(layer, "Digest"), package)


@dataclass(frozen=True)
class _Advisory:
    """What a vulnerability record says about the advisory itself, with the raw values it was read from."""

    raw: tuple[Any, Any, Any, Any]  # CVSS, CweIDs, VendorIDs, References as the record gave them
    vuln_id: str
    title: str | None
    description: str
    label: str
    severity: Severity
    cwe: tuple[int, ...]
    cvss: tuple[Cvss, ...]
    ids: tuple[str, ...]
    references: tuple[str, ...]


def _advisory(record: Record, where: _Where) -> _Advisory:
    """The record's advisory, read once per report: a later record of the same id and texts reuses a reading
    whose raw values are equal (CVSS's sources in the same order, since their order is kept)."""
    key = (text(record, "VulnerabilityID"), text(record, "Title"), text(record, "Description"),
           text(record, "Severity"))
    raw = (record.get("CVSS"), record.get("CweIDs"), record.get("VendorIDs"), record.get("References"))
    readings = where.memo.advisories.setdefault(key, [])
    for known in readings:
        if known.raw == raw and _same_order(known.raw[0], raw[0]):
            return known
    vuln_id = required_text(record, "VulnerabilityID")
    cvss = _cvss(raw[0])
    label = key[3] or "UNKNOWN"
    advisory = _Advisory(
        raw=raw,
        vuln_id=vuln_id,
        title=where.once(key[1]) if key[1] else None,
        description=where.once((key[2] or "").strip()),
        label=label,
        severity=_severity(label, cvss),
        cwe=_cwes(raw[1]),
        cvss=cvss,
        ids=_ids(vuln_id, raw[2]),
        references=where.once(tuple(texts(raw[3]))),
    )
    readings.append(advisory)
    return advisory


def _same_order(known: Any, given: Any) -> bool:
    return not isinstance(given, dict) or list(known) == list(given)


def _vulnerability(record: Record, where: _Where) -> Finding:
    advisory = _advisory(record, where)
    package = _package(record, where)
    status = text(record, "Status")
    fix = f"Upgrade {package.name} to {', '.join(package.fixed_versions)}." if package.fixed_versions else None
    return Finding(
        tool=where.tools[Category.IMAGE if where.artifact.image is not None else Category.SCA],
        rule_id=advisory.vuln_id,
        title=advisory.title or f"{advisory.vuln_id} in {package.name}",
        severity=advisory.severity,
        location=_locate_package(package, record.get("Layer"), where),
        description=advisory.description,
        original_severity=advisory.label,
        cwe=advisory.cwe,
        cvss=advisory.cvss,
        vulnerability_ids=advisory.ids,
        remediation=_remediation(fix, text(record, "PrimaryURL")),
        references=advisory.references,
        active=status != "not_affected",
        suppression_reason="vendor status not_affected" if status == "not_affected" else None,
        properties=_properties(("status", status), ("severity_source", text(record, "SeveritySource"))),
    )


def _cause_snippet(cause: Record) -> str | None:
    causes = [json_object(line) for line in json_list(json_object(cause.get("Code")).get("Lines"))]
    snippet = "\n".join(text(line, "Content") or "" for line in causes if line.get("IsCause") is True)
    return snippet if snippet.strip() else None


def _misconfiguration(record: Record, where: _Where) -> Finding | None:
    status = text(record, "Status") or "FAIL"
    if status == "PASS":
        return None  # counted as skipped by _convert
    avd_id, trivy_id = text(record, "AVDID"), text(record, "ID")
    rule_id = avd_id.removeprefix("AVD-") if avd_id else required_text(record, "ID")
    cause = json_object(record.get("CauseMetadata"))
    label = text(record, "Severity") or "UNKNOWN"
    start, end = line_number(cause.get("StartLine")), line_number(cause.get("EndLine"))
    return Finding(
        tool=where.tools[Category.IAC],
        rule_id=rule_id,
        title=text(record, "Title") or rule_id,
        severity=_severity(label, ()),
        location=CodeLocation(where.path, start, end, snippet=_cause_snippet(cause),
                              resource=text(cause, "Resource")),
        description="\n\n".join(t.strip() for t in (text(record, "Message"), text(record, "Description")) if t),
        original_severity=label,
        remediation=_remediation(text(record, "Resolution"), text(record, "PrimaryURL")),
        references=tuple(texts(record.get("References"))),
        active=status != "EXCEPTION",
        suppression_reason="waived by a Trivy exception policy" if status == "EXCEPTION" else None,
        properties=_properties(("trivy_id", trivy_id if trivy_id != rule_id else None),
                               ("resource", text(cause, "Resource"))),
        message=text(record, "Message"),
    )


def _secret(record: Record, where: _Where) -> Finding:
    rule_id = required_text(record, "RuleID")
    match = text(record, "Match") or ""
    label = text(record, "Severity") or "UNKNOWN"
    title = text(record, "Title") or rule_id
    start, end = line_number(record.get("StartLine")), line_number(record.get("EndLine"))
    return Finding(
        tool=where.tools[Category.SECRETS],
        rule_id=rule_id,
        title=title,
        severity=_severity(label, ()),
        location=CodeLocation(where.path, start, end, snippet=match if "*" in match else None),
        description=f"{title} ({text(record, 'Category') or 'secret'}) found in {where.path}.",
        original_severity=label,
        remediation=Remediation(_ROTATE_ADVICE),
    )


def _license(record: Record, where: _Where) -> Finding:
    name = required_text(record, "Name")
    package_name, file_path = text(record, "PkgName"), text(record, "FilePath")
    location: Location
    if package_name:
        location = _locate_package(PackageLocation(package_name, ecosystem=where.ecosystem), None, where)
    else:
        location = CodeLocation(where.repo_path(file_path) if file_path else where.path)
    label = text(record, "Severity") or "UNKNOWN"
    license_category = text(record, "Category") or "unknown"
    subject = package_name or file_path or where.target
    link = text(record, "Link")
    return Finding(
        tool=where.tools[Category.SUPPLY_CHAIN],
        rule_id=name,
        title=f"{subject} is under the {license_category} license {name}",
        severity=_severity(label, ()),
        location=location,
        description=f"Trivy classifies the license {name} of {subject} as {license_category}.",
        original_severity=label,
        references=(link,) if link else (),
        properties=_properties(("license_category", license_category)),
    )


Converter = Callable[[Record, _Where], "Finding | None"]
_CONVERTERS: dict[str, Converter] = {
    "vulnerability": _vulnerability,
    "misconfiguration": _misconfiguration,
    "secret": _secret,
    "license": _license,
}


def _modified(record: Record, where: _Where) -> Finding | None:
    """A finding Trivy suppressed (`.trivyignore`, VEX), shown with `--show-suppressed`."""
    convert = _CONVERTERS.get(required_text(record, "Type"))
    if convert is None:
        raise ValueError(f"unknown finding type {record['Type']!r}")
    finding = convert(json_object(record.get("Finding")), where)
    if finding is None:
        return None
    statement = text(record, "Statement")
    reason = f"{text(record, 'Status') or 'ignored'} by {text(record, 'Source') or 'Trivy'}"
    reason = f"{reason}: {statement}" if statement else reason
    return dataclasses.replace(finding, active=False, suppression_reason=reason)


_SECTIONS: tuple[tuple[str, Converter], ...] = (
    ("Vulnerabilities", _vulnerability),
    ("Misconfigurations", _misconfiguration),
    ("Secrets", _secret),
    ("Licenses", _license),
    ("ExperimentalModifiedFindings", _modified),
)


def _convert(convert: Converter, record: Any, where: _Where, section: str, index: int) -> Finding | Skipped:
    """The record `section[index]` as a finding, else the reason it is skipped (its pointer is made only then)."""
    reason: str
    try:
        if not isinstance(record, dict):
            reason = "not a JSON object"
        else:
            finding = convert(record, where)
            if finding is not None:
                return finding
            reason = "a passed check (PASS) is not a problem"
    except KeyError as exc:
        reason = f"missing field {exc}"
    except (TypeError, ValueError) as exc:
        reason = f"unreadable record ({exc})"
    return Skipped(TOOL_NAME, reason, f"{section}[{index}]")


def _where(result: Record, artifact: _Artifact, tools: Mapping[Category, Tool], options: ParseOptions,
           memo: _Memo) -> _Where:
    target = text(result, "Target") or ""
    path = _repo_path(artifact.base_path, target, options.source_root)
    os_packages = result.get("Class") == "os-pkgs" or ("Class" not in result and target.endswith(")"))
    manifest = None if os_packages else (target if artifact.image is not None else path)
    return _Where(tools, artifact, target, path, manifest, text(result, "Type"), options.source_root, memo)


def _result_items(result: Record, where: _Where, pointer: str) -> Iterator[Finding | Skipped]:
    for key, convert in _SECTIONS:
        records = result.get(key) or []
        if not isinstance(records, JSON_ARRAYS):
            yield Skipped(TOOL_NAME, f"{key} is not a list", pointer + key)
            continue
        for index, record in enumerate(records):
            yield _convert(convert, record, where, pointer + key, index)


def _tools(document: Any) -> dict[Category, Tool]:
    version = text(json_object(document.get("Trivy")), "Version") if isinstance(document, dict) else None
    return {category: Tool(TOOL_NAME, category, version) for category in Category}


class TrivyParser(Parser):
    tool_id = ToolId.TRIVY

    def sniff(self, report: Report) -> bool:
        return _is_null(report) or _looks_like_trivy(report.json_or_none())

    def parse(self, report: Report, options: ParseOptions) -> Iterator[Finding | Skipped]:
        document = report.streamed_json()  # a big report is read one record at a time
        if document is not None and not _looks_like_trivy(document):
            raise UnsupportedReportError(f"{report.source}: not a Trivy JSON report")
        tools = _tools(document)
        memo = _Memo()
        for artifact, results, prefix in _artifacts(document, options, report.source):
            for index, result in enumerate(results):
                pointer = f"{prefix}Results[{index}]"
                if isinstance(result, dict):
                    yield from _result_items(result, _where(result, artifact, tools, options, memo), pointer + ".")
                else:
                    yield Skipped(TOOL_NAME, "not a JSON object", pointer)


PARSER = TrivyParser()
