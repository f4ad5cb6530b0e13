"""The fast normalize path writes the same SARIF and ASFF bytes as the path it replaced.

`tests/snapshots/normalize/output_digests.json` holds the SHA-256 of the SARIF and ASFF that
`tollgate normalize` wrote for every parser fixture before the single-pass writer (issue 21);
ASFF's CreatedAt/UpdatedAt are the emission time, so they are set to one value before hashing.
A changed digest means an output changed: say why in docs/design.md, then rewrite the snapshot
with UPDATE_SNAPSHOTS=1.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from normalizers.errors import NormalizerError
from normalizers.model import Scope
from pipeline.flows.normalize import NormalizeRequest, normalize_reports, write_outputs
from tests.conftest import FIXTURES
from tests.normalizers.emit.test_sweep import fixture_reports
from tests.snapshot import assert_snapshot

_TIMESTAMP = re.compile(rb'"(CreatedAt|UpdatedAt)":"[^"]*"')


def _digests(report: Path, work: Path) -> dict[str, str]:
    request = NormalizeRequest(reports=(str(report),), scope=Scope("acme/web", branch="main", commit="0" * 40),
                               account="123456789012", region="eu-west-1", source_root="/src",
                               sarif_out=str(work / "out.sarif"), asff_out=str(work / "out.asff.json"))
    try:
        write_outputs(normalize_reports(request), request)
    except NormalizerError:
        return {"refused": "yes"}
    asff = _TIMESTAMP.sub(rb'"\1":"2026-01-01T00:00:00.000Z"', (work / "out.asff.json").read_bytes())
    return {"sarif": hashlib.sha256((work / "out.sarif").read_bytes()).hexdigest(),
            "asff": hashlib.sha256(asff).hexdigest()}


def test_sarif_and_asff_bytes_are_unchanged_for_every_fixture(tmp_path: Path) -> None:
    digests = {str(report.relative_to(FIXTURES)): _digests(report, tmp_path) for report in fixture_reports()}
    assert sum(1 for d in digests.values() if "sarif" in d) > 70
    assert_snapshot("normalize/output_digests", digests)
