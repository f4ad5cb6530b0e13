"""A local runner for composite actions: runs an action.yml's steps in order, the way GitHub's runner does.

What it reproduces (docs.github.com, "Metadata syntax" and "Workflow commands"):
- inputs: the action's defaults, overridden by the caller's `with:`; `${{ inputs.x }}` in `env:`,
  `with:` and `if:`. Composite `run:` steps get no `INPUT_*` variables from the runner (only
  JavaScript and Docker actions do), so the harness sets none either: an action that relied on
  them would pass here and break on GitHub. The `INPUT_*` variables are set for `uses:` steps only,
  which the harness records instead of running;
- the job environment: `GITHUB_WORKSPACE` (the working directory of every `run:`),
  `GITHUB_ACTION_PATH`, `RUNNER_TEMP`, `RUNNER_OS`, a fresh `GITHUB_OUTPUT`, `GITHUB_ENV`,
  `GITHUB_PATH` and `GITHUB_STEP_SUMMARY` file per step; what a step writes to `GITHUB_ENV` and
  `GITHUB_PATH` reaches the later steps, its `GITHUB_OUTPUT` becomes `steps.<id>.outputs`;
- `shell: bash` as `bash --noprofile --norc -eo pipefail FILE`;
- status: a failed step fails the action unless `continue-on-error`; later steps run only when their
  `if:` holds (default `success()`), so `always()` steps still run;
- the action's `outputs.<name>.value` expressions, evaluated at the end.

Expressions: literals ('…' with '' escapes, numbers, true/false/null), the contexts `inputs`, `env`,
`steps`, `runner` and `github`, `!`, `==`, `!=`, `<`, `<=`, `>`, `>=`, `&&`, `||` (which return an
operand, as on GitHub), parentheses, and the functions contains, startsWith, endsWith, format,
success, failure, always and cancelled. String comparison ignores case, as on GitHub.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)"
                   r"|(?P<op>==|!=|<=|>=|&&|\|\||[!<>(),.\[\]])|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))")
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def tokenize(expression: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    expression = expression.strip()
    while position < len(expression):
        match = TOKEN.match(expression, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot read expression at {expression[position:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "")


def as_number(value: Any) -> float:
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def compare(left: Any, operator: str, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        a: Any = left.casefold()
        b: Any = right.casefold()
    else:
        a, b = as_number(left), as_number(right)
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[operator]


def to_text(value: Any) -> str:
    """How an expression's value becomes a string in `env:` and `with:`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass
class Parser:
    tokens: list[tuple[str, str]]
    context: Mapping[str, Any]
    status: Callable[[str], bool]
    position: int = 0

    def peek(self) -> str:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.position]
        if expected is not None and token[1] != expected:
            raise ValueError(f"expected {expected!r}, got {token[1]!r}")
        self.position += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if self.position != len(self.tokens):
            raise ValueError(f"unexpected {self.peek()!r}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == "||":
            self.take()
            right = self.and_()
            value = value if truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.comparison()
        while self.peek() == "&&":
            self.take()
            right = self.comparison()
            value = right if truthy(value) else value
        return value

    def comparison(self) -> Any:
        value = self.unary()
        while self.peek() in ("==", "!=", "<", "<=", ">", ">="):
            operator = self.take()[1]
            value = compare(value, operator, self.unary())
        return value

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return float(text)
        if text == "(":
            value = self.or_()
            self.take(")")
            return value
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if self.peek() == "(":
            return self.call(text)
        return self.member(self.context.get(text))

    def member(self, value: Any) -> Any:
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                key = self.take()[1]
            else:
                key = to_text(self.or_())
                self.take("]")
            value = value.get(key) if isinstance(value, Mapping) else None
        return value

    def call(self, name: str) -> Any:
        self.take("(")
        arguments = []
        while self.peek() != ")":
            arguments.append(self.or_())
            if self.peek() == ",":
                self.take()
        self.take(")")
        if name in ("success", "failure", "always", "cancelled"):
            return self.status(name)
        functions: dict[str, Callable[..., Any]] = {
            "contains": lambda a, b: to_text(b).casefold() in to_text(a).casefold(),
            "startsWith": lambda a, b: to_text(a).casefold().startswith(to_text(b).casefold()),
            "endsWith": lambda a, b: to_text(a).casefold().endswith(to_text(b).casefold()),
            "format": lambda pattern, *values: re.sub(r"\{(\d+)\}", lambda m: to_text(values[int(m.group(1))]),
                                                      to_text(pattern)),
        }
        return functions[name](*arguments)


def evaluate(expression: str, context: Mapping[str, Any], status: Callable[[str], bool]) -> Any:
    return Parser(tokenize(expression), context, status).parse()


def substitute(text: str, context: Mapping[str, Any], status: Callable[[str], bool]) -> str:
    """Every `${{ … }}` of a string value replaced by its text."""
    return EXPRESSION.sub(lambda m: to_text(evaluate(m.group(1), context, status)), str(text))


def read_output_file(path: Path) -> dict[str, str]:
    """`name=value` lines and `name<<DELIMITER` blocks (docs: "Multiline strings")."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, index + 1)
            values[name] = "\n".join(lines[index + 1:end])
            index = end + 1
            continue
        if "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        index += 1
    return values


@dataclass(frozen=True)
class StepRecord:
    name: str
    id: str | None
    kind: str  # "run" or "uses"
    ran: bool
    exit_code: int | None = None
    outcome: str = "skipped"  # success, failure or skipped (the step's own result)
    uses: str | None = None
    with_: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)  # for uses: steps, env plus INPUT_* of `with:`
    stdout: str = ""
    stderr: str = ""


@dataclass(frozen=True)
class ActionResult:
    succeeded: bool
    outputs: Mapping[str, str]
    steps: tuple[StepRecord, ...]
    summary: str

    def step(self, name: str) -> StepRecord:
        return next(s for s in self.steps if s.name == name)

    @property
    def skipped_uses(self) -> list[StepRecord]:
        """Third-party `uses:` steps whose `if:` held: recorded with their `with:`, not run."""
        return [s for s in self.steps if s.kind == "uses" and s.ran]

    def log(self) -> str:
        return "\n".join(f"--- {s.name} ({s.outcome})\n{s.stdout}{s.stderr}" for s in self.steps if s.kind == "run")


@dataclass
class Runner:
    """One job: a workspace, a RUNNER_TEMP and a base environment shared by the actions it runs."""

    workspace: Path
    runner_temp: Path
    base_env: Mapping[str, str]
    extra_path: tuple[Path, ...] = ()
    job_env: dict[str, str] = field(default_factory=dict)  # what steps wrote to GITHUB_ENV
    job_path: list[str] = field(default_factory=list)  # what steps wrote to GITHUB_PATH

    def environment(self, action_path: Path) -> dict[str, str]:
        path = os.pathsep.join([*reversed(self.job_path), *map(str, self.extra_path), self.base_env.get("PATH", "")])
        return {**self.base_env, **self.job_env, "PATH": path, "GITHUB_WORKSPACE": str(self.workspace),
                "GITHUB_ACTION_PATH": str(action_path), "RUNNER_TEMP": str(self.runner_temp), "RUNNER_OS": "Linux",
                "GITHUB_ACTIONS": "true", "CI": "true"}

    def run(self, action_file: Path, inputs: Mapping[str, str] | None = None,
            uses_outputs: Mapping[str, Mapping[str, str]] | None = None) -> ActionResult:
        """Run the action; `uses_outputs` stands in for the outputs of skipped `uses:` steps, by step id."""
        return ActionRun(self, action_file, dict(inputs or {}), dict(uses_outputs or {})).run()


@dataclass
class ActionRun:
    runner: Runner
    action_file: Path
    given: dict[str, str]
    uses_outputs: dict[str, Mapping[str, str]]
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: bool = False
    summaries: list[str] = field(default_factory=list)

    def inputs(self, metadata: Mapping[str, Any]) -> dict[str, str]:
        declared = metadata.get("inputs") or {}
        unknown = set(self.given) - set(declared)
        if unknown:
            raise ValueError(f"{self.action_file}: no such inputs {sorted(unknown)}")
        return {name: self.given.get(name, to_text(spec.get("default", ""))) for name, spec in declared.items()}

    def context(self, inputs: Mapping[str, str], env: Mapping[str, str]) -> dict[str, Any]:
        github = {"workspace": str(self.runner.workspace), "action_path": str(self.action_file.parent),
                  "repository": env.get("GITHUB_REPOSITORY", ""), "sha": env.get("GITHUB_SHA", "")}
        return {"inputs": inputs, "env": env, "steps": self.steps, "github": github,
                "runner": {"temp": str(self.runner.runner_temp), "os": "Linux"}}

    def status(self, name: str) -> bool:
        return {"success": not self.failed, "failure": self.failed, "always": True, "cancelled": False}[name]

    def run(self) -> ActionResult:
        metadata = yaml.safe_load(self.action_file.read_text(encoding="utf-8"))
        inputs = self.inputs(metadata)
        records = [self.run_step(index, step, inputs) for index, step in enumerate(metadata["runs"]["steps"])]
        context = self.context(inputs, self.runner.environment(self.action_file.parent))
        outputs = {name: substitute(spec["value"], context, self.status)
                   for name, spec in (metadata.get("outputs") or {}).items()}
        return ActionResult(not self.failed, outputs, tuple(records), "".join(self.summaries))

    def run_step(self, index: int, step: Mapping[str, Any], inputs: Mapping[str, str]) -> StepRecord:
        name = step.get("name") or step.get("id") or f"step {index}"
        base = self.runner.environment(self.action_file.parent)
        context = self.context(inputs, base)
        condition = str(step.get("if", "success()")).strip()
        condition = EXPRESSION.sub(lambda m: m.group(1), condition)
        if not re.search(r"\b(success|failure|always|cancelled)\(", condition):
            condition = f"success() && ({condition})"
        kind = "uses" if "uses" in step else "run"
        if not truthy(evaluate(condition, context, self.status)):
            self.record(step, {}, "skipped")
            return StepRecord(name, step.get("id"), kind, ran=False, uses=step.get("uses"))
        env = {key: substitute(value, context, self.status) for key, value in (step.get("env") or {}).items()}
        with_ = {key: substitute(value, context, self.status) for key, value in (step.get("with") or {}).items()}
        if kind == "uses":  # third-party code is not run here; what it would have received is kept
            self.record(step, self.uses_outputs.get(step.get("id", ""), {}), "success")
            inputs_env = {f"INPUT_{key.replace(' ', '_').upper()}": value for key, value in with_.items()}
            return StepRecord(name, step.get("id"), kind, ran=True, outcome="success", uses=step["uses"],
                              with_=with_, env={**env, **inputs_env})
        return self.run_script(name, step, {**base, **env})

    def run_script(self, name: str, step: Mapping[str, Any], env: dict[str, str]) -> StepRecord:
        if step.get("shell") != "bash":
            raise ValueError(f"{self.action_file}: step {name!r} needs shell: bash")
        folder = self.runner.runner_temp / "_runner_file_commands" / uuid.uuid4().hex
        folder.mkdir(parents=True)
        files = {key: folder / key.lower() for key in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH",
                                                       "GITHUB_STEP_SUMMARY")}
        for path in files.values():
            path.touch()
        script = folder / "script.sh"
        script.write_text(step["run"], encoding="utf-8")
        cwd = self.runner.workspace / step.get("working-directory", ".")
        completed = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd,
                                   env={**env, **{k: str(v) for k, v in files.items()}}, capture_output=True,
                                   text=True, check=False)
        self.runner.job_env.update(read_output_file(files["GITHUB_ENV"]))
        self.runner.job_path.extend(files["GITHUB_PATH"].read_text(encoding="utf-8").split())
        self.summaries.append(files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8"))
        outcome = "success" if completed.returncode == 0 else "failure"
        self.record(step, read_output_file(files["GITHUB_OUTPUT"]), outcome)
        if outcome == "failure" and not step.get("continue-on-error"):
            self.failed = True
        return StepRecord(name, step.get("id"), "run", ran=True, exit_code=completed.returncode, outcome=outcome,
                          env=env, stdout=completed.stdout, stderr=completed.stderr)

    def record(self, step: Mapping[str, Any], outputs: Mapping[str, str], outcome: str) -> None:
        if step.get("id"):
            self.steps[step["id"]] = {"outputs": dict(outputs), "outcome": outcome, "conclusion": outcome}
