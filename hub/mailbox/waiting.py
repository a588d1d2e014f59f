"""How Receive waits for its first message (long polling) without starving Submit.

A waiting Receive holds one of the HTTP server's threads (waitress runs a fixed pool). So
only ``mailbox_wait_slots`` Receives may wait at once, fewer than the pool: a Receive that
finds no free slot answers at once with what there is (perhaps nothing), and Submit and
GetStatus always have the other threads. While it waits, a Receive sleeps on a doorbell that
a delivery parked in this process rings, and looks at the database every
``POLL_SECONDS`` (for deliveries parked by a separate ``govhub worker``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

POLL_SECONDS = 0.5
T = TypeVar("T")


class Doorbell:
    """Rung when a delivery is parked; wakes the Receives waiting on its department."""

    def __init__(self) -> None:
        self._rung = threading.Condition()
        self._generation: dict[str, int] = {}

    def ring(self, department: str) -> None:
        with self._rung:
            self._generation[department] = self._generation.get(department, 0) + 1
            self._rung.notify_all()

    def wait(self, department: str, seconds: float) -> None:
        """Until the department's bell rings, or ``seconds`` pass."""
        with self._rung:
            seen = self._generation.get(department, 0)
            self._rung.wait_for(lambda: self._generation.get(department, 0) != seen, seconds)


# One per process: the delivery workers of ``govhub serve`` ring what its API waits on.
DOORBELL = Doorbell()


class WaitSlots:
    """At most ``slots`` callers wait at once; the others do not wait at all."""

    def __init__(self, slots: int, doorbell: Doorbell = DOORBELL) -> None:
        self._slots = threading.BoundedSemaphore(slots) if slots > 0 else None
        self._doorbell = doorbell
        self._counting = threading.Lock()
        self.in_use = 0  # Receives waiting now (tests, operators' curiosity)

    def first(self, department: str, fetch: Callable[[], list[T]], wait_seconds: float) -> list[T]:
        """``fetch()`` until it returns something or ``wait_seconds`` pass (when a slot is
        free; else once)."""
        found = fetch()
        if found or wait_seconds <= 0 or self._slots is None:
            return found
        if not self._slots.acquire(blocking=False):
            return found
        self._count(+1)
        try:
            deadline = time.monotonic() + wait_seconds
            while not found:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._doorbell.wait(department, min(POLL_SECONDS, left))
                found = fetch()
            return found
        finally:
            self._count(-1)
            self._slots.release()

    def _count(self, change: int) -> None:
        with self._counting:
            self.in_use += change
