"""Atomic output: write to a temp file beside the target, fsync, then rename over it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pipeline import secret_mask


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> None:
    """A failed run leaves either the old file or none, never a half-written one."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Every output passes here: a configured credential that a tool echoed is masked on its way to disk.
    payload = secret_mask.mask_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, 0o644)  # reports are meant to be read; mkstemp's 0600 would hide them
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
