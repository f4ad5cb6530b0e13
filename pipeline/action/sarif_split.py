"""SARIF per category, for code scanning: split, merge and rebase the runs of Tollgate's SARIF.

upload-sarif takes one category per upload, so each category gets its own file; the category is
read from the run's `properties.category` (else from the automation id every Tollgate run carries,
`tollgate/<category>/<tool>/`, docs/design.md), and a run without one is left out with a warning.

The code-scanning category is the run's `automationDetails.id`, which Tollgate writes itself as
`<category-prefix><category>/<tool>/`: upload-sarif's `category` input fills that field only when it
is missing, and every Tollgate run has it, so the prefix must be in the id for two jobs scanning
different paths of one repository to keep their alerts apart. The default prefix `tollgate/` keeps
the ids of earlier releases, so existing alerts stay matched. Merging the SARIF of several scans is the same
split over several documents, but two runs with the same automation id in one category are refused:
code scanning would keep only one of them. Code scanning resolves URIs from the repository root,
so relative URIs are prefixed with where the scanned folder sits in the workspace.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from normalizers.model import Category
from pipeline.action.env import Env, text, workspace
from pipeline.atomic import write_atomic
from pipeline.errors import ConfigError


def uri_prefix(path: str, env: Env) -> str:
    """Where the scanned folder sits in the repository: code scanning resolves URIs from its root."""
    scanned, root = Path(path).resolve(), workspace(env)
    if not scanned.is_relative_to(root):
        print(f"tollgate: warning: {path} is outside $GITHUB_WORKSPACE; SARIF paths stay relative to it",
              file=sys.stderr)
        return ""
    relative = scanned.relative_to(root).as_posix()
    return "" if relative == "." else relative


DEFAULT_CATEGORY_PREFIX = "tollgate/"


def category_prefix(env: Env) -> str:
    """The `category-prefix` input; the actions without one keep the default."""
    return text(env, "TOLLGATE_CATEGORY_PREFIX", DEFAULT_CATEGORY_PREFIX)


def run_category(run: Mapping[str, Any]) -> str:
    """The run's `properties.category`; else from `tollgate/<category>/<tool>/`, the automation id
    every Tollgate run carries (docs/design.md)."""
    category = (run.get("properties") or {}).get("category")
    if isinstance(category, str) and category:
        return category
    parts = str(run.get("automationDetails", {}).get("id", "")).split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tollgate" else ""


def categorize(run: dict[str, Any], category: str, category_prefix: str) -> dict[str, Any]:
    """The code-scanning category in the run's own id: `<prefix><category>/<tool>/` (in place; returns the run)."""
    tool = str(run.get("automationDetails", {}).get("id", "")).rstrip("/").rpartition("/")[2]
    run["automationDetails"] = {**run.get("automationDetails", {}), "id": f"{category_prefix}{category}/{tool}/"}
    run["properties"] = {**(run.get("properties") or {}), "category": category}
    return run


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


def split_sarif(documents: Sequence[Path], folder: Path, prefix: str = "",
                category_prefix: str = DEFAULT_CATEGORY_PREFIX) -> dict[str, Path]:
    """One SARIF file per category: upload-sarif takes one category per upload. `prefix` is where the
    scanned folder sits in the repository; `category_prefix` starts each run's code-scanning category."""
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
            runs.setdefault(category, []).append(categorize(rebase(run, prefix), category, category_prefix))
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for category, category_runs in runs.items():
        refuse_duplicate_runs(category, category_runs)
        written[category] = folder / f"{category}.sarif"
        write_atomic(written[category], json.dumps({**header, "runs": category_runs}))
    return written


def refuse_duplicate_runs(category: str, runs: Sequence[Mapping[str, Any]]) -> None:
    ids = Counter(str(run.get("automationDetails", {}).get("id")) for run in runs)
    repeated = sorted(run_id for run_id, count in ids.items() if count > 1)
    if repeated:
        raise ConfigError(f"category {category}: two scans produced the run {', '.join(repeated)}; code scanning "
                          "keeps only one of them", "publish each scan's results separately, or scan once")


def sarif_outputs(written: Mapping[str, Path]) -> dict[str, str]:
    return {f"sarif-{category}": str(path) for category, path in written.items()}
