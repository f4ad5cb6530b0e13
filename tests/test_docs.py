"""The documentation: a short front page, links that resolve, action tables that match the action files,
and no citation of anything outside the repository.

The reference lives in docs/ and in actions/<name>/README.md; README.md is the front page. The CLI
tables of docs/cli.md are checked against `--help` in tests/test_scan.py and tests/test_cli_normalize.py,
and the workflow snippets against the schema and zizmor in tests/test_actions.py.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
ACTIONS_DOC = DOCS / "actions.md"
MAX_README_LINES = 300
ROOT_ACTION_SECTION = "## The all-in-one action: `tollgate-dev/tollgate`"

ACTION_FILES = [ROOT / "action.yml", *sorted((ROOT / "actions").glob("*/action.yml"))]
MARKDOWN = [README, *sorted(DOCS.glob("*.md")), *sorted((ROOT / "actions").glob("*/README.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


# --- the front page --------------------------------------------------------------------------


def test_readme_is_a_front_page_of_at_most_300_lines() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines; the reference belongs in docs/"


def test_readme_points_to_every_page_of_docs_and_every_action() -> None:
    linked = set(links(README))
    expected = {relative(page) for page in DOCS.glob("*.md")} | {
        relative(path.parent / "README.md") for path in ACTION_FILES if path.parent != ROOT}
    assert expected <= {target.split("#")[0] for target in linked}, expected - linked


# --- links -----------------------------------------------------------------------------------


def links(path: Path, root: Path = ROOT) -> Iterator[str]:
    """Relative link targets outside code, as paths from `root` (an `#anchor` kept)."""
    text = CODE_SPAN.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        page, _, anchor = target.partition("#")
        resolved = (path.parent / page).resolve() if page else path.resolve()
        shown = str(resolved.relative_to(root)) if resolved.is_relative_to(root) else str(resolved)
        yield shown + (f"#{anchor}" if anchor else "")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(match) for match in re.findall(r"^#{1,6} (.+)$", text, re.MULTILINE)}


def test_slug_follows_github() -> None:
    assert slug("The all-in-one action: `tollgate-dev/tollgate`") == "the-all-in-one-action-tollgate-devtollgate"
    assert slug("`tollgate scan`: the main job") == "tollgate-scan-the-main-job"


@pytest.mark.parametrize("path", MARKDOWN, ids=[relative(p) for p in MARKDOWN])
def test_every_relative_link_resolves_to_a_file_in_the_repository(path: Path) -> None:
    for target in links(path):
        page, _, anchor = target.partition("#")
        resolved = ROOT / page
        assert not Path(page).is_absolute() and resolved.resolve().is_relative_to(ROOT), \
            f"{relative(path)} links outside the repository: {target}"
        assert resolved.exists(), f"{relative(path)}: {target} does not exist"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved), f"{relative(path)}: {target} names no heading of {page}"


def test_the_link_check_can_fail(tmp_path: Path) -> None:
    """A link in text counts, one in code does not; a link out of the folder shows as absolute."""
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "page.md"
    page.write_text("[gone](missing.md#x) [up](../../outside.md) `[code](nowhere.md)`\n"
                    "```\n[fenced](nowhere.md)\n```\n[web](https://example.com/) ![img](pic.png)\n", encoding="utf-8")
    assert list(links(page, tmp_path)) == ["docs/missing.md#x", str((tmp_path.parent / "outside.md").resolve())]


# --- docs/cli.md against --help -------------------------------------------------------------
# scan and normalize have flag tables, checked both ways in tests/test_scan.py and tests/test_cli_normalize.py.
CLI_SECTIONS = {
    ("gate",): "## `tollgate gate`",
    ("report",): "## `tollgate report`",
    ("publish", "securityhub"): "## `tollgate publish securityhub`",
    ("publish", "s3"): "## `tollgate publish s3`",
    ("firewall", "check"): "## `tollgate firewall`",
    ("firewall", "serve"): "## `tollgate firewall`",
    ("db", "update"): "## `tollgate db update`",
    ("firewall", "install"): "## `tollgate firewall`",
}


def options_of(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", text)) - {"--help"}


@pytest.mark.parametrize(("verb", "heading"), CLI_SECTIONS.items(), ids=[" ".join(v) for v in CLI_SECTIONS])
def test_docs_cli_synopsis_names_every_flag_of_the_verb(verb: tuple[str, ...], heading: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([*verb, "--help"])
    help_options = options_of(capsys.readouterr().out.split("\n\n", 1)[0])  # the usage lines
    section = (DOCS / "cli.md").read_text(encoding="utf-8").split(heading + "\n", 1)[1].split("\n## ", 1)[0]
    command = f"tollgate {' '.join(verb)}"
    synopsis = next(line for block in re.findall(r"```\n(.*?)```", section, re.DOTALL)
                    for line in re.split(r"\n(?=tollgate )", block) if line.startswith(f"{command} "))
    assert options_of(synopsis) == help_options, f"docs/cli.md's synopsis of {command} differs from --help"


# --- the actions' tables ---------------------------------------------------------------------


def action_doc(path: Path) -> tuple[Path, str]:
    """Where an action is documented: its README, or for the root action its section of docs/actions.md."""
    if path.parent == ROOT:
        text = ACTIONS_DOC.read_text(encoding="utf-8")
        assert ROOT_ACTION_SECTION in text, f"docs/actions.md has no section {ROOT_ACTION_SECTION!r}"
        return ACTIONS_DOC, text.split(ROOT_ACTION_SECTION, 1)[1].split("\n## ", 1)[0]
    readme = path.parent / "README.md"
    assert readme.is_file(), f"{relative(path)} has no README.md beside it"
    return readme, readme.read_text(encoding="utf-8")


def table(section: str, title: str) -> list[list[str]]:
    """The rows of the Markdown table under the `## title` or `### title` heading."""
    parts = re.split(rf"(?m)^#{{2,3}} {title}\n", section)
    assert len(parts) == 2, f"expected one '{title}' heading, found {len(parts) - 1}"
    lines = parts[1].strip().splitlines()
    block = list(itertools.takewhile(lambda line: line.startswith("|"), lines))
    rows = [re.split(r"(?<!\\)\|", line.strip())[1:-1] for line in block[2:]]
    return [[cell.strip().replace("\\|", "|") for cell in row] for row in rows]


def test_every_action_is_documented() -> None:
    assert [relative(p) for p in ACTION_FILES] == ["action.yml", "actions/dast/action.yml",
                                                    "actions/image-scan/action.yml", "actions/publish/action.yml",
                                                    "actions/sast/action.yml", "actions/sca/action.yml"]
    for path in ACTION_FILES:
        action_doc(path)


@pytest.mark.parametrize("path", ACTION_FILES, ids=[relative(p) for p in ACTION_FILES])
def test_the_inputs_and_outputs_tables_match_the_action(path: Path) -> None:
    """Every input and output of the action.yml is in its doc's table, with its description and default, in
    the same order, and the table has nothing else."""
    document, (doc, section) = load(path), action_doc(path)
    inputs = [[f"`{name}`", spec["description"], f"`{spec['default']}`" if spec["default"] != "" else "(empty)"]
              for name, spec in document["inputs"].items()]
    assert table(section, "Inputs") == inputs, f"{relative(doc)}: the Inputs table differs from {relative(path)}"
    outputs = [[f"`{name}`", spec["description"]] for name, spec in document["outputs"].items()]
    assert table(section, "Outputs") == outputs, f"{relative(doc)}: the Outputs table differs from {relative(path)}"


def test_the_table_check_can_fail() -> None:
    _, section = action_doc(ROOT / "actions" / "sca" / "action.yml")
    rows = table(section, "Inputs")
    assert rows[0][0] == "`path`"
    dropped = section.replace("| `cache` |", "| `cached` |")
    assert table(dropped, "Inputs") != rows


# --- nothing outside the repository is cited ---------------------------------------------------

CHECKED_SUFFIXES = {".py", ".md", ".yml", ".yaml", ".toml", ".tf", ".txt", ".cfg"}
SKIPPED_DIRS = {"build", "node_modules", "__pycache__"}
# Files beside the repository that only this machine has (docs/development.md). A test may *read* that
# folder (and skip cleanly without it), so test code may name its path; nothing may cite its documents.
# The names are assembled here so that this check does not match itself.
BESIDE = "shared"
OUTSIDE_NAMES = ("DESIGN", "TOOLS")
OUTSIDE_DOCUMENTS = re.compile("|".join(rf"{name}\.md|{name} §" for name in OUTSIDE_NAMES)
                               + rf"|/work/{BESIDE}|{BESIDE}/docs/")
OUTSIDE_PATHS = re.compile(rf"\.\./{BESIDE}")


def checked_files() -> Iterator[Path]:
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders
                         if not name.startswith(".") and name not in SKIPPED_DIRS and not name.endswith(".egg-info")]
        for name in files:
            path = Path(folder) / name
            if path.suffix in CHECKED_SUFFIXES or name == "Makefile":
                yield path
    yield from (ROOT / ".github").rglob("*.yml")


def citations(path: Path) -> list[str]:
    """`line: text` of each line that cites a document outside the repository (test code may name the path)."""
    test_code = path.suffix == ".py" and path.resolve().is_relative_to(ROOT / "tests")
    return [f"{number}: {line.strip()}"
            for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
            if OUTSIDE_DOCUMENTS.search(line) or (not test_code and OUTSIDE_PATHS.search(line))]


def test_nothing_cites_a_file_outside_the_repository() -> None:
    this_file = Path(__file__).resolve()
    found = [f"{relative(path)}:{hit}" for path in checked_files() if path.resolve() != this_file
             for hit in citations(path)]
    assert found == [], "cites a file outside the repository:\n" + "\n".join(found)


def test_the_citation_check_can_fail(tmp_path: Path) -> None:
    probe = tmp_path / "probe.md"
    design, corpus = f"see {OUTSIDE_NAMES[0]}.md §7", f"and ../{BESIDE}/corpus/"
    probe.write_text(f"{design}\n{corpus}\nfine\n", encoding="utf-8")
    assert citations(probe) == [f"1: {design}", f"2: {corpus}"]
