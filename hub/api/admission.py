"""Admission control by bytes: a process-wide budget of request bytes in flight.

Why: a request's body takes about twice its size while it is worked on (the bounded read and
the parsed tree; docs/performance.md, "Goal 3: large messages"), so peak memory grows with
the bytes being worked on at once. Without a bound, 16 connections of 1 MB messages took about
three times the peak memory of one (docs/performance.md, 4). A request takes its size from the
budget before its body is read and gives it back when its answer is done; one that does not
fit waits, in arrival order (FIFO, so a large request is not overtaken for ever by later ones),
up to ``wait_seconds``, then gets ``Busy``. While it waits its body stays in the server's
buffer (waitress keeps one over 512 KB in a temporary file), not in the process's heap.

- A request larger than the whole budget is admitted alone: it waits until nothing else
  metered is in flight, then takes the whole budget. A legal 10 MB message is never refused
  for its size.
- Requests of at most ``unmetered_bytes`` (64 KiB) neither wait nor count: the server's
  threads bound how many run at once (8 x 64 KiB = 512 KiB beyond the budget with waitress's
  8), and the everyday small message never queues behind a 10 MB one.

    budget = ByteBudget(capacity=2 << 20, wait_seconds=30)
    permit = budget.acquire(size)          # may wait; raises Busy after wait_seconds
    return released_on_close(app(environ, start_response), permit)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from hub.config import Settings
from hub.errors import Busy
from hub.observability import metrics

UNMETERED_BYTES = 64 * 1024


class Permit:
    """Bytes taken from a budget; ``release`` gives them back, once, however often called."""

    def __init__(self, budget: ByteBudget | None, size: int) -> None:
        self._budget = budget
        self.size = size
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            budget, self._budget = self._budget, None
        if budget is not None:
            budget._give_back(self.size)


class ByteBudget:
    """At most ``capacity`` metered bytes in flight, granted in arrival order."""

    def __init__(
        self, capacity: int, wait_seconds: float, unmetered_bytes: int = UNMETERED_BYTES
    ) -> None:
        if capacity <= 0:
            raise ValueError("the budget's capacity must be positive")
        self.capacity = capacity
        self.wait_seconds = wait_seconds
        self.unmetered_bytes = unmetered_bytes
        self._in_flight = 0
        self._queue: deque[object] = deque()  # one token per waiting request, oldest first
        self._changed = threading.Condition()

    @property
    def in_flight(self) -> int:
        with self._changed:
            return self._in_flight

    @property
    def waiting(self) -> int:
        with self._changed:
            return len(self._queue)

    def acquire(self, size: int) -> Permit:
        """Take ``size`` bytes (the whole budget if larger), waiting in turn; ``Busy`` when
        they cannot be had within ``wait_seconds``."""
        if size <= self.unmetered_bytes:
            return Permit(None, 0)
        size = min(size, self.capacity)
        token, deadline = object(), time.monotonic() + self.wait_seconds
        with self._changed:
            self._queue.append(token)
            try:
                self._wait_for_turn(token, size, deadline)
            finally:
                self._queue.remove(token)
                self._changed.notify_all()  # the next in line may fit now
            self._in_flight += size
        return Permit(self, size)

    def _wait_for_turn(self, token: object, size: int, deadline: float) -> None:
        if not (self._queue[0] is token and self._in_flight + size <= self.capacity):
            metrics.ADMISSION_WAITS.inc()
        while not (self._queue[0] is token and self._in_flight + size <= self.capacity):
            left = deadline - time.monotonic()
            if left <= 0:
                raise Busy(
                    "the hub is working on as many bytes as it may; try again shortly",
                    detail=f"{self._in_flight} of {self.capacity} bytes in flight, "
                    f"{len(self._queue) - 1} requests waiting",
                )
            self._changed.wait(left)

    def _give_back(self, size: int) -> None:
        with self._changed:
            self._in_flight -= size
            self._changed.notify_all()


class ReleasingAnswer:
    """A WSGI answer that gives its permit back when closed or exhausted: spyne answers
    lazily, so the request's bytes and trees live until the server closes the iterable."""

    def __init__(
        self, result: Iterable[bytes], permit: Permit, after: Callable[[], None] | None = None
    ) -> None:
        self._result = result
        self._permit = permit
        self._after = after
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self._result
        self.close()  # exhausted: the server's own close() then finds nothing left to do

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            self._permit.release()
            if self._after is not None:
                self._after()


def released_on_close(
    result: Iterable[bytes], permit: Permit, after: Callable[[], None] | None = None
) -> Iterable[bytes]:
    """``result`` wrapped so that ``permit`` is released once the answer is done, and then
    ``after`` is called."""
    if permit.size == 0 and after is None:
        return result
    return ReleasingAnswer(result, permit, after)


def byte_budget(settings: Settings) -> ByteBudget | None:
    """The HTTP front's budget from the settings; none when ``max_inflight_bytes`` is 0."""
    if settings.max_inflight_bytes <= 0:
        return None
    return ByteBudget(settings.max_inflight_bytes, settings.admission_wait_seconds)
