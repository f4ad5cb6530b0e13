"""The publish action's commands: merge earlier scans, publish to Security Hub, write the summary.

`publish` reads the results of the Tollgate scans earlier in the job (the `results` input, else
every `results.json` under `$RUNNER_TEMP/tollgate`), merges their SARIF per category and gives
the combined verdict. The categories come from each scan's sidecar, so Security Hub archives the
fixed findings of exactly the categories that were scanned, never of one whose scanner was skipped.
Each command calls its flow directly: the verdict flow, the publish flow, the report renderer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from normalizers.model import Category
from pipeline.action.env import Env, names, runner_temp, text, words, write_outputs
from pipeline.action.gate import verdict_outputs, verdict_request
from pipeline.action.out_dir import OUT_ROOT, SIDECAR, fresh_out_dir
from pipeline.action.sarif_split import category_prefix, sarif_outputs, split_sarif
from pipeline.errors import ConfigError, ExitCode
from pipeline.flows.publish import (
    PublishFlowRequest,
    S3FlowRequest,
    publish_results,
    require_imported,
    upload_results,
)
from pipeline.flows.verdict import evaluate_results
from pipeline.publish.s3 import DEFAULT_PREFIX
from pipeline.report.console import print_publish_outcome
from pipeline.report.outputs import STDOUT, publish_step_summary, write_text
from pipeline.run_manifest import check_member


def results_files(env: Env) -> list[Path]:
    """The results input, else every `results.json` an earlier Tollgate step of this job wrote."""
    given = [Path(p) for p in words(env, "TOLLGATE_RESULTS")]
    found = given or sorted((runner_temp(env) / OUT_ROOT).glob("*/results.json"))
    missing = [str(p) for p in found if not p.is_file()]
    if missing or not found:
        raise ConfigError(f"input results: {', '.join(missing) or 'no results.json under $RUNNER_TEMP/tollgate'}",
                          "run a Tollgate scan action earlier in this job, or pass its results output")
    for path in found if not given else ():  # a scan step of this job: only a complete run's results count
        check_member(path)
    return found


def sidecar_categories(sidecar: Path) -> list[str]:
    """The categories an earlier scan step completed; a file that is not its sidecar is a one-line error."""
    try:
        categories = json.loads(sidecar.read_text(encoding="utf-8")).get("categories")
    except (ValueError, AttributeError):
        categories = None
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise ConfigError(f"{sidecar}: not the scan step's list of scanned categories", "re-run the scan step")
    return categories


def merged_categories(results: Sequence[Path]) -> list[str]:
    scanned: set[str] = set()
    for path in results:
        sidecar = path.parent / SIDECAR
        if sidecar.is_file():
            scanned.update(sidecar_categories(sidecar))
    return [category.value for category in Category if category.value in scanned]


def command_publish(env: Env) -> int:
    results = results_files(env)
    out_dir = fresh_out_dir(env, "publish")
    documents = [s for r in results for s in sorted((r.parent / "sarif").glob("*.sarif"))]
    sarif = split_sarif(documents, out_dir / "sarif", category_prefix=category_prefix(env))
    verdict = evaluate_results(verdict_request(env, tuple(results))).verdict
    write_outputs({
        "results": "\n".join(str(p) for p in results), "sarif-dir": str(out_dir / "sarif"), **sarif_outputs(sarif),
        "categories": ",".join(merged_categories(results)), **verdict_outputs(verdict),
    }, env)
    return ExitCode.PASSED


def command_securityhub(env: Env) -> int:
    """Import from the job, or with the `report-bucket` input, upload for the central importer."""
    results = tuple(Path(p) for p in words(env, "TOLLGATE_RESULTS"))
    region = text(env, "TOLLGATE_AWS_REGION") or text(env, "AWS_REGION") or text(env, "AWS_DEFAULT_REGION") or None
    categories = frozenset(names(env, "TOLLGATE_CATEGORIES"))
    environment = text(env, "TOLLGATE_ENVIRONMENT") or None
    bucket = text(env, "TOLLGATE_REPORT_BUCKET")
    if bucket:
        result = upload_results(S3FlowRequest(results=results, bucket=bucket, region=region, categories=categories,
                                              scope_environment=environment, env=env,
                                              prefix=text(env, "TOLLGATE_REPORT_PREFIX") or DEFAULT_PREFIX))
    else:
        result = publish_results(PublishFlowRequest(results=results, region=region, categories=categories,
                                                    scope_environment=environment, env=env))
    print_publish_outcome(result)
    require_imported(result)
    return ExitCode.PASSED


def command_summary(env: Env) -> int:
    from pipeline.report.render import render_summary  # noqa: PLC0415 - lazy: Jinja2
    from pipeline.report.view import view_of  # noqa: PLC0415

    evaluation = evaluate_results(verdict_request(env, tuple(Path(p) for p in words(env, "TOLLGATE_RESULTS"))))
    summary = render_summary(view_of(evaluation, env))
    if env.get("GITHUB_STEP_SUMMARY"):
        publish_step_summary(summary, env)
    else:
        write_text(STDOUT, summary)
    return ExitCode.PASSED
