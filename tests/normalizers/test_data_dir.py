"""One folder for what Tollgate fetches and learns between runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from normalizers.data_dir import data_dir
from normalizers.epss import refreshed_path as epss_path
from normalizers.kev import refreshed_path as kev_path
from pipeline.scanners.durations import durations_path


def test_the_override_then_the_xdg_cache_then_the_home_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLLGATE_DATA_DIR", str(tmp_path / "data"))
    assert data_dir() == tmp_path / "data"
    assert {kev_path().parent.parent, epss_path().parent.parent, durations_path().parent.parent} == {data_dir()}
    monkeypatch.delenv("TOLLGATE_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "tollgate"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_dir() == tmp_path / "home" / ".cache" / "tollgate"
