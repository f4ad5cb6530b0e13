"""Numbers from reports, bounded: what every output format can carry, or nothing.

A report's numbers end up in SARIF, ASFF and the results file, written by orjson, which cannot
write an integer outside 64 bits or a NaN/Infinity (and JSON has neither). Python's `int()` also
refuses strings over 4,300 digits, and `float()` overflows on big integers. So a number is kept
only within these bounds; the JSON reader refuses a report that breaks them (raw_report.py) and
parsers reading numbers out of strings or XML text go through `small_int` and `finite_float`.
"""

from __future__ import annotations

import math
from typing import Any

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
MAX_INT_DIGITS = 19  # len(str(INT_MAX)): longer digit strings are refused before int() sees them
MAX_NUMBER_CHARS = 64  # a float literal longer than this is not a score, a line or a count


def small_int(value: Any) -> int | None:
    """An int, or a string of decimal digits, within signed 64 bits; else None (bools are not ints)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        digits = value.strip()
        if not digits.lstrip("-").isdigit() or len(digits.lstrip("-")) > MAX_INT_DIGITS or not digits.isascii():
            return None
        value = int(digits)
    return value if isinstance(value, int) and INT_MIN <= value <= INT_MAX else None


def finite_float(value: Any) -> float | None:
    """A finite float from a number or a numeric string; NaN, Infinity, overflow and junk are None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    if isinstance(value, str) and len(value) > MAX_NUMBER_CHARS:
        return None
    if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
        return None
    try:
        result = float(value)
    except (ValueError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def positive_int(value: Any) -> int | None:
    """A line or column: an int ≥ 1 within 64 bits, never a bool (JSON's `true` is not line 1)."""
    return value if type(value) is int and 1 <= value <= INT_MAX else None
