"""How Receive waits for its first message (long polling) without starving Submit.

A waiting Receive holds one HTTP server thread, asleep (waitress runs a fixed pool). So
``govhub serve`` runs ``server_threads``: its own pool plus ``mailbox_wait_slots`` more, and
only that many Receives may wait at once: whatever waits, Submit and GetStatus keep the
server's own threads. A Receive that finds no free slot answers at once with what there is
(perhaps nothing).

A waiting Receive sleeps on a doorbell. A delivery parked in this process rings it at once;
for deliveries parked by a separate ``govhub worker``, one watcher thread per process asks
the database every ``POLL_SECONDS`` which of the waited-on mailboxes hold mail and rings
those: one query however many Receives wait, not one each.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import TypeVar

from hub.webserver import DEFAULT_THREADS

POLL_SECONDS = 2.0
T = TypeVar("T")
# Of the given departments, those whose mailbox holds something to receive now.
MailLookup = Callable[[Iterable[str]], set[str]]


def server_threads(wait_slots: int) -> int:
    """The server's threads: its own, plus one per Receive allowed to wait."""
    return DEFAULT_THREADS + max(0, wait_slots)


class Doorbell:
    """Rung when a delivery is parked; wakes the Receives waiting on its department, and
    only those (a bell per department: a delivery to one wakes none of the others)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bells: dict[str, threading.Condition] = {}
        self._generation: dict[str, int] = {}

    def ring(self, department: str) -> None:
        with self._lock:
            self._generation[department] = self._generation.get(department, 0) + 1
            bell = self._bells.get(department)
            if bell is not None:
                bell.notify_all()

    def wait(self, department: str, seconds: float) -> None:
        """Until the department's bell rings, or ``seconds`` pass."""
        with self._lock:
            bell = self._bells.setdefault(department, threading.Condition(self._lock))
            seen = self._generation.get(department, 0)
            bell.wait_for(lambda: self._generation.get(department, 0) != seen, seconds)


# One per process: the delivery workers of ``govhub serve`` ring what its API waits on.
DOORBELL = Doorbell()


class WaitSlots:
    """At most ``slots`` callers wait at once; the others do not wait at all."""

    def __init__(
        self, slots: int, mail_in: MailLookup | None = None, doorbell: Doorbell = DOORBELL
    ) -> None:
        self._slots = threading.BoundedSemaphore(slots) if slots > 0 else None
        self._mail_in = mail_in
        self._doorbell = doorbell
        self._counting = threading.Lock()
        self._waiting: Counter[str] = Counter()
        self._watcher: threading.Thread | None = None

    @property
    def in_use(self) -> int:
        """Receives waiting now."""
        with self._counting:
            return sum(self._waiting.values())

    def first(
        self,
        department: str,
        fetch: Callable[[], list[T]],
        wait_seconds: float,
        while_waiting: AbstractContextManager[object] | None = None,
    ) -> list[T]:
        """``fetch()``, and again each time the department's bell rings, until it returns
        something or ``wait_seconds`` pass (when a slot is free; else once). The wait runs
        inside ``while_waiting`` (hub/api/parked_connections.py: off the server's loop)."""
        found = fetch()
        if found or wait_seconds <= 0 or self._slots is None:
            return found
        if not self._slots.acquire(blocking=False):
            return found
        self._count(department, +1)
        try:
            with while_waiting or contextlib.nullcontext():
                deadline = time.monotonic() + wait_seconds
                while not found:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._doorbell.wait(department, left)
                    found = fetch()
            return found
        finally:
            self._count(department, -1)
            self._slots.release()

    def _count(self, department: str, change: int) -> None:
        with self._counting:
            self._waiting[department] += change
            if self._waiting[department] <= 0:
                del self._waiting[department]
            if self._mail_in is not None and self._watcher is None:
                self._watcher = threading.Thread(
                    target=self._watch, name="govhub-mailbox-watch", daemon=True
                )
                self._watcher.start()

    def _watch(self) -> None:
        """Ring the waited-on departments whose mailbox holds mail (parked elsewhere)."""
        assert self._mail_in is not None
        while True:
            time.sleep(POLL_SECONDS)
            with self._counting:
                waited_on = list(self._waiting)
            if not waited_on:
                continue
            try:
                for department in self._mail_in(waited_on):
                    self._doorbell.ring(department)
            except Exception:  # the database away a moment: the next round asks again
                continue
