"""A proposed, remediated Dockerfile: the original with each finding's fix applied and commented.

Given a Dockerfile's text and the findings about it (hadolint, Checkov, Trivy config on its lines;
image findings that name fixed versions), `remediate` returns the new text and the changes made.
Every change is preceded by a `# Tollgate:` comment naming the findings it answers. What is done:

- packages: `apt-get install` gets `-y` and `--no-install-recommends` and the RUN removes the apt
  lists; `apk add` gets `--no-cache`; `pip install` gets `--no-cache-dir`; `yum`/`dnf install` get
  `-y` and a `clean all`; a package an image finding names with a fixed version is pinned to it;
- the base image: moved to a patched tag when an image finding on the base image's own package
  names a fixed version (`python:3.11.2` -> `python:3.11.9`), else, when image findings name fixes
  for OS packages, an explicit upgrade step follows FROM; an untagged or `latest` base gets a comment;
- least privilege: a non-root user with a fixed numeric UID is created and used in the final stage
  (`USER 10001`, numeric so that hosts need not resolve it), replacing a final `USER root`;
- `ADD` of a local path becomes `COPY`; `MAINTAINER` becomes a label;
- a commented HEALTHCHECK placeholder (the command depends on the service, so it stays a comment).

The result is a proposal for a person to review, never applied to the repository.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from normalizers.checks import canonical_id

APP_UID = 10001
COMMENT = "# Tollgate:"
# Rule ids (canonical) per fix; a fix is applied when a finding with one of its ids names it.
ROOT_USER = frozenset({"DL3002", "CKV_DOCKER_3", "CKV_DOCKER_8", "DS-0002"})
HEALTHCHECK = frozenset({"CKV_DOCKER_2", "DS-0026"})
APT_RECOMMENDS = frozenset({"DL3015", "DS-0029"})
APT_YES = frozenset({"DL3014", "DS-0021"})
APT_LISTS = frozenset({"DL3009"})
APK_CACHE = frozenset({"DL3019", "DS-0025"})
PIP_CACHE = frozenset({"DL3042"})
YUM_YES = frozenset({"DL3030", "DL3038", "DS-0015"})
YUM_CLEAN = frozenset({"DL3032", "DL3040", "DS-0019", "DS-0020"})
ADD_TO_COPY = frozenset({"DL3020", "CKV_DOCKER_4", "DS-0005"})
MAINTAINER = frozenset({"DL4000", "DS-0022"})
UNPINNED_BASE = frozenset({"DL3006", "DL3007", "CKV_DOCKER_7", "DS-0001"})
_APT_INSTALL = re.compile(r"\bapt-get\s+(?:[-\w=]+\s+)*install\b")
_APK_ADD = re.compile(r"\bapk\s+(?:[-\w=]+\s+)*add\b")
_PIP_INSTALL = re.compile(r"\bpip3?\s+(?:[-\w=]+\s+)*install\b")
_YUM_INSTALL = re.compile(r"\b(yum|dnf|microdnf)\s+(?:[-\w=]+\s+)*install\b")
_FROM = re.compile(r"^FROM\s+(?:--platform=\S+\s+)?(?P<image>\S+)(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Issue:
    """What the remediation needs of one finding: its rule, line, and a fixed version if it names one."""

    rule_id: str
    line: int | None = None  # 1-based line in the Dockerfile; None for file-level findings
    package: str | None = None  # image findings: the vulnerable package
    fixed_version: str | None = None

    @property
    def canonical(self) -> str:
        return canonical_id(self.rule_id)


@dataclass
class _Instruction:
    keyword: str  # upper case: FROM, RUN, USER...
    text: str  # the instruction as written, continuation lines included
    first_line: int
    last_line: int
    comments: list[str] = field(default_factory=list)  # Tollgate comments to put above it


@dataclass(frozen=True)
class Proposal:
    text: str
    changes: tuple[str, ...]  # one line per change, as commented in the text

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def parse(text: str) -> list[_Instruction | str]:
    """Instructions (with their line span) and verbatim comment or blank lines, in order."""
    items: list[_Instruction | str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.strip() or line.lstrip().startswith("#"):
            items.append(line)
            index += 1
            continue
        start = index
        while lines[index].rstrip().endswith("\\") and index + 1 < len(lines):
            index += 1
        body = "\n".join(lines[start:index + 1])
        items.append(_Instruction(body.split(None, 1)[0].upper(), body, start + 1, index + 1))
        index += 1
    return items


@dataclass
class _Changes:
    """The findings to answer and the changes made so far, each noted above its instruction."""

    found: list[Issue]
    made: list[str] = field(default_factory=list)

    def note(self, instruction: _Instruction, what: str, ids: Iterable[str]) -> None:
        cited = ", ".join(sorted(set(ids)))
        line = f"{COMMENT} {what} (fixes {cited})" if cited else f"{COMMENT} {what}"
        instruction.comments.append(line)
        self.made.append(line.removeprefix(COMMENT).strip())

    def ids_for(self, rules: frozenset[str], instruction: _Instruction | None = None) -> list[str]:
        """The rule ids of the findings among `rules` on the instruction's lines (or on the whole file)."""
        return [i.rule_id for i in self.found if i.canonical in rules and (
            instruction is None or i.line is None or instruction.first_line <= i.line <= instruction.last_line)]

    @property
    def fixes(self) -> dict[str, str]:
        """package -> the fixed version image findings name for it."""
        return {i.package: i.fixed_version for i in self.found if i.package and i.fixed_version}


def remediate(text: str, issues: Iterable[Issue]) -> Proposal:
    items = parse(text)
    instructions = [item for item in items if isinstance(item, _Instruction)]
    if not any(i.keyword == "FROM" for i in instructions):
        return Proposal(text, ())
    changes = _Changes(list(issues))
    note, ids_for = changes.note, changes.ids_for
    for instruction in instructions:
        if instruction.keyword == "RUN":
            _fix_run(instruction, changes)
        elif instruction.keyword == "ADD" and (ids := ids_for(ADD_TO_COPY, instruction)) and _local_add(instruction):
            instruction.text = "COPY" + instruction.text[3:]
            note(instruction, "COPY for a local path; ADD also fetches URLs and unpacks archives", ids)
        elif instruction.keyword == "MAINTAINER" and (ids := ids_for(MAINTAINER, instruction)):
            who = instruction.text.split(None, 1)[1].strip() if " " in instruction.text.strip() else ""
            instruction.text = f'LABEL maintainer="{who.replace(chr(34), "")}"'
            note(instruction, "MAINTAINER is deprecated; a label instead", ids)
    extra = _fix_base(instructions, changes)
    _least_privilege(items, instructions, changes, _family(text))
    if ids := ids_for(HEALTHCHECK):
        final = instructions[-1]
        note(final, "add a HEALTHCHECK that probes the service; a placeholder to adapt", ids)
        final.comments.append("# HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD "
                              "curl -fsS http://localhost:8000/health || exit 1")
    return Proposal(_render(items, extra), tuple(changes.made))


def _fix_run(instruction: _Instruction, changes: _Changes) -> None:
    text = instruction.text
    note, ids_for = changes.note, changes.ids_for
    if _APT_INSTALL.search(text):
        if (ids := ids_for(APT_RECOMMENDS, instruction)) and "--no-install-recommends" not in text:
            text = _APT_INSTALL.sub(lambda m: m.group(0) + " --no-install-recommends", text)
            note(instruction, "install only the named packages, not their recommendations", ids)
        if (ids := ids_for(APT_YES, instruction)) and not re.search(r"\s(-y|--yes|-qq?y|--assume-yes)\b", text):
            text = _APT_INSTALL.sub(lambda m: m.group(0) + " -y", text)
            note(instruction, "answer yes, so the build never waits", ids)
        if (ids := ids_for(APT_LISTS, instruction)) and "/var/lib/apt/lists" not in text:
            text = text.rstrip() + " \\\n    && rm -rf /var/lib/apt/lists/*"
            note(instruction, "remove the apt lists from the layer", ids)
        text = _pin(text, _APT_INSTALL, "=", instruction, changes)
    if _APK_ADD.search(text):
        if (ids := ids_for(APK_CACHE, instruction)) and "--no-cache" not in text:
            text = _APK_ADD.sub(lambda m: m.group(0) + " --no-cache", text)
            note(instruction, "keep apk's index out of the layer", ids)
        text = _pin(text, _APK_ADD, "=", instruction, changes)
    if _PIP_INSTALL.search(text):
        if (ids := ids_for(PIP_CACHE, instruction)) and "--no-cache-dir" not in text:
            text = _PIP_INSTALL.sub(lambda m: m.group(0) + " --no-cache-dir", text)
            note(instruction, "keep pip's cache out of the layer", ids)
        text = _pin(text, _PIP_INSTALL, "==", instruction, changes)
    if match := _YUM_INSTALL.search(text):
        tool = match.group(1)
        if (ids := ids_for(YUM_YES, instruction)) and not re.search(r"\s(-y|--assumeyes)\b", text):
            text = _YUM_INSTALL.sub(lambda m: m.group(0) + " -y", text)
            note(instruction, "answer yes, so the build never waits", ids)
        if (ids := ids_for(YUM_CLEAN, instruction)) and "clean all" not in text:
            text = text.rstrip() + f" \\\n    && {tool} clean all"
            note(instruction, f"remove {tool}'s cache from the layer", ids)
    instruction.text = text


def _pin(text: str, command: re.Pattern[str], separator: str, instruction: _Instruction, changes: _Changes) -> str:
    """Pin each package the command installs by name to the fixed version an image finding names."""
    for package, version in sorted(changes.fixes.items()):
        bare = re.compile(rf"(?<=\s){re.escape(package)}(?=\s|$|\\)")
        segment = command.search(text)
        if segment and bare.search(text, segment.end()):
            text = text[:segment.end()] + bare.sub(f"{package}{separator}{version}", text[segment.end():], count=1)
            changes.note(instruction, f"pin {package} to {version}, the version with the fix", [f"{package} {version}"])
    return text


def _local_add(instruction: _Instruction) -> bool:
    sources = instruction.text.split()[1:-1]
    return bool(sources) and not any(s.startswith(("http://", "https://", "--")) or re.search(r"\.(tar|tgz|gz|bz2|xz)",
                                                                                        s) for s in sources)


def _family(text: str) -> str:
    lowered = text.lower()
    if "alpine" in lowered or re.search(r"\bapk\b", lowered):
        return "alpine"
    if re.search(r"\b(yum|dnf|microdnf)\b|ubi|centos|rocky|alma|fedora|amazonlinux", lowered):
        return "rpm"
    return "debian"


UPGRADE = {
    "debian": "apt-get update && apt-get upgrade -y --no-install-recommends && rm -rf /var/lib/apt/lists/*",
    "alpine": "apk upgrade --no-cache",
    "rpm": "yum update -y && yum clean all",
}
CREATE_USER = {
    "debian": f"groupadd -r -g {APP_UID} app && useradd -l -r -u {APP_UID} -g app -s /usr/sbin/nologin app",
    "alpine": f"addgroup -S -g {APP_UID} app && adduser -S -D -H -u {APP_UID} -G app app",
    "rpm": f"groupadd -r -g {APP_UID} app && useradd -l -r -u {APP_UID} -g app -s /sbin/nologin app",
}


def _fix_base(instructions: list[_Instruction], changes: _Changes) -> dict[int, list[str]]:
    """Patch the final stage's base tag, or add an upgrade step after its FROM; returns lines to insert."""
    note, ids_for, fixes, found = changes.note, changes.ids_for, changes.fixes, changes.found
    final_from = [i for i in instructions if i.keyword == "FROM"][-1]
    match = _FROM.match(final_from.text)
    extra: dict[int, list[str]] = {}
    if match is None:
        return extra
    image = match.group("image")
    name, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    short = name.rsplit("/", 1)[-1]
    if short in fixes and tag and re.match(r"^\d", tag):
        suffix = re.sub(r"^[\d.]+", "", tag)  # keep a variant such as -slim
        patched = f"{name}:{fixes[short]}{suffix}"
        final_from.text = final_from.text.replace(image, patched, 1)
        note(final_from, f"base image moved to {patched}, which has the fix", [f"{short} {fixes[short]}"])
    elif os_fixes := sorted({f"{i.package} {i.fixed_version}" for i in found if i.package and i.fixed_version}):
        family = _family("\n".join(i.text for i in instructions))
        shown = ", ".join(os_fixes[:5]) + (f" and {len(os_fixes) - 5} more" if len(os_fixes) > 5 else "")
        following = instructions[instructions.index(final_from) + 1:][:1]
        if following and following[0].keyword == "RUN" and not following[0].text[3:].lstrip().startswith("["):
            # into the next RUN rather than a RUN of its own (hadolint DL3059: consecutive RUNs)
            following[0].text = f"RUN {UPGRADE[family]} \\\n    && {following[0].text[3:].lstrip()}"
            note(following[0], "apply the distribution's security fixes first", [shown])
            following[0].comments.insert(0, following[0].comments.pop())  # it is the RUN's first step
        else:
            extra[final_from.last_line] = [f"{COMMENT} apply the distribution's security fixes (fixes {shown})",
                                           f"RUN {UPGRADE[family]}"]
    if ids := ids_for(UNPINNED_BASE, final_from):
        note(final_from, "pin the base image to a version tag or a digest you have tested", ids)
    return extra


def _least_privilege(items: list[_Instruction | str], instructions: list[_Instruction], changes: _Changes,
                     family: str) -> None:
    """Create a non-root user and switch to it before the final stage's CMD or ENTRYPOINT."""
    note = changes.note
    ids = changes.ids_for(ROOT_USER)
    if not ids:
        return
    final_from = max(index for index, i in enumerate(instructions) if i.keyword == "FROM")
    stage = instructions[final_from:]
    users = [i for i in stage if i.keyword == "USER"]
    if users and users[-1].text.split(None, 1)[-1].strip() not in ("root", "0", "0:0"):
        return  # already a non-root user: the finding is about another stage or a false positive
    for user in users:
        if user.text.split(None, 1)[-1].strip() in ("root", "0", "0:0"):
            items.remove(user)
            stage.remove(user)
    run_last = [i for i in stage if i.keyword not in ("CMD", "ENTRYPOINT", "HEALTHCHECK", "EXPOSE", "LABEL")]
    anchor = run_last[-1]
    create = CREATE_USER[family]
    if anchor.keyword == "RUN" and not anchor.text.split(None, 1)[1].lstrip().startswith("["):
        anchor.text = anchor.text.rstrip() + f" \\\n    && {create}"
        note(anchor, f"create the unprivileged user app (UID {APP_UID}) in this RUN", ids)
        position = items.index(anchor) + 1
    else:
        position = items.index(anchor) + 1
        new = _Instruction("RUN", f"RUN {create}", anchor.last_line, anchor.last_line)
        note(new, f"create the unprivileged user app (UID {APP_UID})", ids)
        items.insert(position, new)
        position += 1
    switch = _Instruction("USER", f"USER {APP_UID}:{APP_UID}", anchor.last_line, anchor.last_line)
    note(switch, "run as that user, never root; give it write access only where the app writes", ids)
    items.insert(position, switch)


def _render(items: list[_Instruction | str], extra: dict[int, list[str]]) -> str:
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
            continue
        out.extend(item.comments)
        out.append(item.text)
        out.extend(extra.get(item.last_line, ()) if item.keyword == "FROM" else ())
    return "\n".join(out) + "\n"
