"""What each scanner cost in the last scan, kept in the cache folder so that the next scan starts the longest first.

`$TOLLGATE_DATA_DIR/scan/durations.json` (default `~/.cache/tollgate/scan/`, beside the KEV catalog) holds,
per scanner, the wall and CPU seconds of its last completed run. CPU is its processes' own (their rusage,
children included) plus its worker thread's in Tollgate (an in-process scanner like the firewall, and the
parsing of its reports). A scan updates the scanners it ran and keeps the others' figures.

The file is a hint, never an input that can fail a scan: a missing one means no history, an unreadable or
malformed one is ignored with a warning (the specs' static estimates take over) and replaced afterwards,
and one that cannot be written is a warning too. It is written atomically, so a scan killed midway leaves
the previous file whole.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from normalizers.data_dir import data_dir
from pipeline.atomic import write_atomic

FILE_VERSION = 1


@dataclass(frozen=True)
class Measured:
    wall: float
    cpu: float


@dataclass(frozen=True)
class History:
    measured: Mapping[str, Measured]
    warning: str | None = None  # why the file was ignored


def durations_path() -> Path:
    """$TOLLGATE_DATA_DIR/scan/durations.json, else the user cache (the same folder `tollgate db update` uses)."""
    return data_dir() / "scan" / "durations.json"


def load(path: Path) -> History:
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return History({})
    except OSError as exc:
        return History({}, f"{path}: not read ({exc.strerror or exc}); scanners ordered by their static estimates")
    try:
        return History(_measured(json.loads(text)))
    except (ValueError, TypeError) as exc:
        return History({}, f"{path}: ignored ({exc}); scanners ordered by their static estimates")


def _measured(document: Any) -> dict[str, Measured]:
    if not isinstance(document, dict) or document.get("version") != FILE_VERSION:
        raise ValueError(f"not a version {FILE_VERSION} durations file")
    scanners = document.get("scanners")
    if not isinstance(scanners, dict):
        raise ValueError("no scanners object")
    return {name: Measured(_seconds(entry, "wall"), _seconds(entry, "cpu")) for name, entry in scanners.items()}


def _seconds(entry: Any, key: str) -> float:
    value = entry.get(key) if isinstance(entry, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{key} is not a number of seconds")
    return float(value)


def save(path: Path, previous: Mapping[str, Measured], runs: Iterable[tuple[str, Measured]]) -> str | None:
    """The previous figures updated with this scan's; a warning when the file cannot be written."""
    merged = {**previous, **dict(runs)}
    document = {"version": FILE_VERSION, "scanners": {
        name: {"wall": round(m.wall, 3), "cpu": round(m.cpu, 3)} for name, m in sorted(merged.items())}}
    try:
        write_atomic(path, json.dumps(document, indent=2) + "\n")
    except OSError as exc:
        return f"{path}: scanner durations not saved ({exc.strerror or exc})"
    return None
