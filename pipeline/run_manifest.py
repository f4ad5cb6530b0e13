"""outputs.json: the files one run wrote, named with their SHA-256 and size, written last.

Each file of a run is replaced atomically, but a run writes many: one killed half-way would leave
some new files beside old ones. So a run that owns an output folder
1. removes the folder's outputs.json before it writes anything,
2. records every file it then writes (pipeline.atomic.recording),
3. writes outputs.json last, atomically, once everything else is written.
A folder with no outputs.json holds no complete run; a file that outputs.json does not name, or
whose hash differs, does not belong to that run. A run that fails writes no outputs.json. Files
outside the folder (`--ocsf-out`, `--gitlab-dir`) are named by absolute path; a device or stdout
is not a file and is not named.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import orjson

from pipeline.atomic import Written, recording, write_atomic
from pipeline.errors import ConfigError

MANIFEST = "outputs.json"
FORMAT = "tollgate-outputs/1"
RERUN = "re-run the step that writes this folder; an interrupted run leaves no outputs.json"


@contextmanager
def manifest_run(folder: Path, command: str) -> Iterator[None]:
    """Everything written in the block is one run of `command` into `folder`, named last by outputs.json."""
    manifest = folder / MANIFEST
    manifest.unlink(missing_ok=True)
    started = _now()
    with recording() as written:
        yield
    # Not the manifest itself, nor what the run wrote and then removed (the scanners' raw folder)
    files = [_entry(folder, w) for w in sorted(written.values(), key=lambda w: str(w.path))
             if w.path != manifest.absolute() and w.path.exists()]
    document = {"format": FORMAT, "run": uuid.uuid4().hex, "command": command, "started": started,
                "finished": _now(), "files": files}
    write_atomic(manifest, orjson.dumps(document, option=orjson.OPT_INDENT_2))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _entry(folder: Path, written: Written) -> dict[str, object]:
    root = folder.absolute()
    shown = written.path.relative_to(root).as_posix() if written.path.is_relative_to(root) else str(written.path)
    return {"path": shown, "sha256": written.sha256, "size": written.size}


def check_member(path: Path) -> None:
    """`path` is a file the complete run of its folder wrote, unchanged; ConfigError (exit 2) if not."""
    manifest = path.parent / MANIFEST
    try:
        document = orjson.loads(manifest.read_bytes())
        files = {entry["path"]: entry for entry in document["files"]}
    except FileNotFoundError:
        raise ConfigError(f"{path}: no {MANIFEST} beside it, so the run that wrote it did not finish", RERUN) from None
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise ConfigError(f"{manifest}: not a Tollgate outputs manifest", RERUN) from None
    entry = files.get(path.name)
    if not isinstance(entry, dict) or entry.get("sha256") != hashlib.sha256(path.read_bytes()).hexdigest():
        raise ConfigError(f"{path}: not the file {manifest} names, so it is from another run", RERUN)
