"""Where Tollgate keeps what it fetches or learns between runs: one folder, shared by every feature."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """$TOLLGATE_DATA_DIR, else `tollgate` in the user cache ($XDG_CACHE_HOME, else ~/.cache)."""
    override = os.environ.get("TOLLGATE_DATA_DIR")
    if override:
        return Path(override)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "tollgate")
