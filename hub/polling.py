"""Waiting for something to become true, with a deadline (demo, tests, operators' tools)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
DEFAULT_WAIT_SECONDS = 20.0
DEFAULT_INTERVAL_SECONDS = 0.05


def wait_for(
    probe: Callable[[], T],
    seconds: float = DEFAULT_WAIT_SECONDS,
    interval: float = DEFAULT_INTERVAL_SECONDS,
) -> T | None:
    """Call ``probe`` until it returns something truthy and return that, or None at the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)
