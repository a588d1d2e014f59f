"""A process's start-up heap is set aside from the garbage collector (hub/startup/heap.py);
what it makes afterwards is still collected, so a long-running worker does not grow."""

from __future__ import annotations

import gc
import weakref

from hub.startup import heap


class _Node:
    partner: _Node | None = None


def test_objects_made_after_settling_are_still_collected() -> None:
    try:
        heap.settle()
        assert gc.get_freeze_count() > 0  # start-up's objects are no longer walked

        later = _Node()
        later.partner = later  # a cycle: only the collector can free it
        gone = weakref.ref(later)
        del later
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()
