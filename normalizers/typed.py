"""Check that a frozen dataclass built from untrusted JSON holds the types its annotations say.

Records read back from a results file are built with `Finding(**...)`-style calls, which accept
any value; a list where a string belongs would only fail later, deep inside identity or an
emitter. `check_types` walks the record against its own annotations once, so the model stays the
single description of what a field may hold.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
import types
import typing
from typing import Any


def check_types(record: Any, where: str = "") -> None:
    """TypeError naming the first field whose value does not match its annotation."""
    record_type: type = type(record)
    for field, hint in _hints(record_type).items():
        _check(getattr(record, field), hint, f"{where}.{field}" if where else field)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {name: hint for name, hint in typing.get_type_hints(cls).items() if name in names}


def _check(value: Any, hint: Any, where: str) -> None:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        _check_union(value, typing.get_args(hint), where)
    elif origin is tuple:
        _check_tuple(value, typing.get_args(hint), where)
    elif dataclasses.is_dataclass(hint):
        if not isinstance(value, hint):  # type: ignore[arg-type]
            raise TypeError(f"{where} must be an object, not {type(value).__name__}")
        check_types(value, where)
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise TypeError(f"{where} must be a finite number, not {value!r:.40}")
    elif hint is not Any and ((isinstance(value, bool) and hint is int) or not isinstance(value, hint)):
        raise TypeError(f"{where} must be {_name(hint)}, not {type(value).__name__}")


def _check_union(value: Any, options: tuple[Any, ...], where: str) -> None:
    errors = []
    for option in options:
        try:
            _check(value, option, where)
            return
        except TypeError as exc:
            errors.append(exc)
    raise errors[0]


def _check_tuple(value: Any, args: tuple[Any, ...], where: str) -> None:
    if not isinstance(value, tuple):
        raise TypeError(f"{where} must be a list, not {type(value).__name__}")
    item_hints = [args[0]] * len(value) if len(args) == 2 and args[1] is Ellipsis else list(args)
    if len(item_hints) != len(value):
        raise TypeError(f"{where} must have {len(item_hints)} items, not {len(value)}")
    for index, (item, item_hint) in enumerate(zip(value, item_hints, strict=True)):
        _check(item, item_hint, f"{where}[{index}]")


def _name(hint: Any) -> str:
    return "one of " + ", ".join(m.value for m in hint) if isinstance(hint, type) and issubclass(hint, enum.Enum) \
        else getattr(hint, "__name__", str(hint))
