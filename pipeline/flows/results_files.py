"""Reading Tollgate results files: the one loader behind the gate, the reports and publishing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import orjson

from normalizers.dedupe import merge_duplicates
from normalizers.errors import MalformedReportError
from normalizers.results import Results, merge_scopes, results_from_dict


def read_json(path: Path) -> object:
    """The JSON document at `path`; MalformedReportError (exit 2) when it is not JSON."""
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise MalformedReportError(f"{path}: not valid JSON ({exc})") from None


def load_results(paths: Sequence[Path]) -> tuple[Results, ...]:
    return tuple(results_from_dict(read_json(path), str(path)) for path in paths)


def combine_results(documents: Sequence[Results]) -> Results:
    """One scope and one finding per identity, however many results files there are. A metric in
    two files (the same host audited twice) keeps the later file's value."""
    return Results(
        scope=merge_scopes(d.scope for d in documents),
        findings=tuple(merge_duplicates(f for d in documents for f in d.findings)),
        skipped=tuple(s for d in documents for s in d.skipped),
        sources=tuple(s for d in documents for s in d.sources),
        metrics=tuple(dict(metric for d in documents for metric in d.metrics).items()),
        missing=tuple(dict.fromkeys(line for d in documents for line in d.missing)),
        reconciliation=tuple(r for d in documents for r in d.reconciliation),
    )
