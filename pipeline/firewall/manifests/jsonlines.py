"""Line numbers for the keys of a JSON document, which `json` does not give.

One regex pass over the text tokenizes strings and structural characters, tracks the path of
containers it is in, and records the line of every object key by its path. The values still come
from `json.loads`; this only answers "on which line is `dependencies.lodash`?", so a finding sits
on the manifest line in SARIF.
"""

from __future__ import annotations

import json
import re

JsonPath = tuple[str | int, ...]
_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[{}\[\]:,\n]')


def key_lines(text: str) -> dict[JsonPath, int]:
    """`{("dependencies", "lodash"): 12, ...}`: the 1-based line of each object key."""
    lines: dict[JsonPath, int] = {}
    path: list[str | int] = []  # one entry per open container: the current key or index
    objects: list[bool] = []  # per open container: is it an object?
    line, expect_key = 1, False
    for match in _TOKEN.finditer(text):
        piece = match.group()
        if piece == "\n":
            line += 1
        elif piece in "{[":
            objects.append(piece == "{")
            path.append("" if piece == "{" else 0)
            expect_key = piece == "{"
        elif piece in "}]":
            if objects:
                objects.pop()
                path.pop()
            expect_key = False
        elif piece == ",":
            if objects and not objects[-1]:
                path[-1] = int(path[-1]) + 1
            expect_key = bool(objects) and objects[-1]
        elif piece != ":" and expect_key:
            path[-1] = json.loads(piece)
            lines[tuple(path)] = line
            expect_key = False
    return lines
