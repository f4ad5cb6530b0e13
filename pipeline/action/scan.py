"""The scan step: `tollgate scan` with the action's inputs, then SARIF per category and the outputs.

`scan` runs the scan verb in this process (its own parser, `request_from`, `run_scan`) so that
it knows which scanners completed: Security Hub archives the fixed findings of exactly the
categories that were scanned, and a category whose scanner was skipped must not be archived.
Those categories go to a sidecar beside the results, for `publish` and `securityhub`.

Some action inputs are scanner options (`OVERRIDES`): when any is set, the user's `.tollgate.yml`
is copied into the output folder with them merged in, and the scan reads that copy. A scanner the
action names in `scanners` must run; skipping it makes the step's exit code 3, because a gate
that saw nothing must not pass. The step itself exits 0: the gate step decides, after the SARIF
upload and publishing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from normalizers.model import Category
from pipeline.action.env import Env, flag, names, require, text, words, write_outputs
from pipeline.action.gate import verdict_outputs
from pipeline.action.sarif_split import sarif_outputs, split_sarif, uri_prefix
from pipeline.action.verbs import SIDECAR, announce, fresh_out_dir
from pipeline.errors import ConfigError, ExitCode

if TYPE_CHECKING:
    from pipeline.scan import ScanOutcome

DEFAULT_CONFIG = ".tollgate.yml"


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

    from pipeline.config import load_scan_config  # noqa: PLC0415
    from pipeline.config_file import load_yaml  # noqa: PLC0415

    source = user_config(inputs)
    if not inputs.options:
        return source
    # The scan reads only the copy: check the user's file as it would have, with the one loader (duplicate
    # keys, dates kept as text) and the scan schema, so every section merged into below is a mapping.
    document: dict[str, Any] = {}
    if source:
        load_scan_config(source)
        document = load_yaml(source.read_text(encoding="utf-8"), str(source)) or {}
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
