"""FIRST's Exploit Prediction Scoring System (EPSS): how likely a CVE is to be exploited (docs/kev.md).

The snapshot is FIRST's daily `epss_scores-current.csv.gz` (gzip or plain CSV): a first line
`#model_version:<version>,score_date:<timestamp>`, the header `cve,epss,percentile`, then one row per
CVE with the probability of exploitation in the next 30 days and its percentile, both in [0, 1].
A file that is not exactly that is refused whole. A finding with several CVEs carries the highest
probability among them: it is as exploitable as its most exploitable CVE.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import math
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from normalizers.data_dir import data_dir
from normalizers.model import ExploitPrediction, Finding

SNAPSHOT_FILE = "epss_scores-current.csv.gz"
HEADER = ["cve", "epss", "percentile"]
_COMMENT = re.compile(r"^#model_version:(?P<version>[^,]+),score_date:(?P<date>\S+)$")
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_GZIP_MAGIC = b"\x1f\x8b"


class EpssError(ValueError):
    """A snapshot that is not FIRST's EPSS CSV: refused whole, never half-read."""


@dataclass(frozen=True)
class EpssSnapshot:
    model_version: str
    score_date: str  # as the file writes it, e.g. 2026-12-06T12:55:00Z
    source: str  # the file it was read from
    scores: Mapping[str, ExploitPrediction]

    def notice(self) -> str:
        return f"EPSS {self.model_version} of {self.score_date[:10]} ({len(self.scores)} CVEs, {self.source})"


def refreshed_path() -> Path:
    """Where `tollgate db update` keeps the fetched snapshot: beside the KEV catalog."""
    return data_dir() / "epss" / SNAPSHOT_FILE


def load_snapshot(path: Path | None) -> EpssSnapshot | None:
    """The given file (any problem is an EpssError naming it), else the fetched copy when it reads, else none."""
    if path is not None:
        try:
            return parse_snapshot(path.read_bytes(), str(path))
        except OSError as exc:
            raise EpssError(f"{path}: cannot read it ({exc.strerror})") from None
    fetched = refreshed_path()
    if fetched.is_file():
        try:
            return parse_snapshot(fetched.read_bytes(), str(fetched))
        except EpssError:
            return None  # `db update` validates before it writes; a damaged copy is as good as none
    return None


def parse_snapshot(data: bytes, source: str) -> EpssSnapshot:
    text = _text(data, source)
    lines = text.splitlines()
    comment = _COMMENT.match(lines[0].strip()) if lines else None
    if comment is None:
        raise EpssError(f"{source}: not an EPSS snapshot (the first line must be #model_version:...,score_date:...)")
    rows = csv.reader(lines[1:])
    if next(rows, None) != HEADER:
        raise EpssError(f"{source}: not an EPSS snapshot (line 2 must be the header {','.join(HEADER)})")
    version, score_date = comment["version"], comment["date"]
    scores: dict[str, ExploitPrediction] = {}
    for number, row in enumerate(rows, start=3):
        if len(row) != len(HEADER) or not _CVE.match(row[0]):
            raise EpssError(f"{source}: line {number}: expected CVE-YYYY-NNNN,probability,percentile")
        scores[row[0].upper()] = ExploitPrediction(row[0].upper(), _unit(row[1], source, number),
                                                   _unit(row[2], source, number), score_date[:10], version)
    return EpssSnapshot(version, score_date, source, scores)


def _text(data: bytes, source: str) -> str:
    try:
        raw = gzip.decompress(data) if data.startswith(_GZIP_MAGIC) else data
        return raw.decode("utf-8")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise EpssError(f"{source}: not an EPSS snapshot ({exc})") from None


def _unit(text: str, source: str, number: int) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise EpssError(f"{source}: line {number}: {text!r} is not a number between 0 and 1")
    return value


def mark_epss(findings: Iterable[Finding], snapshot: EpssSnapshot) -> list[Finding]:
    """Each finding with a scored CVE carries its highest-scored CVE's prediction."""
    return [_marked(finding, snapshot) for finding in findings]


def _marked(finding: Finding, snapshot: EpssSnapshot) -> Finding:
    scored = [snapshot.scores[v.upper()] for v in finding.vulnerability_ids if v.upper() in snapshot.scores]
    if not scored:
        return finding
    best = max(scored, key=lambda prediction: (prediction.probability, prediction.cve))
    return finding if best == finding.epss else dataclasses.replace(finding, epss=best)
