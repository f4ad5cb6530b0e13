"""Every manifest format the firewall reads, from real files, with the line each package is declared on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.firewall.manifests import is_manifest, read_manifests
from pipeline.firewall.manifests.base import Collected
from pipeline.firewall.manifests.jsonlines import key_lines
from pipeline.firewall.model import DeclaredPackage
from tests.conftest import FIXTURES

MANIFESTS = FIXTURES / "supply_chain" / "manifests"


def read(folder: str, *files: str) -> Collected:
    return read_manifests(MANIFESTS / folder, [Path(name) for name in files])


def by_name(collected: Collected, manifest: str) -> dict[str, DeclaredPackage]:
    return {p.name: p for p in collected.packages if p.manifest == manifest}


def line_of(folder: str, manifest: str, needle: str) -> int:
    lines = (MANIFESTS / folder / manifest).read_text(encoding="utf-8").splitlines()
    return next(number for number, text in enumerate(lines, start=1) if needle in text)


def test_requirements_with_includes_hashes_markers_and_continuations() -> None:
    collected = read("requirements", "requirements.txt", "requirements-dev.txt")
    top = by_name(collected, "requirements.txt")
    assert (top["requests"].line, top["requests"].version) == (5, "2.31.0")  # the line the continuation starts on
    assert (top["Django"].spec, top["Django"].version) == ("<4.2,>=4.1", None)
    assert (top["numpy"].line, top["numpy"].version) == (9, "1.26.4")  # the marker is read, not dropped
    assert top["python_dateutil"].version == "2.9.0.post0"
    assert top["reqeusts"].line == 11
    assert by_name(collected, "requirements-base.txt")["urllib3"].line == 3  # through -r, then --requirement=
    assert by_name(collected, "requirements-dev.txt")["pytest"].spec == ">=8"
    assert sum(p.name == "pytest" for p in collected.packages) == 1  # the include cycle is read once
    reasons = {(p.manifest, p.line): p.reason for p in collected.problems}
    assert "outside the scanned folder" in reasons[("requirements-dev.txt", 3)]
    assert "no such file" in reasons[("requirements-dev.txt", 4)]
    assert "editable" in reasons[("requirements.txt", 12)]
    assert "no registry" in reasons[("requirements.txt", 13)] and "direct URL" in reasons[("requirements.txt", 14)]
    assert "not a requirement" in reasons[("requirements.txt", 15)]


def test_includes_are_bounded(tmp_path: Path) -> None:
    for index in range(15):
        (tmp_path / f"requirements-{index}.txt").write_text(f"-r requirements-{index + 1}.txt\npkg{index}==1\n")
    collected = read_manifests(tmp_path, [Path("requirements-0.txt")])
    assert len(collected.packages) == 11  # the first file and ten levels of includes
    assert any("deeper than 10" in p.reason for p in collected.problems)


def test_pep621_pyproject() -> None:
    packages = by_name(read("pep621", "pyproject.toml"), "pyproject.toml")
    assert {name: (p.line, p.version) for name, p in packages.items()} == {
        "requests": (9, None), "numppy": (10, "1.0.0"), "python-dateutils": (11, None),
        "acme-billing-core": (13, None), "request2": (14, "0.2"), "Django": (18, "4.1"), "pytest": (21, None),
        "ruff": (22, None),
    }


def test_poetry_pyproject_and_lock() -> None:
    collected = read("poetry", "pyproject.toml", "poetry.lock")
    declared = by_name(collected, "pyproject.toml")
    assert {name: (p.line, p.spec, p.version) for name, p in declared.items()} == {
        "requests": (10, "^2.31", None), "Django": (11, "4.1", "4.1"), "python-dateutil": (12, ">=2.8", None),
        "pytest": (15, "^8.0", None),
    }
    locked = by_name(collected, "poetry.lock")
    assert locked["django"].version == "4.1"
    assert locked["django"].line == line_of("poetry", "poetry.lock", 'name = "django"')
    assert len(locked) > 10 and all(p.version for p in locked.values())


def test_pipfile_lock() -> None:
    locked = by_name(read("pipenv", "Pipfile.lock"), "Pipfile.lock")
    django_line = line_of("pipenv", "Pipfile.lock", '"django": {')
    assert (locked["django"].version, locked["django"].line) == ("4.1", django_line)
    assert "pytest" in locked  # the develop section too


@pytest.mark.parametrize("folder", ["npm-v1", "npm-v2", "npm-v3"])
def test_package_lock_versions(folder: str) -> None:
    collected = read(folder, "package.json", "package-lock.json")
    declared, locked = by_name(collected, "package.json"), by_name(collected, "package-lock.json")
    assert {name: (p.line, p.version) for name, p in declared.items()} == {
        "express": (6, "4.18.2"), "left-pad": (7, None), "@types/node": (8, None), "lodash": (9, None),
        "cross-env": (12, None),  # `my-lodash: npm:lodash@^4.17.21` installs lodash
    }
    assert locked["express"].version == "4.18.2" and locked["lodash"].version == "4.18.1"
    key = '"node_modules/express": {' if folder != "npm-v1" else '"express": {'
    assert locked["express"].line == line_of(folder, "package-lock.json", key)
    assert "tollgate-fixture-app" not in locked  # the root project is not a dependency
    assert collected.problems == []


@pytest.mark.parametrize("folder", ["yarn-v1", "yarn-berry"])
def test_yarn_lock(folder: str) -> None:
    locked = by_name(read(folder, "yarn.lock"), "yarn.lock")
    assert locked["@types/node"].version == "20.19.43"
    assert locked["lodash"].version == "4.18.1"  # the alias names the real package
    assert locked["express"].line == line_of(folder, "yarn.lock", "express@")
    assert "tollgate-fixture-app" not in locked  # Berry's workspace entry is the project itself


def test_every_lockfile_format_of_one_project_lists_the_same_packages() -> None:
    """npm v1-v3, yarn v1 and Berry resolved the same package.json: the readers must agree exactly."""
    locks = [("npm-v1", "package-lock.json"), ("npm-v2", "package-lock.json"), ("npm-v3", "package-lock.json"),
             ("yarn-v1", "yarn.lock"), ("yarn-berry", "yarn.lock")]
    sets = [{(p.name, p.version) for p in read(folder, name).packages} for folder, name in locks]
    assert len(sets[0]) == 82
    assert all(other == sets[0] for other in sets[1:])


def test_an_unreadable_manifest_is_one_problem(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "poetry.lock").write_text("[[package]\n", encoding="utf-8")
    collected = read_manifests(tmp_path, [Path("package.json"), Path("poetry.lock")])
    assert collected.packages == []
    assert [(p.manifest, "cannot read it" in p.reason) for p in collected.problems] == [
        ("package.json", True), ("poetry.lock", True)]


def test_manifest_names() -> None:
    assert all(is_manifest(n) for n in ("requirements.txt", "requirements-dev.txt", "pyproject.toml", "yarn.lock",
                                        "npm-shrinkwrap.json", "Pipfile.lock", "poetry.lock", "package-lock.json"))
    assert not any(is_manifest(n) for n in ("setup.py", "Pipfile", "requirements.in", "package.jsonc"))


def test_key_lines_track_nesting_escapes_and_arrays() -> None:
    text = '{\n "a": {"b\\"c": 1,\n  "d": [ {"e": 2},\n {"e": 3} ]},\n "f": "g:h"\n}'
    assert key_lines(text) == {("a",): 2, ("a", 'b"c'): 2, ("a", "d"): 3, ("a", "d", 0, "e"): 3,
                               ("a", "d", 1, "e"): 4, ("f",): 5}


@pytest.mark.parametrize("name, text, reason", [
    ("package.json", "[1, 2]", "cannot read it: not a JSON object but a list"),
    ("package.json", '{"dependencies": ["lodash"]}', "`dependencies` is a list, not an object of names and ranges"),
    ("package.json", '{"dependencies": {"lodash": null}}', "lodash: the range is null, not a string"),
    ("package.json", '{"dependencies": {"a b": "^1.0.0"}}', "'a b' is not a valid npm package name"),
    ("package.json", '{"dependencies": {"../../etc": "^1.0.0"}}', "'../../etc' is not a valid npm package name"),
    ("package-lock.json", '"lockfile"', "cannot read it: not a JSON object but a string"),
    ("package-lock.json", '{"packages": {"node_modules/x": {"name": 3, "version": 5}}}',
     "x: a lockfile entry without a version"),
    ("Pipfile.lock", '{"default": [1]}', "`default` is a list, not an object of packages"),
    ("Pipfile.lock", '{"default": {"x": {"version": 5}}}', "x: the version is a number, not a string"),
    ("poetry.lock", 'package = "x"\n', "cannot read it: `package` is a string, not an array of [[package]] tables"),
    ("poetry.lock", '[[package]]\nname = 3\nversion = "1"\n', "a [[package]] entry without a name and version"),
    ("poetry.lock", '[[package]]\nname = "a"\nversion = "1"\nsource = "x"\n', ""),
    ("pyproject.toml", '[project]\ndependencies = "requests"\n',
     "`project.dependencies` is a string, not an array of requirements"),
    ("pyproject.toml", '[project]\ndependencies = ["requests", 5]\n',
     "`project.dependencies` holds a number where a requirement belongs"),
    ("pyproject.toml", 'project = "x"\n', "`project` is a string, not a table"),
    ("pyproject.toml", 'tool = "x"\n', "`tool` is a string, not a table"),
    ("pyproject.toml", '[tool.poetry]\ndependencies = ["x"]\ngroup = {dev = 1}\n', "`dependencies` is a list"),
    ("pyproject.toml", '[project.optional-dependencies]\nweb = "x"\n', "`project.optional-dependencies.web` is a"),
    ("package.json", "[" * 100_000, "cannot read it: nested too deeply"),
])
def test_a_manifest_of_the_wrong_shape_is_a_problem_never_a_crash(tmp_path: Path, name: str, text: str,
                                                                  reason: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    collected = read_manifests(tmp_path, [Path(name)])
    reasons = [p.reason for p in collected.problems]
    assert any(r.startswith(reason) for r in reasons) if reason else reasons == [], reasons
    assert all(p.name in ("requests", "a") for p in collected.packages)  # nothing made up from a wrong type


def test_a_dependencies_string_is_not_read_letter_by_letter(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\ndependencies = "requests"\n', encoding="utf-8")
    assert read_manifests(tmp_path, [Path("pyproject.toml")]).packages == []


def test_only_regular_utf8_files_inside_the_folder_are_read(tmp_path: Path) -> None:
    folder = tmp_path / "repo"
    folder.mkdir()
    (tmp_path / "outside.json").write_text('{"dependencies": {"secret-internal": "1.0.0"}}', encoding="utf-8")
    (folder / "package.json").symlink_to(tmp_path / "outside.json")
    os.mkfifo(folder / "requirements.txt")  # reading a FIFO would wait for a writer forever
    (folder / "requirements-bin.txt").write_bytes(b"\xcc\xff\x00binary")
    collected = read_manifests(folder, [Path("package.json"), Path("requirements.txt"), Path("requirements-bin.txt")])
    assert collected.packages == []
    assert [(p.manifest, p.reason) for p in collected.problems] == [
        ("package.json", "cannot read it: a link to outside the scanned folder; not read"),
        ("requirements.txt", "cannot read it: not a regular file"),
        ("requirements-bin.txt", "cannot read it: not UTF-8 text (byte 0)"),
    ]
