"""Secrets never leave: the redaction pass masks every text field, and no emitter writes a secret.

The planted secrets are random and made at test time, in the formats real tokens have, so that
no token-shaped string is committed and nothing can pass by matching a fixed example.
"""

from __future__ import annotations

import base64
import dataclasses
import importlib.util
import os
import random
import shutil
import string
import subprocess
import sys
import time
from pathlib import Path

import pytest

from normalizers.model import (
    Category,
    CodeLocation,
    Evidence,
    Finding,
    Remediation,
    Severity,
    Tool,
    UrlLocation,
)
from normalizers.redact import MASK, mask, redact_findings, redact_text
from tests.conftest import ROOT

_RNG = random.SystemRandom()
_ALNUM = string.ascii_letters + string.digits


def _random(alphabet: str, length: int) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(length))


def planted_secrets() -> dict[str, str]:
    """One fresh secret per known format, plus passwords that only a credential rule points at."""
    b64url = string.ascii_letters + string.digits + "-_"
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    payload = base64.urlsafe_b64encode(f'{{"sub":"{_random(_ALNUM, 12)}"}}'.encode()).decode().rstrip("=")
    return {
        "aws_key_id": "AKIA" + _random(string.ascii_uppercase + string.digits, 16),
        "aws_secret": _random(_ALNUM + "/+", 40),
        "github": "ghp_" + _random(_ALNUM, 36),
        "slack": f"xoxb-{_random(string.digits, 11)}-{_random(string.digits, 12)}-{_random(_ALNUM, 24)}",
        "jwt": f"{header}.{payload}.{_random(b64url, 43)}",
        "stripe": "sk_live_" + _random(_ALNUM, 24),
        "password": _random(_ALNUM, 18),
        "db_password": _random(_ALNUM, 20),
        "key_body": "MIIE" + _random(_ALNUM + "+/", 60),
    }


def _finding(text: str, *, tool: str = "Semgrep OSS", rule: str = "some-rule", category: Category = Category.SAST,
             snippet: str | None = None) -> Finding:
    return Finding(
        tool=Tool(tool, category), rule_id=rule, title=f"title {text}", severity=Severity.HIGH,
        location=CodeLocation("app.py", 3, snippet=snippet if snippet is not None else f"x = {text}"),
        description=f"description {text}", remediation=Remediation(f"fix {text}", None),
        references=(f"https://example.test/?q={text}",), properties=(("k", f"v {text}"),),
        evidence=(Evidence("Bandit", "B105", f"evidence {text}", Severity.LOW, f"said {text}"),),
    )


def _all_text(finding: Finding) -> str:
    return repr(finding)


@pytest.mark.parametrize("kind", ["aws_key_id", "github", "slack", "jwt", "stripe"])
def test_known_formats_are_masked_in_every_field(kind: str) -> None:
    secret = planted_secrets()[kind]
    [redacted] = redact_findings([_finding(secret)])
    text = _all_text(redacted)
    assert secret not in text
    assert secret[4:] not in text
    assert mask(secret) in redacted.title and redacted.title.endswith(MASK)


def test_aws_secret_key_and_private_key_blocks() -> None:
    secrets = planted_secrets()
    snippet = f'aws_secret_access_key = "{secrets["aws_secret"]}"'
    key = f"-----BEGIN RSA PRIVATE KEY-----\n{secrets['key_body']}\n-----END RSA PRIVATE KEY-----"
    [one, two] = redact_findings([_finding("x", snippet=snippet), _finding(key.replace("\n", " "), snippet=key)])
    assert secrets["aws_secret"] not in _all_text(one)
    assert secrets["key_body"] not in _all_text(two) and secrets["key_body"][4:] not in _all_text(two)
    assert "-----BEGIN RSA PRIVATE KEY-----" in (two.location.snippet or "")


def test_credential_rule_literal_is_masked_across_the_report() -> None:
    """Bandit B105 quotes the password; Bandit's other finding on that line shows it in its snippet."""
    password = planted_secrets()["password"]
    b105 = _finding("", tool="Bandit", rule="B105", snippet=f'PASSWORD = "{password}"')
    b105 = Finding(**{**b105.__dict__, "title": f"Possible hardcoded password: '{password}'"})
    other = _finding("", tool="Bandit", rule="B108", snippet=f'open("/tmp/x", "{password}")')
    redacted = redact_findings([b105, other])
    for finding in redacted:
        assert password not in _all_text(finding)
    assert redacted[0].title == f"Possible hardcoded password: '{password[:4]}{MASK}'"


def test_short_literal_is_masked_only_in_its_own_finding() -> None:
    b105 = _finding("", tool="Bandit", rule="B105", snippet='PASSWORD = "admin1"')
    unrelated = _finding("admin1 is a user name here")
    redacted = redact_findings([b105, unrelated])
    assert "admin1" not in _all_text(redacted[0])
    assert redacted[1] == unrelated


def test_secret_scanner_assigned_values_and_url_locations() -> None:
    secrets = planted_secrets()
    leak = _finding("", tool="gitleaks", rule="generic-api-key", category=Category.SECRETS,
                    snippet=f"api_key={secrets['db_password']}")
    url = Finding(tool=Tool("ZAP", Category.DAST), rule_id="10001", title="t", severity=Severity.LOW,
                  location=UrlLocation(f"https://app.test/?token={secrets['github']}", evidence=secrets["github"]))
    redacted = redact_findings([leak, url])
    assert secrets["db_password"] not in _all_text(redacted[0])
    assert secrets["github"] not in _all_text(redacted[1])


def test_a_finding_without_secrets_is_returned_as_is() -> None:
    finding = _finding("nothing secret")
    assert redact_findings([finding])[0] is finding


def test_findings_whose_equal_references_are_other_tuples_are_returned_as_they_are() -> None:
    """Texts are masked once per distinct tuple; a second, equal tuple is still the finding's own."""
    references = ("https://example.org/a", "https://example.org/b")
    first = dataclasses.replace(_finding("nothing secret"), references=references)
    second = dataclasses.replace(first, references=tuple(list(references)))
    assert second.references is not first.references
    assert [f is g for f, g in zip(redact_findings([first, second]), (first, second), strict=True)] == [True, True]


def test_mask_shows_a_short_prefix_at_most() -> None:
    assert mask("F12Zr47jQ8mXp2Lw") == "F12Z…"
    assert mask("abc") == "…"
    assert mask("hunter22") == "hu…"


# --- every emitter, with the real scanners -----------------------------------------------------

def _plant(tree: Path, secrets: dict[str, str]) -> None:
    (tree / "terraform").mkdir(parents=True)
    (tree / "app.py").write_text(
        "import subprocess\n\n"
        f'GITHUB_TOKEN = "{secrets["github"]}"\n'
        f'PASSWORD = "{secrets["password"]}"\n'
        f'SLACK_TOKEN = "{secrets["slack"]}"\n'
        f'SESSION = "{secrets["jwt"]}"\n'
        f'STRIPE_KEY = "{secrets["stripe"]}"\n'
        f'aws_access_key_id = "{secrets["aws_key_id"]}"\n'
        f'aws_secret_access_key = "{secrets["aws_secret"]}"\n\n\n'
        "def run(command):\n"
        "    return subprocess.call(command, shell=True)\n"
    )
    (tree / "config.yml").write_text(f'database:\n  password: "{secrets["db_password"]}"\n'
                                     f'slack_token: {secrets["slack"]}\n')
    (tree / ".env").write_text(f"GITHUB_TOKEN={secrets['github']}\nDB_PASSWORD={secrets['db_password']}\n")
    (tree / "deploy_key.pem").write_text(
        f"-----BEGIN RSA PRIVATE KEY-----\n{secrets['key_body']}\n-----END RSA PRIVATE KEY-----\n")
    (tree / "terraform" / "main.tf").write_text(
        'provider "aws" {\n  region     = "us-east-1"\n'
        f'  access_key = "{secrets["aws_key_id"]}"\n  secret_key = "{secrets["aws_secret"]}"\n}}\n\n'
        'resource "aws_db_instance" "db" {\n  engine   = "postgres"\n  instance_class = "db.t3.micro"\n'
        f'  username = "app"\n  password = "{secrets["db_password"]}"\n}}\n'
    )


@pytest.mark.slow
def test_planted_secrets_reach_no_output(tmp_path: Path) -> None:
    for tool, install in (("bandit", "pip install 'bandit[sarif]'"), ("semgrep", "pip install semgrep"),
                          ("detect-secrets", "pip install detect-secrets")):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed ({install})")
    secrets = planted_secrets()
    tree, out = tmp_path / "repo", tmp_path / "out"
    _plant(tree, secrets)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    checkov = ROOT / ".venv-checkov" / "bin" / "checkov"
    if "TOLLGATE_CHECKOV" not in env and checkov.exists():
        env["TOLLGATE_CHECKOV"] = str(checkov)
    scanners = ["semgrep", "bandit", "checkov", "detect-secrets", "trivy-config", "trivy-secret"]
    command = [sys.executable, "-m", "pipeline.cli", "scan", str(tree), "--out", str(out), "--no-publish",
               "--repo", "example/planted", *(a for s in scanners for a in ("--only", s))]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode in (0, 1, 3), run.stderr
    outputs = [p for p in out.rglob("*") if p.is_file()]  # the scanners' raw reports are gone too
    assert {p.name for p in outputs} >= {"results.json", "tollgate.sarif", "asff.json", "summary.md", "report.html"}
    assert not (out / "raw").exists()  # they quote the secrets; --keep-raw keeps them for debugging
    texts = {p.name: p.read_text(encoding="utf-8", errors="replace") for p in outputs}
    texts["stderr"], texts["stdout"] = run.stderr, run.stdout
    if shutil.which("pdftotext") and importlib.util.find_spec("weasyprint"):
        pdf = tmp_path / "report.pdf"
        report = [sys.executable, "-m", "pipeline.cli", "report", str(out / "results.json"), "--pdf", str(pdf)]
        subprocess.run(report, env=env, capture_output=True, timeout=300, check=True)
        texts["report.pdf"] = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                                             timeout=60, check=True).stdout
    assert '"findings": []' not in texts["results.json"]
    for kind, secret in secrets.items():
        for name, text in texts.items():
            assert secret not in text, f"{kind} secret in {name}"
            assert secret[4:] not in text, f"{kind} secret (past its prefix) in {name}"


@pytest.mark.parametrize(("text", "expected"), [
    ('  password = "Q8mXp2LwF12Zr47j"', '  password = "Q8mX…"'),
    ("DB_PASSWORD=abcdEFGH1234", "DB_PASSWORD=abc…"),
    ("API_KEY=sk2lkj3lk4j5", "API_KEY=sk2…"),
    ("password = var.db_password", "password = var.db_password"),
    ("self.password = password_input", "self.password = password_input"),
    ("secret_key: true", "secret_key: true"),
    ("token: '${{ secrets.DEPLOY }}'", "token: '${{ secrets.DEPLOY }}'"),
    ("Ensure no hard coded secrets exist in lambda", "Ensure no hard coded secrets exist in lambda"),
])
def test_credential_assignments(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize("text", ["x" * 300_000, "a." * 150_000, "password" * 40_000, "DB_" + "x" * 300_000])
def test_redaction_is_linear_on_a_long_word(text: str) -> None:
    """The fuzzer's hang: a 300,000-character rule id took ~3 s per text field to redact (quadratic)."""
    started = time.monotonic()
    redact_text(text)
    assert time.monotonic() - started < 1.5


# Synthetic tokens in each known format (written for this test; none was ever issued), as (text, the part
# that must not survive). Each format is tried only on a text that holds its hint (`_formats_in`).
_PRIVATE_KEY_BODY = "MIIEowIBAAKCAQEA7"
_TOKENS = [
    (token, token) for token in (
        "AKIA" + "Z" * 16, "ASIA" + "Q7" * 8, "ghp_" + "a1B2" * 9, "github_pat_" + "11AAAAAAA0" * 3,
        "xoxb-" + "1234567890-abcdefghij", "eyJhbGciOi" + ".eyJzdWIiOi" + ".c2lnbmF0dXJl", "AIza" + "S" * 35,
        "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "glpat-" + "x" * 20, "npm_" + "N" * 36)
] + [
    ("aws_secret_access_key = " + "Ab3/" * 10, "Ab3/" * 10),
    ("https://hooks.slack.com/services/" + "T000/B000/XXXXXXXXXXXXXXXX", "T000/B000/XXXXXXXXXXXXXXXX"),
    ("DB_PASSWORD=" + "hunter2hunter2", "hunter2hunter2"),
    (f"-----BEGIN RSA PRIVATE KEY-----\n{_PRIVATE_KEY_BODY}\n-----END RSA PRIVATE KEY-----", _PRIVATE_KEY_BODY),
]


@pytest.mark.parametrize(("text", "secret"), _TOKENS, ids=[text[:12] for text, _ in _TOKENS])
def test_every_known_format_is_masked_in_free_text(text: str, secret: str) -> None:
    redacted = redact_text(f"found in config: {text} (line 3)")
    assert secret not in redacted and MASK in redacted


@pytest.mark.parametrize("key", ["PASSWORD", "Api-Key", "paſſword", "AWS_SECRET_ACCESS_KEY", "private_KEY"])
def test_the_pre_check_lets_every_spelling_of_a_credential_word_through(key: str) -> None:
    """The pre-check reads lower-cased ASCII; case-insensitive matching also folds the long s onto s, so a text
    that is not ASCII always goes to the formats."""
    redacted = redact_text(f"{key} = 'hunter2hunter2'")
    assert "hunter2hunter2" not in redacted and MASK in redacted
