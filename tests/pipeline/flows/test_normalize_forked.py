"""The ASFF file written by a forked child is the one the serial path writes: same bytes, same warnings in the
same place, same error; and the child is used only where its bytes cannot mix with another output's."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from normalizers.model import Scope
from pipeline import forked
from pipeline.errors import ConfigError
from pipeline.flows import normalize
from pipeline.flows.normalize import NormalizeOutcome, NormalizeRequest, normalize_reports, write_outputs
from tests.conftest import FIXTURES

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")

REPORT = FIXTURES / "trivy" / "alpine-310.json.golden"
_TIMESTAMP = re.compile(rb'"(CreatedAt|UpdatedAt)":"[^"]*"')


def request_for(work: Path, **outputs: str) -> NormalizeRequest:
    return NormalizeRequest(reports=(str(REPORT),), scope=Scope("acme/web", branch="main"),
                            account="123456789012", region="eu-west-1", **outputs)


def with_duplicate(outcome: NormalizeOutcome) -> NormalizeOutcome:
    """One finding twice: its ASFF Id is shared, which the ASFF writer warns about."""
    findings = outcome.results.findings
    return dataclasses.replace(outcome, results=dataclasses.replace(outcome.results,
                                                                    findings=(*findings, findings[0])))


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Forking from the first finding on; counts the children started."""
    started: list[int] = []
    real = forked.in_child

    def counted(work: Callable[[], list[str]]) -> AbstractContextManager[Callable[[], list[str]]]:
        started.append(1)
        return real(work)

    monkeypatch.setattr(normalize, "FORK_MIN_FINDINGS", 1)
    monkeypatch.setattr(forked, "in_child", counted)
    # Earlier tests' loopback servers leave daemon threads waiting on idle sockets in this process, which
    # `available` rightly counts; the child here only builds ASFF and writes a file, taking no lock of theirs.
    monkeypatch.setattr(forked, "available", lambda: True)
    return started


def written(tmp_path: Path, name: str, forking: bool,
            monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, bytes, list[str]]:
    work = tmp_path / name
    work.mkdir()
    request = request_for(work, sarif_out=str(work / "out.sarif"), asff_out=str(work / "out.asff.json"))
    monkeypatch.setattr(normalize, "FORK_MIN_FINDINGS", 1 if forking else 10**9)
    warnings = write_outputs(with_duplicate(normalize_reports(request)), request)
    asff = _TIMESTAMP.sub(rb'"\1":"2026-01-01T00:00:00.000Z"', (work / "out.asff.json").read_bytes())
    return (work / "out.sarif").read_bytes(), asff, warnings


def test_forked_and_serial_write_the_same_bytes_and_warnings(tmp_path: Path, forks: list[int],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    serial = written(tmp_path, "serial", False, monkeypatch)
    assert not forks
    parallel = written(tmp_path, "forked", True, monkeypatch)
    assert forks == [1]
    assert any("share this Id" in warning for warning in serial[2])
    assert parallel == serial


def test_a_failed_asff_emission_is_the_serial_paths_error_and_leaves_no_file(
        tmp_path: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*_: object) -> Iterator[bytes]:
        yield b'{"Findings":['
        raise ConfigError("the emitter failed", "a tip")

    monkeypatch.setattr(normalize, "asff_parts", failing)
    request = request_for(tmp_path, asff_out=str(tmp_path / "out.asff.json"))
    outcome = normalize_reports(request)
    errors = []
    for threshold in (1, 10**9):
        monkeypatch.setattr(normalize, "FORK_MIN_FINDINGS", threshold)
        with pytest.raises(ConfigError) as raised:
            write_outputs(outcome, request)
        errors.append((str(raised.value), raised.value.tip))
    assert forks == [1]
    assert errors == [("the emitter failed", "a tip")] * 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("outputs", [
    {"asff_out": "-"},
    {"asff_out": "/dev/null"},
    {"asff_out": "{work}/same.json", "sarif_out": "{work}/same.json"},
    {"asff_out": "{work}/gl/out.json", "gitlab_dir": "{work}/gl"},
])
def test_no_fork_where_the_bytes_could_mix(tmp_path: Path, forks: list[int], outputs: dict[str, str]) -> None:
    request = request_for(tmp_path, **{key: value.format(work=tmp_path) for key, value in outputs.items()})
    (tmp_path / "gl").mkdir()
    write_outputs(normalize_reports(request), request)
    assert not forks
