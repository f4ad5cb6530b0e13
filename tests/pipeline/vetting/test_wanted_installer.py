"""What `tollgate firewall install` vets and hands the installer, and where the token goes.

Ranges are resolved by a resolver the test passes (`wanted` takes it as an argument; the command
passes the firewall's registry client); the files are real manifests written here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.firewall.model import DeclaredPackage, Ecosystem
from pipeline.vetting.installer import npm_command, pip_command
from pipeline.vetting.wanted import wanted

TOKEN = "token-value"  # noqa: S105 - a test value whose placement is checked


def no_registry(package: DeclaredPackage) -> str | None:
    return None


def test_pinned_pip_arguments_are_vetted_as_normalized_names_and_installed_as_pins() -> None:
    result = wanted(Ecosystem.PYPI, ["Django==5.1.2", "python_dateutil===2.9.0"], [], no_registry)
    assert [v.key for v in result.versions] == ["pypi#django#5.1.2", "pypi#python-dateutil#2.9.0"]
    assert result.installer_arguments == ("django==5.1.2", "python-dateutil==2.9.0")


def test_a_range_is_resolved_and_an_unresolvable_one_says_to_pin() -> None:
    seen: list[str] = []

    def resolver(package: DeclaredPackage) -> str | None:
        seen.append(package.spec)
        return "2.32.3"

    assert [str(v) for v in wanted(Ecosystem.PYPI, ["requests>=2,<3"], [], resolver).versions] == ["requests==2.32.3"]
    assert seen == ["<3,>=2"]
    with pytest.raises(ConfigError, match="no version to vet") as error:
        wanted(Ecosystem.PYPI, ["requests"], [], no_registry)
    assert error.value.tip == "pin an exact version"


def test_npm_arguments_keep_the_scope_and_install_by_pin() -> None:
    result = wanted(Ecosystem.NPM, ["@types/node@22.7.4", "left-pad@1.3.0"], [], no_registry)
    assert [(v.namespace, v.bare_name, v.version) for v in result.versions] == [
        ("types", "node", "22.7.4"), (None, "left-pad", "1.3.0")]
    assert result.installer_arguments == ("install", "@types/node@22.7.4", "left-pad@1.3.0")


def test_requirements_file_is_vetted_line_by_line_and_installed_with_r(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("flask==3.0.3\nclick==8.1.7 ; python_version >= '3.8'\n", encoding="utf-8")
    result = wanted(Ecosystem.PYPI, [], [requirements], no_registry)
    assert [str(v) for v in result.versions] == ["flask==3.0.3", "click==8.1.7"]
    assert result.installer_arguments == ("-r", str(requirements))


def test_package_lock_is_vetted_entry_by_entry_and_installed_with_npm_ci(tmp_path: Path) -> None:
    lock = tmp_path / "package-lock.json"
    lock.write_text(json.dumps({"name": "app", "lockfileVersion": 3, "packages": {
        "": {"name": "app", "dependencies": {"express": "^4.19.2"}},
        "node_modules/express": {"version": "4.19.2", "dependencies": {"accepts": "~1.3.8"}},
        "node_modules/accepts": {"version": "1.3.8"}}}), encoding="utf-8")
    result = wanted(Ecosystem.NPM, [], [lock], no_registry)
    assert sorted(str(v) for v in result.versions) == ["accepts@1.3.8", "express@4.19.2"]
    assert result.installer_arguments == ("ci", "--prefix", str(tmp_path.resolve()))
    with pytest.raises(ConfigError, match="give the lockfile alone"):
        wanted(Ecosystem.NPM, ["left-pad@1.3.0"], [lock], no_registry)


@pytest.mark.parametrize(("ecosystem", "name", "text", "message"), [
    (Ecosystem.NPM, "yarn.lock", "", "npm installs from package-lock.json"),
    (Ecosystem.PYPI, "package-lock.json",
     '{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1.0.0"}}}',
     "declares npm packages; this is a pypi install"),
    (Ecosystem.PYPI, "requirements.txt", "flask==3.0.3\n-e git+https://example.com/x.git#egg=x\n",
     "requirements.txt:2"),
])
def test_files_that_cannot_be_vetted_as_asked_are_refused(tmp_path: Path, ecosystem: Ecosystem, name: str,
                                                          text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        wanted(ecosystem, [], [path], no_registry)


def test_the_token_never_reaches_a_command_line() -> None:
    pip = pip_command("https://d-111122223333.d.codeartifact.us-east-1.amazonaws.com/pypi/pypi-vetted/", TOKEN,
                      ["flask==3.0.3"], python="python3")
    assert pip.argv == ("python3", "-m", "pip", "install", "flask==3.0.3")
    assert pip.environment == {"PIP_INDEX_URL": f"https://aws:{TOKEN}@d-111122223333.d.codeartifact.us-east-1."
                                                "amazonaws.com/pypi/pypi-vetted/simple/"}
    npm = npm_command("https://d-111122223333.d.codeartifact.us-east-1.amazonaws.com/npm/npm-vetted/", TOKEN,
                      ["install", "left-pad@1.3.0"])
    assert not any(TOKEN in part for part in npm.argv)
    assert npm.npmrc == ("//d-111122223333.d.codeartifact.us-east-1.amazonaws.com/npm/npm-vetted/:_authToken="
                         f"{TOKEN}\nregistry=https://d-111122223333.d.codeartifact.us-east-1.amazonaws.com/npm/"
                         "npm-vetted/\n")
