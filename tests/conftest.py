"""Shared test helpers: where the repository, its fixtures and the optional material beside the
checkout live (docs/development.md, "Optional material beside the checkout")."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SCHEMAS = FIXTURES / "schemas"
# Optional, beside the checkout; a test that needs an absent part skips with ABSENT.
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
REALWORLD = SHARED / "realworld"
SHARED_SCHEMAS = SHARED / "schemas"
ABSENT = "absent: the optional material beside the checkout (docs/development.md) is not there"


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} {ABSENT}")
    return CORPUS


@pytest.fixture(autouse=True)
def own_cache_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A scan records its scanners' durations in the cache folder: tests never write the user's."""
    monkeypatch.setenv("TOLLGATE_DATA_DIR", str(tmp_path_factory.mktemp("tollgate-data")))
