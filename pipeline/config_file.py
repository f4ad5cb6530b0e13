"""Finding and reading `.tollgate.yml`: one discovery rule and one YAML loader for every section
(the policy, `scan:` and `firewall:`).

The policy, the scanners and the firewall each validate their own section with a JSON Schema,
but they read the same file, so they read it the same way:
- duplicate keys are an error (YAML would silently keep the last one, e.g. a second `fail-on`);
- dates stay strings (the schemas check `YYYY-MM-DD` themselves);
- an error names the file, and the line and column where YAML gives them;
- numbers must be finite: YAML's `.nan` and `.inf` pass every schema bound, because every
  comparison with NaN is false (`non_finite_numbers`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ConfigError

DEFAULT_CONFIG_FILE = ".tollgate.yml"


class _ConfigLoader(yaml.SafeLoader):
    """SafeLoader without timestamps and with duplicate-key errors."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key_node.value!r}", key_node.start_mark)
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


_ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str, source: str) -> Any:
    """The YAML document in `text`; ConfigError naming `source` (and line:column) when it is not YAML."""
    try:
        return yaml.load(text, Loader=_ConfigLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        raise ConfigError(f"{source}{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML: {' '.join(str(exc).split())}") from None


def load_section(text: str, source: str, name: str) -> Any:
    """The `name:` section of a configuration file (None when absent); the file must be a mapping."""
    document = load_yaml(text, source)
    if document is not None and not isinstance(document, dict):
        raise ConfigError(f"{source}: the configuration must be a mapping")
    return (document or {}).get(name)


def format_path(path: Iterable[str | int]) -> str:
    """`['suppressions', 2, 'reason']` -> `suppressions[2].reason`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def non_finite_numbers(value: Any, path: tuple[str | int, ...]) -> list[str]:
    """`path: nan is not a finite number` for every NaN or infinity in a loaded document."""
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{format_path(path)}: {value} is not a finite number"]
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    return [problem for key, item in items for problem in non_finite_numbers(item, (*path, key))]


def discover(explicit: Path | None, scan_root: Path | None = None) -> Path | None:
    """The `.tollgate.yml` every front door uses: the one given, else the scanned folder's, else the
    working directory's, else none (the embedded defaults and the default policy)."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: no such configuration file")
        return explicit
    roots = (scan_root, Path()) if scan_root is not None else (Path(),)
    return next((root / DEFAULT_CONFIG_FILE for root in roots if (root / DEFAULT_CONFIG_FILE).is_file()), None)
