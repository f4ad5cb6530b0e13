"""The normalize flow pauses the cycle collector while it works and always restores its state."""

from __future__ import annotations

import gc

import pytest

from pipeline.flows.normalize import cycle_collection_paused


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_inside_and_restored_after_even_on_an_error(enabled: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        with pytest.raises(RuntimeError), cycle_collection_paused():
            assert not gc.isenabled()
            raise RuntimeError("a parser failed")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
