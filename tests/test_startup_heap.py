"""The start-up objects of a serving process are left out of the collector's full passes."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from hub.startup.heap import freeze_startup_heap


@pytest.fixture
def frozen() -> Iterator[None]:
    try:
        freeze_startup_heap()
        yield
    finally:
        gc.unfreeze()  # the test process goes on collecting as before


def test_what_exists_at_start_is_frozen_and_a_full_pass_walks_only_what_came_after(
    frozen: None,
) -> None:
    assert gc.get_freeze_count() > 10_000  # this process's modules, pytest's, the hub's
    assert len(gc.get_objects(generation=2)) < gc.get_freeze_count() / 10
    made_after = [[n] for n in range(1_000)]
    gc.collect()
    assert any(item is made_after[0] for item in gc.get_objects(generation=2))
