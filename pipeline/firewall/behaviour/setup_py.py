"""What a setup.py calls at install time, from its syntax tree: network, processes and code, decoding.

A regular expression would be fooled by a comment or a string and miss `from urllib.request import
urlopen as u; u(url)`; the AST is not. Imports and their aliases are resolved first (`import
subprocess as sp` makes `sp.run` `subprocess.run`), then every call's dotted name is looked up in
the tables (data/behaviour.yaml `setup-calls`). A file that does not parse is itself reported: the
installer would fail on it, or it is written for a Python this one cannot read.
"""

from __future__ import annotations

import ast
import builtins

from pipeline.firewall.behaviour.tables import tables

MAX_EVIDENCE = 3  # calls quoted per category
_BUILTINS = frozenset(dir(builtins))


def setup_calls(source: bytes, file_name: str = "setup.py") -> dict[str, list[str]]:
    """Category ("network", "exec", "decode") -> evidence (`setup.py:45 calls urllib.request.urlopen`)."""
    try:
        tree = ast.parse(source, filename=file_name)
    except (SyntaxError, ValueError):
        return {}
    aliases = _aliases(tree)
    found: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for kind, names in tables().setup_calls.items():
            name = next((name for name in _resolved(node.func, aliases) if name in names), None)
            if name is not None and len(found.setdefault(kind, [])) < MAX_EVIDENCE:
                found[kind].append(f"{file_name}:{node.lineno} calls {name}")
    return {kind: evidence for kind, evidence in found.items() if evidence}


def _aliases(tree: ast.AST) -> dict[str, set[str]]:
    """Local name -> what it may stand for: `sp` -> `subprocess`, `urlopen` -> `urllib.request.urlopen`.

    A set: `try: from urllib.request import urlopen / except ImportError: from urllib2 import urlopen`
    binds one name to either.
    """
    aliases: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                aliases.setdefault(local, set()).add(alias.name if alias.asname else local)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases.setdefault(alias.asname or alias.name, set()).add(f"{node.module}.{alias.name}")
    return aliases


def _resolved(func: ast.expr, aliases: dict[str, set[str]]) -> list[str]:
    """Every dotted name the call may be, sorted; none for a call on an expression (`f()()`, `x[0]()`)."""
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return []
    heads = aliases.get(func.id) or ({func.id} if func.id in _BUILTINS or parts else set())
    return sorted(".".join([head, *reversed(parts)]) for head in heads)
