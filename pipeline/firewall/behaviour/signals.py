"""The behaviour signals of one artifact, and of one package's registry metadata.

Artifact (when it is at hand):
- `setup-network`, `setup-exec`, `setup-decode`: the sdist's setup.py calls the network, runs
  processes or code, or decodes data, at install time (setup_py.py);
- `hook-network`, `hook-exec`: an npm `preinstall`/`install`/`postinstall` hook (from the tarball's
  own package.json) whose command, or the JavaScript file it runs with `node`, reaches the network
  or runs processes or code;
- `encoded-payload`: a long, random-looking base64 or hex blob, or a long numeric byte array, in a
  source file; `bundled-binary`: an ELF, PE or Mach-O file (content.py).

Metadata (whenever it is read):
- `repository-mismatch`: the GitHub repository the package links to has a name unrelated to the
  package's and an owner that is not its scope; `repository-of-popular`: that repository is named
  after another popular package (starjacking: borrowing a famous project's stars and credibility);
- `disposable-email`: a maintainer or author address at a throwaway mailbox service.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable

from pipeline.firewall.behaviour import BehaviourSignal
from pipeline.firewall.behaviour.archive import Contents, Member
from pipeline.firewall.behaviour.content import TEXT_SUFFIXES, binary_kind, encoded_payload
from pipeline.firewall.behaviour.setup_py import setup_calls
from pipeline.firewall.behaviour.tables import tables
from pipeline.firewall.facts import PackageFacts
from pipeline.firewall.model import Ecosystem
from pipeline.firewall.registry import NPM_INSTALL_HOOKS

MAX_FILES_QUOTED = 3
_AFFIXES = re.compile(r"^(?:python|py|node|js)[-_.]?|[-_.]?(?:python|py|node|js)$")


def artifact_signals(ecosystem: Ecosystem, contents: Contents) -> list[BehaviourSignal]:
    members = {member.path: member for member in contents.members}
    signals = _setup_signals(members) if ecosystem is Ecosystem.PYPI else _hook_signals(members)
    payloads = [f"{m.path} holds {kind}" for m in contents.members if m.path.endswith(TEXT_SUFFIXES)
                and (kind := encoded_payload(m.data))]
    binaries = [f"{m.path} is {kind}" for m in contents.members if (kind := binary_kind(m.data))]
    for rule, evidence in (("encoded-payload", payloads), ("bundled-binary", binaries)):
        if evidence:
            signals.append(BehaviourSignal(rule, _quoted(evidence)))
    return signals


def metadata_signals(ecosystem: Ecosystem, name: str, facts: PackageFacts,
                     is_popular: Callable[[str], bool]) -> list[BehaviourSignal]:
    signals = []
    repository = facts.github_repository
    if repository is not None and not _related(ecosystem, name, repository):
        repo_name = repository.split("/")[1]
        if is_popular(repo_name) and _normal(repo_name) != _normal(name):
            signals.append(BehaviourSignal("repository-of-popular", f"links to github.com/{repository}, the "
                                           f"repository of the popular {repo_name}, not of {name}"))
        else:
            signals.append(BehaviourSignal("repository-mismatch", f"links to github.com/{repository}, whose name "
                                           f"has nothing of {name}"))
    disposable = sorted({email for email in facts.emails
                         if email.rsplit("@", 1)[-1].lower() in tables().disposable_domains})
    if disposable:
        signals.append(BehaviourSignal("disposable-email", f"published with a throwaway mailbox: "
                                       f"{', '.join(disposable)}"))
    return signals


def _setup_signals(members: dict[str, Member]) -> list[BehaviourSignal]:
    setup = members.get("setup.py")
    if setup is None:
        return []
    return [BehaviourSignal(f"setup-{kind}", _quoted(evidence)) for kind, evidence in setup_calls(setup.data).items()]


def _hook_signals(members: dict[str, Member]) -> list[BehaviourSignal]:
    manifest = members.get("package.json")
    try:
        scripts = json.loads(manifest.data).get("scripts") if manifest else None
    except (ValueError, AttributeError):
        scripts = None
    if not isinstance(scripts, dict):
        return []
    found: dict[str, list[str]] = {}
    for hook in NPM_INSTALL_HOOKS:
        command = scripts.get(hook)
        if not isinstance(command, str):
            continue
        texts = [(f"the {hook} hook `{command[:120]}`", command)]
        script = members.get(_node_script(command) or "")
        if script is not None:
            texts.append((f"{script.path} (run by the {hook} hook)", script.data.decode("utf-8", "replace")))
        for where, text in texts:
            for kind, tokens in tables().hook_tokens.items():
                token = next((t for t in tokens if t in text), None)
                if token is not None:
                    found.setdefault(kind, []).append(f"{where} uses {token.strip()}")
    return [BehaviourSignal(f"hook-{kind}", _quoted(evidence)) for kind, evidence in found.items()]


def _node_script(command: str) -> str | None:
    """`node install.js` / `node ./scripts/setup.js --x` -> the script's path in the package."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if len(words) >= 2 and words[0] == "node" and not words[1].startswith("-"):
        return words[1].removeprefix("./")
    return None


def _related(ecosystem: Ecosystem, name: str, repository: str) -> bool:
    """The repository plausibly holds the package: a shared word, the name inside it, or the scope as owner."""
    owner, repo = (part.lower() for part in repository.split("/"))
    scope, _, bare = name.lower().lstrip("@").rpartition("/") if name.startswith("@") else ("", "", name.lower())
    if scope and scope.replace("-", "") in (owner.replace("-", ""), _normal(repo)):
        return True
    package, candidate = _normal(bare), _normal(repo)
    if package in candidate or candidate in package or package in _normal(owner):
        return True
    return bool(_words(bare) & _words(repo))


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _AFFIXES.sub("", name.lower()))


def _words(name: str) -> set[str]:
    return {word for word in re.split(r"[^a-z0-9]+", name.lower()) if len(word) >= 3} - {"python", "node", "js"}


def _quoted(evidence: list[str]) -> str:
    shown = "; ".join(evidence[:MAX_FILES_QUOTED])
    return shown + (f"; and {len(evidence) - MAX_FILES_QUOTED} more" if len(evidence) > MAX_FILES_QUOTED else "")
