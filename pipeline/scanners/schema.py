"""JSON Schema fragments that scanner specs use for their options."""

from __future__ import annotations

from typing import Any

STRING: dict[str, Any] = {"type": "string", "minLength": 1}
STRINGS: dict[str, Any] = {"type": "array", "items": STRING}
SECONDS: dict[str, Any] = {"type": "number", "exclusiveMinimum": 0}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
