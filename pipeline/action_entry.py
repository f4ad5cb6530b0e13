"""The Python side of Tollgate's composite actions: `python -m pipeline.action_entry COMMAND`.

Every step of `action.yml` and `actions/*/action.yml` that does work runs this module, the shape
of pypa/gh-action-pip-audit: the step's `env:` carries each input in a namespaced `TOLLGATE_*`
variable, and this module turns them into an argv list for a `tollgate` verb. No input ever
reaches a shell script or a command string, so no input can become code. Outputs go to
`$GITHUB_OUTPUT` with a random heredoc delimiter, so no value can forge another output.

Commands (each reads only its `TOLLGATE_*` variables and the runner's `GITHUB_*`/`RUNNER_*`):
  mask          `::add-mask::` every line of every `TOLLGATE_SECRET_*` value
  scan          `tollgate scan`, then SARIF split per category and the outputs
  gate          `tollgate gate --annotations`; fails on a failed gate (fail-job) or a failed scanner
  publish       merge the SARIF of earlier scans per category, and the combined verdict
  securityhub   `tollgate publish securityhub` with the categories that were scanned
  summary       `tollgate report --summary` into the step's job summary
  start-zap / stop-zap          the ZAP daemon in its official container, bound to 127.0.0.1
  install-dependency-check      download, verify and unpack the dependency-check CLI

`scan` runs the scan verb in this process (its own parser, `request_from`, `run_scan`) so that
it knows which scanners completed: Security Hub archives the fixed findings of exactly the
categories that were scanned, and a category whose scanner was skipped must not be archived.
Exit codes are tollgate's: 0 ok, 1 the gate failed, 2 usage/config/input, 3 a tool failed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from normalizers.errors import NormalizerError
from normalizers.model import Category, Severity
from pipeline.errors import ConfigError, ExitCode, ScannerError, TollgateError

if TYPE_CHECKING:
    from pipeline.gate import GateVerdict
    from pipeline.scan import ScanOutcome

Env = Mapping[str, str]
PREFIX = "TOLLGATE_"
SECRET_PREFIX = "TOLLGATE_SECRET_"  # noqa: S105 - a variable-name prefix, not a secret
DEFAULT_CONFIG = ".tollgate.yml"
SIDECAR = "scanned.json"  # the categories a scan completed, for `publish` and `securityhub`
OUT_ROOT = "tollgate"  # $RUNNER_TEMP/tollgate/<action>: where every action writes


# --- inputs --------------------------------------------------------------------------------


def input_name(variable: str) -> str:
    """`TOLLGATE_FAIL_ON` -> `fail-on`: errors name the input the user wrote."""
    return variable.removeprefix(PREFIX).lower().replace("_", "-")


def text(env: Env, variable: str, default: str = "") -> str:
    return env.get(variable, "").strip() or default


def words(env: Env, variable: str) -> tuple[str, ...]:
    """A list input: one item per line or space (URLs, paths, hosts)."""
    return tuple(env.get(variable, "").split())


def names(env: Env, variable: str) -> tuple[str, ...]:
    """A list of names: separated by lines, spaces or commas."""
    return tuple(item for item in re.split(r"[\s,]+", env.get(variable, "")) if item)


def flag(env: Env, variable: str, default: bool) -> bool:
    value = text(env, variable).lower()
    if not value:
        return default
    if value not in ("true", "false"):
        raise ConfigError(f"input {input_name(variable)}: expected true or false, got {value!r}")
    return value == "true"


def require(env: Env) -> None:
    """`TOLLGATE_REQUIRED` names the variables this action cannot do without (the runner never
    enforces `required: true` on a composite action's inputs)."""
    missing = [input_name(v) for v in names(env, "TOLLGATE_REQUIRED") if not text(env, v)]
    if missing:
        raise ConfigError(f"input {', '.join(missing)}: required, but empty")


def runner_temp(env: Env) -> Path:
    folder = env.get("RUNNER_TEMP")
    if not folder:
        raise ConfigError("$RUNNER_TEMP is not set", "run this module from a GitHub Actions step")
    return Path(folder)


def workspace(env: Env) -> Path:
    return Path(env.get("GITHUB_WORKSPACE") or ".").resolve()


# --- outputs -------------------------------------------------------------------------------


def write_outputs(values: Mapping[str, str], env: Env) -> None:
    """Append `name<<DELIM ... DELIM` blocks; a delimiter never occurs in its value."""
    destination = env.get("GITHUB_OUTPUT")
    if not destination:  # never printed instead: an output may be a secret (the ZAP API key)
        raise ConfigError("$GITHUB_OUTPUT is not set", "run this module from a GitHub Actions step")
    with open(destination, "a", encoding="utf-8") as handle:
        for name, value in values.items():
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            while delimiter in value:
                delimiter = f"ghadelimiter_{uuid.uuid4()}"
            handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def escape_command_data(value: str) -> str:
    """Workflow-command data escaping, so the runner masks exactly `value`."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def command_mask(env: Env) -> int:
    for variable in sorted(v for v in env if v.startswith(SECRET_PREFIX)):
        for line in env[variable].splitlines():
            if line.strip():
                print(f"::add-mask::{escape_command_data(line)}")
    return ExitCode.PASSED


# --- running tollgate verbs ---------------------------------------------------------------


def announce(argv: Sequence[str]) -> None:
    print(f"tollgate: running {shlex.join(['tollgate', *argv])}", flush=True)


def run_verb(argv: Sequence[str]) -> int:
    """One `tollgate` verb through the CLI's own entry point (its parser, errors and exit codes)."""
    from pipeline.cli import main  # noqa: PLC0415 - the CLI imports each verb lazily too

    announce(argv)
    sys.stdout.flush()
    return main(list(argv))


def policy_argv(config: str, fail_on: str, baseline: str) -> list[str]:
    argv = ["--policy", config] if config else []
    argv += ["--fail-on", fail_on] if fail_on else []
    return argv + (["--baseline", baseline] if baseline else [])


def fresh_out_dir(env: Env, action: str) -> Path:
    """$RUNNER_TEMP/tollgate/<action>, or <action>-2, -3, … when an earlier step of the job used it."""
    root = runner_temp(env) / OUT_ROOT
    candidates = (root / (action if n == 1 else f"{action}-{n}") for n in range(1, 1000))
    folder = next(c for c in candidates if not c.exists())
    folder.mkdir(parents=True)
    return folder


# --- scan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Override:
    """An action input that becomes a scanner option in the generated configuration."""

    variable: str
    scanners: tuple[str, ...]
    key: str
    boolean: bool = False


OVERRIDES = (
    Override("TOLLGATE_DEPENDENCY_CHECK_DATA_DIR", ("dependency-check",), "data-dir"),
    Override("TOLLGATE_NVD_DATAFEED", ("dependency-check",), "nvd-datafeed"),
    Override("TOLLGATE_TRIVY_CACHE_DIR", ("trivy-fs", "trivy-image"), "cache-dir"),
    Override("TOLLGATE_TRIVY_DB_REPOSITORY", ("trivy-fs", "trivy-image"), "db-repository"),
    Override("TOLLGATE_TRIVY_SKIP_DB_UPDATE", ("trivy-fs", "trivy-image"), "skip-db-update", boolean=True),
    Override("TOLLGATE_ZAP_MODE", ("zap",), "mode"),
    Override("TOLLGATE_NCP_ENDPOINT", ("ncp-wsc",), "endpoint"),
    Override("TOLLGATE_SONAR_HOST_URL", ("sonarqube",), "host-url"),
)
# DAST engine -> the scan arguments that select it. ncp-wsc is the Web Security Checker runner of issue 9.
DAST_ENGINES: dict[str, tuple[str, ...]] = {
    "zap": ("--only", "zap"),
    "ncp-wsc": ("--only", "ncp-wsc"),
}


@dataclass(frozen=True)
class ScanInputs:
    action: str
    path: str
    scanners: tuple[str, ...]
    image: str
    dast_targets: tuple[str, ...]
    dast_allow: tuple[str, ...]
    dast_engine: str
    fail_on: str
    config: str
    baseline: str
    environment: str
    summary: bool
    options: tuple[tuple[str, str, str | bool], ...]  # (scanner, key, value)

    @classmethod
    def from_env(cls, env: Env) -> ScanInputs:
        engine = text(env, "TOLLGATE_DAST_ENGINE")
        if engine and engine not in DAST_ENGINES:
            raise ConfigError(f"input engine: expected one of {', '.join(DAST_ENGINES)}, got {engine!r}")
        return cls(
            action=text(env, "TOLLGATE_ACTION", "all"), path=text(env, "TOLLGATE_PATH", "."),
            scanners=names(env, "TOLLGATE_SCANNERS"), image=text(env, "TOLLGATE_IMAGE"),
            dast_targets=words(env, "TOLLGATE_DAST_TARGETS"), dast_allow=words(env, "TOLLGATE_DAST_ALLOW"),
            dast_engine=engine, fail_on=text(env, "TOLLGATE_FAIL_ON"), config=text(env, "TOLLGATE_CONFIG"),
            baseline=text(env, "TOLLGATE_BASELINE"), environment=text(env, "TOLLGATE_ENVIRONMENT"),
            summary=flag(env, "TOLLGATE_SUMMARY", True), options=scanner_options(env),
        )


def scanner_options(env: Env) -> tuple[tuple[str, str, str | bool], ...]:
    options: list[tuple[str, str, str | bool]] = []
    for override in OVERRIDES:
        if not text(env, override.variable):
            continue
        value: str | bool = flag(env, override.variable, False) if override.boolean else text(env, override.variable)
        options.extend((scanner, override.key, value) for scanner in override.scanners)
    return tuple(options)


def user_config(inputs: ScanInputs) -> Path | None:
    """The `.tollgate.yml` tollgate scan would read: the input, else PATH/.tollgate.yml, else ./.tollgate.yml."""
    if inputs.config:
        path = Path(inputs.config)
        if not path.is_file():
            raise ConfigError(f"input config: {path} is not a file")
        return path
    candidates = (Path(inputs.path) / DEFAULT_CONFIG, Path(DEFAULT_CONFIG))
    return next((c for c in candidates if c.is_file()), None)


def effective_config(inputs: ScanInputs, out_dir: Path) -> Path | None:
    """The user's configuration, with the action's scanner options merged in when there are any."""
    import yaml  # noqa: PLC0415 - PyYAML is a tollgate dependency; only `scan` needs it

    source = user_config(inputs)
    if not inputs.options:
        return source
    try:
        document = (yaml.safe_load(source.read_text(encoding="utf-8")) if source else None) or {}
    except yaml.YAMLError:
        raise ConfigError(f"{source}: not valid YAML") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{source}: the configuration must be a mapping")
    scan = document["scan"] = document.get("scan") or {}
    scanners = scan["scanners"] = scan.get("scanners") or {}
    for scanner, key, value in inputs.options:
        scanners[scanner] = {**(scanners.get(scanner) or {}), key: value}
    if source and isinstance(document.get("baseline"), str):  # it was relative to the user's file
        document["baseline"] = str((source.parent / document["baseline"]).resolve())
    generated = out_dir / "tollgate.yml"
    generated.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return generated


def scan_argv(inputs: ScanInputs, out_dir: Path, config: Path | None) -> list[str]:
    argv = ["scan", inputs.path, "--out", str(out_dir), "--no-publish"]
    argv += ["--config", str(config)] if config else []
    argv += [arg for name in inputs.scanners for arg in ("--only", name)]
    argv += list(DAST_ENGINES[inputs.dast_engine]) if inputs.dast_engine else []
    argv += ["--image", inputs.image] if inputs.image else []
    argv += [arg for url in inputs.dast_targets for arg in ("--dast-target", url)]
    argv += [arg for host in inputs.dast_allow for arg in ("--dast-allow", host)]
    argv += ["--fail-on", inputs.fail_on] if inputs.fail_on else []
    argv += ["--baseline", inputs.baseline] if inputs.baseline else []
    return argv + (["--environment", inputs.environment] if inputs.environment else [])


@contextlib.contextmanager
def step_summary(enabled: bool) -> Iterator[None]:
    """`tollgate scan` appends to $GITHUB_STEP_SUMMARY when it is set; hide it when summary is off."""
    saved = None if enabled else os.environ.pop("GITHUB_STEP_SUMMARY", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["GITHUB_STEP_SUMMARY"] = saved


def run_scan_verb(argv: Sequence[str], summary: bool) -> ScanOutcome:
    """`tollgate scan` with the scan verb's own parser and flow, keeping its outcome."""
    from pipeline.commands import scan as scan_command  # noqa: PLC0415 - lazy, like the CLI
    from pipeline.scan import run_scan  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="tollgate scan")
    scan_command.add_arguments(parser)
    args = parser.parse_args(argv[1:])
    announce(argv)
    with step_summary(summary):
        outcome = run_scan(scan_command.request_from(args))
    scan_command.print_outcome(outcome)
    return outcome


def scanned_categories(outcome: ScanOutcome) -> list[str]:
    from pipeline.scanners.progress import RunStatus  # noqa: PLC0415
    from pipeline.scanners.registry import scanner_for  # noqa: PLC0415

    completed = {scanner_for(run.name).spec.category.value for run in outcome.runs if run.status is RunStatus.COMPLETED}
    return [category.value for category in Category if category.value in completed]


def requested_but_skipped(outcome: ScanOutcome, requested: Sequence[str]) -> bool:
    """A scanner the action asked for by name must run: skipping it would pass a gate that saw nothing."""
    from pipeline.scanners.progress import RunStatus  # noqa: PLC0415

    skipped = [run for run in outcome.runs if run.status is RunStatus.SKIPPED and run.name.value in requested]
    for run in skipped:
        print(f"tollgate: error: {run.name.value} was asked for but did not run ({run.detail})", file=sys.stderr)
    return bool(skipped)


def command_scan(env: Env) -> int:
    require(env)
    inputs = ScanInputs.from_env(env)
    out_dir = fresh_out_dir(env, inputs.action)
    config = effective_config(inputs, out_dir)
    outcome = run_scan_verb(scan_argv(inputs, out_dir, config), inputs.summary)
    categories = scanned_categories(outcome)
    exit_code = ExitCode.TOOL_FAILED if requested_but_skipped(outcome, inputs.scanners) else outcome.exit_code
    (out_dir / SIDECAR).write_text(json.dumps({"categories": categories}), encoding="utf-8")
    sarif = split_sarif([outcome.outputs.sarif], out_dir / "sarif", uri_prefix(inputs.path, env))
    write_outputs({
        "results": str(outcome.outputs.results), "sarif": str(outcome.outputs.sarif),
        "sarif-dir": str(out_dir / "sarif"), **sarif_outputs(sarif),
        "summary": str(outcome.outputs.summary), "html": str(outcome.outputs.html),
        "config": str(config or ""), "categories": ",".join(categories), "path-prefix": uri_prefix(inputs.path, env),
        "exit-code": str(int(exit_code)), **verdict_outputs(outcome.verdict),
    }, env)
    return ExitCode.PASSED  # the gate step decides, after SARIF upload and publishing


def verdict_outputs(verdict: GateVerdict) -> dict[str, str]:
    counts = Counter(finding.severity for finding in verdict.open)
    outputs = {severity.value.lower(): str(counts.get(severity, 0)) for severity in Severity}
    return outputs | {
        "total": str(len(verdict.open)), "new": str(len(verdict.new)), "failing": str(len(verdict.failing)),
        "verdict": "passed" if verdict.passed else "failed",
    }


# --- SARIF per category -------------------------------------------------------------------


def uri_prefix(path: str, env: Env) -> str:
    """Where the scanned folder sits in the repository: code scanning resolves URIs from its root."""
    scanned, root = Path(path).resolve(), workspace(env)
    if not scanned.is_relative_to(root):
        print(f"tollgate: warning: {path} is outside $GITHUB_WORKSPACE; SARIF paths stay relative to it",
              file=sys.stderr)
        return ""
    relative = scanned.relative_to(root).as_posix()
    return "" if relative == "." else relative


def run_category(run: Mapping[str, Any]) -> str:
    """`tollgate/<category>/<tool>/` is the automation id every Tollgate run carries (DESIGN.md §5)."""
    parts = str(run.get("automationDetails", {}).get("id", "")).split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tollgate" else ""


def rebase(run: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Prefix every relative artifact URI of `run` with `prefix` (in place; returns the run)."""
    if not prefix:
        return run
    for result in run.get("results", ()):
        for location in (*result.get("locations", ()), *result.get("relatedLocations", ())):
            artifact = location.get("physicalLocation", {}).get("artifactLocation", {})
            uri = artifact.get("uri")
            if isinstance(uri, str) and ":" not in uri and not uri.startswith("/"):
                artifact["uri"] = str(PurePosixPath(prefix) / uri)
    return run


def split_sarif(documents: Sequence[Path], folder: Path, prefix: str = "") -> dict[str, Path]:
    """One SARIF file per category: upload-sarif takes one category per upload."""
    header: dict[str, Any] = {}
    runs: dict[str, list[dict[str, Any]]] = {}
    for path in documents:
        document = json.loads(path.read_bytes())
        header = {key: value for key, value in document.items() if key != "runs"}
        for run in document.get("runs", ()):
            category = run_category(run)
            if category not in {c.value for c in Category}:
                print(f"tollgate: warning: {path}: a run without a Tollgate category is not uploaded", file=sys.stderr)
                continue
            runs.setdefault(category, []).append(rebase(run, prefix))
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for category, category_runs in runs.items():
        refuse_duplicate_runs(category, category_runs)
        written[category] = folder / f"{category}.sarif"
        written[category].write_text(json.dumps({**header, "runs": category_runs}), encoding="utf-8")
    return written


def refuse_duplicate_runs(category: str, runs: Sequence[Mapping[str, Any]]) -> None:
    ids = Counter(str(run.get("automationDetails", {}).get("id")) for run in runs)
    repeated = sorted(run_id for run_id, count in ids.items() if count > 1)
    if repeated:
        raise ConfigError(f"category {category}: two scans produced the run {', '.join(repeated)}; code scanning "
                          "keeps only one of them", "publish each scan's results separately, or scan once")


def sarif_outputs(written: Mapping[str, Path]) -> dict[str, str]:
    return {f"sarif-{category}": str(path) for category, path in written.items()}


# --- gate, publish, Security Hub, summary ---------------------------------------------------


def command_gate(env: Env) -> int:
    results = words(env, "TOLLGATE_RESULTS")
    if not results:
        raise ConfigError("input results: no results file", "did the scan step run?")
    policy = policy_argv(text(env, "TOLLGATE_CONFIG"), text(env, "TOLLGATE_FAIL_ON"), text(env, "TOLLGATE_BASELINE"))
    gate = run_verb(["gate", *results, *annotations_argv(text(env, "TOLLGATE_PATH_PREFIX")), *policy])
    scan = int(text(env, "TOLLGATE_SCAN_EXIT_CODE", "0"))
    if scan == ExitCode.TOOL_FAILED:
        print("tollgate: error: a scanner failed; its error is in the scan step's log", file=sys.stderr)
        return ExitCode.TOOL_FAILED
    if gate == ExitCode.GATE_FAILED and not flag(env, "TOLLGATE_FAIL_JOB", True):
        print("tollgate: the gate failed; fail-job is false, so the job goes on")
        return ExitCode.PASSED
    return gate


def annotations_argv(path_prefix: str) -> list[str]:
    """Annotations name files relative to the scanned folder; GitHub reads them from the repository root."""
    if path_prefix:
        print(f"tollgate: no annotations: findings are relative to {path_prefix}/, and annotations need "
              "paths from the repository root; the SARIF upload carries the locations")
        return []
    return ["--annotations"]


def results_files(env: Env) -> list[Path]:
    """The results input, else every `results.json` an earlier Tollgate step of this job wrote."""
    given = [Path(p) for p in words(env, "TOLLGATE_RESULTS")]
    found = given or sorted((runner_temp(env) / OUT_ROOT).glob("*/results.json"))
    missing = [str(p) for p in found if not p.is_file()]
    if missing or not found:
        raise ConfigError(f"input results: {', '.join(missing) or 'no results.json under $RUNNER_TEMP/tollgate'}",
                          "run a Tollgate scan action earlier in this job, or pass its results output")
    return found


def merged_categories(results: Sequence[Path]) -> list[str]:
    scanned: set[str] = set()
    for path in results:
        sidecar = path.parent / SIDECAR
        if sidecar.is_file():
            scanned.update(json.loads(sidecar.read_text(encoding="utf-8")).get("categories", ()))
    return [category.value for category in Category if category.value in scanned]


def evaluate_results(results: Sequence[Path], config: str, fail_on: str, baseline: str) -> GateVerdict:
    """The verdict `tollgate gate` reaches for these results (its own reading of every file)."""
    from datetime import datetime, timezone  # noqa: PLC0415

    from pipeline.commands.gate import read_baseline, read_results  # noqa: PLC0415
    from pipeline.gate import evaluate  # noqa: PLC0415
    from pipeline.policy import Policy, load_policy  # noqa: PLC0415

    _, findings = read_results([str(p) for p in results])
    policy = (load_policy(config) if config else Policy()).with_fail_on(fail_on or None)
    baseline_path = baseline or policy.baseline
    known = read_baseline(baseline_path) if baseline_path else None
    return evaluate(findings, policy, known, today=datetime.now(timezone.utc).date())


def command_publish(env: Env) -> int:
    results = results_files(env)
    out_dir = fresh_out_dir(env, "publish")
    sarif = split_sarif([s for r in results for s in sorted((r.parent / "sarif").glob("*.sarif"))], out_dir / "sarif")
    verdict = evaluate_results(results, text(env, "TOLLGATE_CONFIG"), text(env, "TOLLGATE_FAIL_ON"),
                               text(env, "TOLLGATE_BASELINE"))
    write_outputs({
        "results": "\n".join(str(p) for p in results), "sarif-dir": str(out_dir / "sarif"), **sarif_outputs(sarif),
        "categories": ",".join(merged_categories(results)), **verdict_outputs(verdict),
    }, env)
    return ExitCode.PASSED


def command_securityhub(env: Env) -> int:
    results = words(env, "TOLLGATE_RESULTS")
    region = text(env, "TOLLGATE_AWS_REGION") or text(env, "AWS_REGION")
    argv = ["publish", "securityhub", *results] + (["--region", region] if region else [])
    argv += [arg for category in names(env, "TOLLGATE_CATEGORIES") for arg in ("--category", category)]
    scope_env = text(env, "TOLLGATE_ENVIRONMENT")
    return run_verb(argv + (["--scope-env", scope_env] if scope_env else []))


def command_summary(env: Env) -> int:
    destination = env.get("GITHUB_STEP_SUMMARY") or "-"
    argv = ["report", *words(env, "TOLLGATE_RESULTS"), "--summary", destination]
    return run_verb(argv + policy_argv(text(env, "TOLLGATE_CONFIG"), text(env, "TOLLGATE_FAIL_ON"),
                                       text(env, "TOLLGATE_BASELINE")))


# --- the ZAP daemon -----------------------------------------------------------------------

ZAP_CONTAINER = "tollgate-zap"
ZAP_READY_POLL_SECONDS = 2.0


@dataclass(frozen=True)
class ZapDaemon:
    image: str
    port: int
    work_dir: Path
    container: str = ZAP_CONTAINER

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def docker_argv(self) -> list[str]:
        """Host networking, so ZAP reaches targets on the runner's loopback; its API binds 127.0.0.1 only.
        The API key is in a config file in the mounted work dir, never on a command line."""
        return [
            "docker", "run", "--detach", "--rm", "--name", self.container, "--network", "host",
            "--volume", f"{self.work_dir}:/zap/wrk:rw", self.image,
            "zap.sh", "-daemon", "-host", "127.0.0.1", "-port", str(self.port), "-configfile", "/zap/wrk/zap.conf",
        ]


def zap_port(env: Env) -> int:
    value = text(env, "TOLLGATE_ZAP_PORT", "8090")
    if not value.isdigit() or not 1024 <= int(value) <= 65535:
        raise ConfigError(f"input zap-port: expected a port from 1024 to 65535, got {value!r}")
    return int(value)


def guard_targets(env: Env) -> None:
    """The scope guard, before a container starts: nothing runs against a host not allowed."""
    from pipeline.scope import Allowlist  # noqa: PLC0415

    targets = words(env, "TOLLGATE_DAST_TARGETS")
    if not targets:
        raise ConfigError("input targets: no DAST target", "give the URLs of your own application")
    allowlist = Allowlist.parse(words(env, "TOLLGATE_DAST_ALLOW"))
    for url in targets:
        allowlist.guard(url)


def prepare_work_dir(folder: Path, api_key: str) -> None:
    """ZAP runs as its own user (uid 1000) in the image: the mounted folder must be writable by it."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o777)  # a fresh folder under $RUNNER_TEMP, shared with the container only
    config = folder / "zap.conf"
    config.write_text(f"api.key={api_key}\n", encoding="utf-8")
    config.chmod(stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)


def command_start_zap(env: Env) -> int:
    guard_targets(env)
    api_key = secrets.token_urlsafe(24)
    print(f"::add-mask::{api_key}")
    daemon = ZapDaemon(image=text(env, "TOLLGATE_ZAP_IMAGE"), port=zap_port(env),
                       work_dir=runner_temp(env) / "tollgate-zap")
    if not daemon.image:
        raise ConfigError("input zap-image: empty")
    prepare_work_dir(daemon.work_dir, api_key)
    print(f"tollgate: running {shlex.join(daemon.docker_argv())}", flush=True)
    started = subprocess.run(daemon.docker_argv(), check=False)  # noqa: S603 - an argv list
    if started.returncode != 0:
        raise ScannerError(f"docker run {daemon.image} exited with status {started.returncode}")
    wait_for_zap(daemon, api_key, float(text(env, "TOLLGATE_ZAP_START_TIMEOUT", "300")))
    write_outputs({"url": daemon.url, "api-key": api_key, "container": daemon.container}, env)
    return ExitCode.PASSED


def wait_for_zap(daemon: ZapDaemon, api_key: str, timeout: float) -> None:
    version_url = f"{daemon.url}/JSON/core/view/version/"
    request = urllib.request.Request(version_url, headers={"X-ZAP-API-Key": api_key})  # noqa: S310 - 127.0.0.1
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            print(f"tollgate: ZAP {json.load(response).get('version', '?')} is ready at {daemon.url}")
            return
        time.sleep(ZAP_READY_POLL_SECONDS)
    raise ScannerError(f"ZAP did not answer at {daemon.url} within {timeout:g}s",
                       f"see `docker logs {daemon.container}`")


def command_stop_zap(env: Env) -> int:
    container = text(env, "TOLLGATE_ZAP_CONTAINER", ZAP_CONTAINER)
    subprocess.run(["docker", "logs", "--tail", "40", container], check=False)  # noqa: S603, S607
    removed = subprocess.run(["docker", "rm", "--force", container], check=False)  # noqa: S603, S607
    return ExitCode.PASSED if removed.returncode == 0 else ExitCode.TOOL_FAILED


# --- the dependency-check CLI -------------------------------------------------------------

DEPENDENCY_CHECK_URL = ("https://github.com/dependency-check/DependencyCheck/releases/download/"
                        "v{version}/dependency-check-{version}-release.zip")
DOWNLOAD_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Download:
    url: str
    sha256: str  # hex; "" when the signature is the only check
    gpg_key: str  # release signing key fingerprint; "" when the checksum is the only check
    keyserver: str

    @classmethod
    def from_env(cls, env: Env) -> Download:
        version = text(env, "TOLLGATE_DEPENDENCY_CHECK_VERSION")
        url = text(env, "TOLLGATE_DEPENDENCY_CHECK_URL")
        if not (url or version):
            raise ConfigError("input dependency-check-version: empty")
        download = cls(url=url or DEPENDENCY_CHECK_URL.format(version=version),
                       sha256=text(env, "TOLLGATE_DEPENDENCY_CHECK_SHA256").lower(),
                       gpg_key=text(env, "TOLLGATE_DEPENDENCY_CHECK_GPG_KEY").replace(" ", "").upper(),
                       keyserver=text(env, "TOLLGATE_DEPENDENCY_CHECK_KEYSERVER", "hkps://keyserver.ubuntu.com"))
        if not (download.sha256 or download.gpg_key):
            raise ConfigError("refusing to run an unverified download of dependency-check",
                              "set dependency-check-sha256, dependency-check-gpg-key, or both")
        if not download.url.startswith(("https://", "http://127.0.0.1:")):  # a loopback mirror is fine
            raise ConfigError(f"input dependency-check-url: must be https, got {download.url!r}")
        return download


def fetch(url: str, destination: Path) -> Path:
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response, \
                open(destination, "wb") as handle:  # noqa: S310 - https (checked), or a loopback mirror in tests
            shutil.copyfileobj(response, handle)
    except urllib.error.URLError as exc:
        raise ScannerError(f"cannot download {url}: {exc.reason}") from None
    return destination


def verify_sha256(path: Path, expected: str) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise ScannerError(f"{path.name}: SHA-256 {digest} is not the expected {expected}; not installing it")


def verify_signature(archive: Path, signature: Path, fingerprint: str, gnupg_home: Path) -> None:
    """`gpg --verify` in its own keyring; VALIDSIG's last field is the primary key's fingerprint."""
    status = subprocess.run(  # noqa: S603 - an argv list; gpg from PATH, like every runner tool
        ["gpg", "--batch", "--homedir", str(gnupg_home), "--status-fd", "1",  # noqa: S607
         "--verify", str(signature), str(archive)],
        check=False, capture_output=True, text=True)
    valid = [line.split() for line in status.stdout.splitlines() if line.startswith("[GNUPG:] VALIDSIG ")]
    if status.returncode != 0 or not any(fields[-1] == fingerprint for fields in valid):
        raise ScannerError(f"{archive.name}: no valid signature by {fingerprint}; not installing it")


def import_key(fingerprint: str, keyserver: str, gnupg_home: Path) -> None:
    gnupg_home.mkdir(mode=0o700, parents=True, exist_ok=True)
    received = subprocess.run(  # noqa: S603 - an argv list
        ["gpg", "--batch", "--homedir", str(gnupg_home), "--keyserver", keyserver,  # noqa: S607
         "--recv-keys", fingerprint],
        check=False)
    if received.returncode != 0:
        raise ScannerError(f"cannot fetch the signing key {fingerprint} from {keyserver}")


def safe_extract(archive: Path, destination: Path) -> None:
    """Unzip, refusing any entry that would land outside `destination`; keeps the executable bits."""
    root = destination.resolve()
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.infolist():
            target = (root / member.filename).resolve()
            if not target.is_relative_to(root):
                raise ScannerError(f"{archive.name}: entry {member.filename!r} points outside the folder")
        bundle.extractall(root)  # every entry was checked above
        for member in bundle.infolist():
            mode = member.external_attr >> 16
            if mode & 0o111:
                (root / member.filename).chmod(mode & 0o755)


def command_install_dependency_check(env: Env) -> int:
    download = Download.from_env(env)
    folder = runner_temp(env) / "dependency-check-cli"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    archive = fetch(download.url, folder / "dependency-check.zip")
    if download.sha256:
        verify_sha256(archive, download.sha256)
    if download.gpg_key:
        keyring = folder / "gnupg"
        import_key(download.gpg_key, download.keyserver, keyring)
        verify_signature(archive, fetch(f"{download.url}.asc", folder / "dependency-check.zip.asc"),
                         download.gpg_key, keyring)
    safe_extract(archive, folder / "unpacked")
    executable = next((folder / "unpacked").glob("*/bin/dependency-check.sh"), None)
    if executable is None:
        raise ScannerError(f"{download.url}: no */bin/dependency-check.sh in the archive")
    executable.chmod(0o755)
    write_outputs({"executable": str(executable)}, env)
    return ExitCode.PASSED


# --- entry point ----------------------------------------------------------------------------

COMMANDS: dict[str, Callable[[Env], int]] = {
    "mask": command_mask,
    "scan": command_scan,
    "gate": command_gate,
    "publish": command_publish,
    "securityhub": command_securityhub,
    "summary": command_summary,
    "start-zap": command_start_zap,
    "stop-zap": command_stop_zap,
    "install-dependency-check": command_install_dependency_check,
}


def main(argv: Sequence[str] | None = None, env: Env | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if len(arguments) != 1 or arguments[0] not in COMMANDS:
        print(f"usage: python -m pipeline.action_entry {{{','.join(COMMANDS)}}}", file=sys.stderr)
        return ExitCode.USAGE
    try:
        return COMMANDS[arguments[0]](os.environ if env is None else env)
    except TollgateError as exc:
        print(f"tollgate: error: {exc}", file=sys.stderr)
        if exc.tip:
            print(f"tollgate: tip: {exc.tip}", file=sys.stderr)
        return int(exc.exit_code)
    except (NormalizerError, OSError) as exc:
        print(f"tollgate: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE


if __name__ == "__main__":
    sys.exit(main())
