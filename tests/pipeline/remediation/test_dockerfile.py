"""The remediated Dockerfile: each fix, its comment, and what is left alone (no scanner needed)."""

from __future__ import annotations

from pathlib import Path

from normalizers.model import Category, CodeLocation, Evidence, Finding, ImageLocation, PackageLocation, Severity, Tool
from pipeline.remediation.dockerfile import Issue, parse, remediate
from pipeline.remediation.propose import propose, write_remediations

DEBIAN = """FROM python:3.11.2-slim AS build
RUN pip install -r requirements.txt
FROM python:3.11.2-slim
RUN apt-get update && \\
    apt-get install curl openssl
ADD app/ /app
MAINTAINER someone
USER root
CMD ["python", "/app/main.py"]
"""


def test_each_fix_is_applied_where_its_finding_points_and_commented() -> None:
    proposal = remediate(DEBIAN, [Issue("DL3015", 4), Issue("DL3009", 5), Issue("DL3014", 4), Issue("DL3020", 6),
                                  Issue("DL4000", 7), Issue("DL3002", 8), Issue("CKV_DOCKER_2"),
                                  Issue("CVE-2024-0001", package="openssl", fixed_version="3.0.15-1")])
    text = proposal.text
    installed = ("apt-get install -y --no-install-recommends curl openssl=3.0.15-1"
                 " \\\n    && rm -rf /var/lib/apt/lists/*")
    assert installed in text
    # the upgrade goes into the stage's first RUN, not a RUN of its own (hadolint DL3059)
    assert "FROM python:3.11.2-slim\n# Tollgate: apply the distribution's security fixes first" in text
    upgrade = "RUN apt-get update && apt-get upgrade -y --no-install-recommends && rm -rf /var/lib/apt/lists/* \\\n"
    assert upgrade in text
    assert "COPY app/ /app" in text and 'LABEL maintainer="someone"' in text and "USER root" not in text
    assert "RUN pip install -r requirements.txt\n" in text  # the build stage's RUN had no finding: untouched
    lines = text.splitlines()
    assert lines.index("USER 10001:10001") < lines.index('CMD ["python", "/app/main.py"]')
    assert "# Tollgate: pin openssl to 3.0.15-1, the version with the fix (fixes openssl 3.0.15-1)" in lines
    assert "# Tollgate: apply the distribution's security fixes first (fixes openssl 3.0.15-1)" in lines
    assert any(line.startswith("# HEALTHCHECK ") for line in lines)
    assert all(change for change in proposal.changes) and len(proposal.changes) >= 8
    for line in lines:  # every Tollgate comment names what it fixes, except the placeholder's example
        assert not line.startswith("# Tollgate:") or "(fixes " in line


def test_a_fixed_version_of_the_base_image_moves_its_tag() -> None:
    proposal = remediate(DEBIAN, [Issue("CVE-2023-0002", package="python", fixed_version="3.11.9")])
    assert "FROM python:3.11.9-slim\n" in proposal.text and "FROM python:3.11.2-slim AS build" in proposal.text


def test_alpine_gets_its_own_commands_and_a_user_created_in_the_last_run() -> None:
    text = "FROM alpine:3.19\nRUN apk add curl\nCMD [\"sh\"]\n"
    proposal = remediate(text, [Issue("DL3019", 2), Issue("DS002")])
    assert "apk add --no-cache curl \\\n    && addgroup -S -g 10001 app && adduser -S -D -H -u 10001 -G app app" in (
        proposal.text)


def test_a_dockerfile_without_findings_it_can_fix_is_left_as_is() -> None:
    text = "FROM scratch\nCOPY app /app\n"
    assert not remediate(text, [Issue("DL9999", 1)]).changed
    assert not remediate("# only a comment\n", [Issue("DL3002")]).changed


def test_parse_keeps_continuation_lines_and_comments_in_place() -> None:
    items = parse(DEBIAN)
    run = items[3]
    assert not isinstance(run, str) and (run.first_line, run.last_line) == (4, 5)


def test_proposals_are_written_beside_the_results_with_their_diff(tmp_path: Path) -> None:
    source = tmp_path / "repo"
    (source / "svc").mkdir(parents=True)
    (source / "svc" / "Dockerfile").write_text(DEBIAN)
    tool = Tool("Trivy", Category.IAC)
    findings = [
        Finding(tool, "DS002", "root", Severity.HIGH, CodeLocation("svc/Dockerfile", 8),
                evidence=(Evidence("Checkov", "CKV_DOCKER_8", "root", Severity.HIGH, start_line=8),)),
        Finding(Tool("Trivy", Category.IMAGE), "CVE-2024-0001", "openssl", Severity.HIGH,
                ImageLocation("acme/svc:1",
                              package=PackageLocation("openssl", "3.0.11-1", fixed_versions=("3.0.15-1",)))),
    ]
    (remediation,) = propose(source, findings)
    assert "(fixes CKV_DOCKER_8, DS002)" in remediation.proposal.text  # a merged finding's other tool too
    (metric,) = write_remediations(tmp_path / "out", [remediation])
    assert (tmp_path / "out" / "remediation" / "svc" / "Dockerfile").read_text() == remediation.proposal.text
    assert metric[0] == "remediation/svc/Dockerfile" and metric[1].startswith("--- a/svc/Dockerfile")
    assert "+USER 10001:10001" in metric[1] and "-USER root" in metric[1]
