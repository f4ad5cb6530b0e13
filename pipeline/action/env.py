"""The runner's side of a step: `TOLLGATE_*` inputs in, `$GITHUB_OUTPUT` out, secrets masked.

Inputs arrive as environment variables (the runner never enforces a composite action's
`required: true`, so `TOLLGATE_REQUIRED` names the ones a step cannot do without). Outputs are
written as `name<<DELIM` heredocs with a random delimiter that never occurs in the value, so no
value can forge another output. `mask` prints `::add-mask::` for every line of every
`TOLLGATE_SECRET_*` variable (and of the auth header, its value and credential alone too),
escaped as workflow-command data so the runner masks exactly it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from pathlib import Path

from pipeline.errors import ConfigError, ExitCode

Env = Mapping[str, str]
PREFIX = "TOLLGATE_"
SECRET_PREFIX = "TOLLGATE_SECRET_"  # noqa: S105 - a variable-name prefix, not a secret
HEADER_SECRETS = frozenset({"TOLLGATE_SECRET_AUTH_HEADER"})  # `Name: value` lines (actions/dast's auth-header)


# --- inputs --------------------------------------------------------------------------------


def input_name(variable: str) -> str:
    """`TOLLGATE_FAIL_ON` -> `fail-on`: errors name the input the user wrote."""
    return variable.removeprefix(PREFIX).lower().replace("_", "-")


def text(env: Env, variable: str, default: str = "") -> str:
    return env.get(variable, "").strip() or default


def words(env: Env, variable: str) -> tuple[str, ...]:
    """A list input: one item per line or space (URLs, paths, hosts)."""
    return tuple(env.get(variable, "").split())


def names(env: Env, variable: str) -> tuple[str, ...]:
    """A list of names: separated by lines, spaces or commas."""
    return tuple(item for item in re.split(r"[\s,]+", env.get(variable, "")) if item)


def flag(env: Env, variable: str, default: bool) -> bool:
    value = text(env, variable).lower()
    if not value:
        return default
    if value not in ("true", "false"):
        raise ConfigError(f"input {input_name(variable)}: expected true or false, got {value!r}")
    return value == "true"


def require(env: Env) -> None:
    """`TOLLGATE_REQUIRED` names the variables this action cannot do without (the runner never
    enforces `required: true` on a composite action's inputs)."""
    missing = [input_name(v) for v in names(env, "TOLLGATE_REQUIRED") if not text(env, v)]
    if missing:
        raise ConfigError(f"input {', '.join(missing)}: required, but empty")


def runner_temp(env: Env) -> Path:
    folder = env.get("RUNNER_TEMP")
    if not folder:
        raise ConfigError("$RUNNER_TEMP is not set", "run this module from a GitHub Actions step")
    return Path(folder)


def workspace(env: Env) -> Path:
    return Path(env.get("GITHUB_WORKSPACE") or ".").resolve()


# --- outputs -------------------------------------------------------------------------------


def write_outputs(values: Mapping[str, str], env: Env) -> None:
    """Append `name<<DELIM ... DELIM` blocks; a delimiter never occurs in its value."""
    destination = env.get("GITHUB_OUTPUT")
    if not destination:  # never printed instead: an output may be a secret (the ZAP API key)
        raise ConfigError("$GITHUB_OUTPUT is not set", "run this module from a GitHub Actions step")
    with open(destination, "a", encoding="utf-8") as handle:
        for name, value in values.items():
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            while delimiter in value:
                delimiter = f"ghadelimiter_{uuid.uuid4()}"
            handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


# --- masking -------------------------------------------------------------------------------


def escape_command_data(value: str) -> str:
    """Workflow-command data escaping, so the runner masks exactly `value`."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def secret_parts(variable: str, line: str) -> list[str]:
    """What to mask of one line: the line, and of a header secret also its value and credential,
    which scanners use and quote on their own (ZAP sends `Bearer t0k3n`, never `Authorization: …`)."""
    if variable not in HEADER_SECRETS:
        return [line]
    value = line.partition(":")[2].strip()
    return list(dict.fromkeys([line, value, value.split()[-1]])) if value else [line]


def command_mask(env: Env) -> int:
    for variable in sorted(v for v in env if v.startswith(SECRET_PREFIX)):
        for line in env[variable].splitlines():
            for part in secret_parts(variable, line) if line.strip() else ():
                print(f"::add-mask::{escape_command_data(part)}")
    return ExitCode.PASSED
