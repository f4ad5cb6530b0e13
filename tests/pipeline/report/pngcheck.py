"""A tiny stdlib PNG reader for tests: enough to tell a rendered page from a blank one.

It decodes 8-bit, non-interlaced grayscale, RGB and RGBA images (what Chromium's
screenshots and poppler's pdftoppm write) and undoes the five scanline filters.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 6: 4}  # colour type -> samples per pixel


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    channels: int
    rows: tuple[bytes, ...]  # unfiltered scanlines

    def pixel(self, x: int, y: int) -> tuple[int, ...]:
        start = x * self.channels
        return tuple(self.rows[y][start : start + self.channels])

    def colours(self, step: int = 4) -> Counter[tuple[int, ...]]:
        """Colours of a grid of pixels, `step` apart: cheap, and enough to see content."""
        return Counter(self.pixel(x, y) for y in range(0, self.height, step) for x in range(0, self.width, step))

    def non_background_share(self, step: int = 4) -> float:
        colours = self.colours(step)
        _, count = colours.most_common(1)[0]
        return 1 - count / sum(colours.values())


def read_png(path: Path) -> Png:
    data = path.read_bytes()
    if not data.startswith(SIGNATURE):
        raise ValueError(f"{path} is not a PNG")
    header, compressed, offset = b"", bytearray(), len(SIGNATURE)
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            compressed += body
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in CHANNELS or interlace:
        raise ValueError(f"{path}: unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
    channels = CHANNELS[colour]
    return Png(width, height, channels, _unfilter(zlib.decompress(bytes(compressed)), width * channels, height,
                                                  channels))


def _unfilter(raw: bytes, stride: int, height: int, bpp: int) -> tuple[bytes, ...]:
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            upper_left = previous[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + _predict(kind, left, up, upper_left)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return tuple(rows)


def _predict(kind: int, left: int, up: int, upper_left: int) -> int:
    if kind == 0:
        return 0
    if kind == 1:
        return left
    if kind == 2:
        return up
    if kind == 3:
        return (left + up) // 2
    estimate = left + up - upper_left  # Paeth
    distances = (abs(estimate - left), abs(estimate - up), abs(estimate - upper_left))
    return (left, up, upper_left)[distances.index(min(distances))]
