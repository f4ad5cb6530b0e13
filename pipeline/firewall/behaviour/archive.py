"""The members of a package artifact, read in memory with bounds: an sdist (.tar.gz, .tar.bz2, .zip) or an npm .tgz.

Nothing is extracted to disk, so member names (`../x`, absolute paths, links) cannot escape
anywhere. Only regular files are read; each yields at most `MAX_MEMBER_BYTES` (enough for any
source file; a larger file's head still shows a binary's magic), at most `MAX_MEMBERS` files and
`MAX_TOTAL_BYTES` in all: past a bound the reading stops and says so, it never hangs on a bomb.
"""

from __future__ import annotations

import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_MEMBERS = 5000
MAX_MEMBER_BYTES = 2 * 1024 * 1024
MAX_TOTAL_BYTES = 64 * 1024 * 1024


class ArchiveError(ValueError):
    """The artifact cannot be read as an archive; the message says why."""


@dataclass(frozen=True)
class Member:
    path: str  # inside the archive, without the top folder (`package/`, `six-1.17.0/`)
    data: bytes  # at most MAX_MEMBER_BYTES
    size: int  # the member's full size


@dataclass(frozen=True)
class Contents:
    members: tuple[Member, ...]
    truncated: str | None = None  # the bound that stopped the reading, if one did


def read_archive(path: Path) -> Contents:
    try:
        if zipfile.is_zipfile(path):
            return _bounded(_zip_members(path))
        return _bounded(_tar_members(path))
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ArchiveError(f"{path.name} is not a readable archive ({exc.__class__.__name__})") from None


def _bounded(raw: Iterator[tuple[str, int, bytes]]) -> Contents:
    members: list[Member] = []
    total = 0
    for name, size, data in raw:
        if len(members) >= MAX_MEMBERS:
            return Contents(tuple(members), f"more than {MAX_MEMBERS} files: the rest were not read")
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            return Contents(tuple(members), f"more than {MAX_TOTAL_BYTES // 2**20} MB: the rest was not read")
        members.append(Member(_without_top(name), data, size))
    return Contents(tuple(members))


def _tar_members(path: Path) -> Iterator[tuple[str, int, bytes]]:
    with tarfile.open(path, mode="r:*") as archive:
        for info in archive:
            if not info.isfile():
                continue
            handle = archive.extractfile(info)
            if handle is not None:
                yield info.name, info.size, handle.read(MAX_MEMBER_BYTES)


def _zip_members(path: Path) -> Iterator[tuple[str, int, bytes]]:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            with archive.open(info) as handle:
                yield info.filename, info.file_size, handle.read(MAX_MEMBER_BYTES)


def _without_top(name: str) -> str:
    parts = name.lstrip("./").split("/", 1)
    return parts[1] if len(parts) == 2 else parts[0]
