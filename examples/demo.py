"""`make demo`: Tollgate end to end on this machine, with no network beyond loopback.

1. starts the deliberately vulnerable example app on 127.0.0.1 (a free port);
2. runs `tollgate scan` on it with the embedded defaults (examples/.tollgate.yml): SAST (Semgrep,
   Bandit), IaC (Checkov, hadolint, Trivy config), secrets (detect-secrets, Trivy) and DAST
   (Wapiti) against the app, with the app's host allowed;
3. starts moto's Security Hub emulator on 127.0.0.1 and runs `tollgate publish securityhub`;
4. prints the verdict, the findings per severity as Security Hub now holds them, and where the
   SARIF, ASFF, job summary and HTML report are, after checking SARIF against the OASIS schema
   and ASFF against Tollgate's BatchImportFindings validator.
Both servers are always stopped, whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "examples" / "vulnerable-app"
CONFIG = ROOT / "examples" / ".tollgate.yml"
SARIF_SCHEMA = ROOT / "tests" / "fixtures" / "schemas" / "sarif-schema-2.1.0.json"
REPOSITORY = "tollgate-dev/vulnerable-app"
REGION = "us-east-1"
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL")
DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,  # no profile of the user's may leak in
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def say(text: str) -> None:
    print(f"demo: {text}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def example_app() -> Iterator[str]:
    """The vulnerable app on a free loopback port; yields its URL."""
    process = subprocess.Popen(  # noqa: S603 - our own example app
        [sys.executable, str(APP / "app.py"), "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None  # noqa: S101 - Popen(stdout=PIPE) always has one
        match = re.search(r"http://127\.0\.0\.1:\d+/", process.stdout.readline())
        if not match:
            raise RuntimeError("the example app did not start")
        yield match[0]
    finally:
        stop(process)


@contextmanager
def security_hub_emulator() -> Iterator[str]:
    """moto_server on a free loopback port; yields its endpoint URL."""
    command = shutil.which("moto_server", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    if command is None:
        raise RuntimeError('moto_server is not installed: pip install "moto[server]"')
    endpoint = f"http://127.0.0.1:{free_port()}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(  # noqa: S603 - moto's own server binary
            [command, "-H", "127.0.0.1", "-p", endpoint.rsplit(":", 1)[1]], stdout=log, stderr=log, text=True
        )
        try:
            wait_until_answers(endpoint, process)
            yield endpoint
        finally:
            stop(process)


def wait_until_answers(endpoint: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=5):  # noqa: S310 - loopback
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise RuntimeError("moto_server did not answer within 30 s")


def tollgate(arguments: Sequence[str], env: dict[str, str]) -> tuple[int, str]:
    """Run the real CLI as a user would; its progress goes to our stderr, its stdout is returned."""
    completed = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "pipeline.cli", *arguments], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        text=True, check=False,
    )
    sys.stdout.write(completed.stdout)
    return completed.returncode, completed.stdout


def hub_severity_counts(endpoint: str) -> Counter[str]:
    """Active findings of the demo repository per severity, read back from the emulator.

    moto ignores GetFindings filters, so the filter is applied here as well.
    """
    import boto3  # noqa: PLC0415 - only once the emulator runs

    client = boto3.client(
        "securityhub", region_name=REGION, endpoint_url=endpoint, aws_access_key_id=DUMMY_AWS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_AWS["AWS_SECRET_ACCESS_KEY"], aws_session_token=DUMMY_AWS["AWS_SESSION_TOKEN"],
    )
    counts: Counter[str] = Counter()
    for page in client.get_paginator("get_findings").paginate():
        for finding in page["Findings"]:
            if (finding.get("ProductFields", {}).get("tollgate/Repository") == REPOSITORY
                    and finding.get("RecordState", "ACTIVE") == "ACTIVE"):
                counts[finding["Severity"]["Label"]] += 1
    return counts


def validate_outputs(out: Path) -> list[str]:
    """SARIF against the OASIS schema, ASFF against the BatchImportFindings validator."""
    from jsonschema import Draft7Validator  # noqa: PLC0415

    from normalizers.asff_validator import validate_batch  # noqa: PLC0415

    sarif = json.loads((out / "tollgate.sarif").read_text(encoding="utf-8"))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    problems = [f"SARIF: {error.message}" for error in Draft7Validator(schema).iter_errors(sarif)]
    asff = json.loads((out / "asff.json").read_text(encoding="utf-8"))["Findings"]
    return problems + [f"ASFF: {problem}" for problem in validate_batch(asff)]


def print_report(out: Path, verdict: str, counts: Counter[str], problems: list[str]) -> None:
    say("")
    say(f"verdict: {verdict}")
    say("findings per severity, as Security Hub now holds them:")
    for severity in SEVERITIES:
        say(f"  {severity:<14}{counts.get(severity, 0):>5}")
    say(f"  {'total':<14}{sum(counts.values()):>5}")
    say("outputs " + ("validate: SARIF against the OASIS 2.1.0 schema, ASFF against BatchImportFindings"
                      if not problems else f"have {len(problems)} problems: " + "; ".join(problems[:5])))
    for label, name in (("SARIF", "tollgate.sarif"), ("ASFF", "asff.json"), ("job summary", "summary.md"),
                        ("HTML report", "report.html"), ("results", "results.json"), ("raw reports", "raw")):
        say(f"  {label:<12} {out / name}")


def run_demo(out: Path) -> int:
    env = {**os.environ, **DUMMY_AWS}
    env.pop("AWS_PROFILE", None)
    with example_app() as url, security_hub_emulator() as endpoint:
        say(f"example app on {url}, Security Hub emulator on {endpoint}")
        code, stdout = tollgate(["scan", str(APP), "--config", str(CONFIG), "--dast-target", url,
                                 "--dast-allow", "127.0.0.1", "--out", str(out), "--repo", REPOSITORY,
                                 "--branch", "demo", "--no-publish"], env)
        if code not in (0, 1, 3) or not (out / "results.json").exists():
            say(f"tollgate scan stopped with exit code {code}")
            return code or 1
        publish_code, _ = tollgate(["publish", "securityhub", str(out / "results.json"), "--endpoint-url",
                                    endpoint, "--region", REGION], env)
        counts = hub_severity_counts(endpoint)
        verdict = next((line.removeprefix("tollgate: ") for line in stdout.splitlines()
                        if line.startswith("tollgate: gate ")), f"exit code {code}")
        problems = validate_outputs(out)
        print_report(out, verdict, counts, problems)
    say(f"tollgate scan exit code {code} (1: the gate failed, as it must on this app); "
        f"publish exit code {publish_code}")
    return 0 if publish_code == 0 and code in (0, 1) and not problems else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "demo", help="where the reports go")
    args = parser.parse_args(argv)
    try:
        return run_demo(args.out.resolve())
    except RuntimeError as exc:
        say(f"error: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
