"""One writer thread for many callers: each caller hands in its item and waits for its own
answer; the writer takes everything waiting and handles it with one call (one transaction).

Nothing waits to fill a batch: a lone item goes at once, batches form only while the writer
is busy. If a batch of several fails, each item is tried alone, so one bad item (or a
deadlock between two processes' batches) fails only its own caller. The writer thread stops
after ``IDLE_SECONDS`` without work (running ``resting``) and starts again on demand.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")
Answer = TypeVar("Answer")

DEFAULT_MAX_BATCH = 64
IDLE_SECONDS = 2.0


def _taken_lock() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass
class _Waiting(Generic[Item, Answer]):
    item: Item
    # Released by the writer once the answer is set; the caller waits by acquiring it. A
    # taken lock is a one-shot signal at a fraction of an Event's cost (an Event's wait and
    # set go through a Condition and a new lock each time), paid for every claim and record.
    done: threading.Lock = field(default_factory=_taken_lock)
    answer: Answer | None = None
    error: BaseException | None = None


class Batcher(Generic[Item, Answer]):
    """Thread-safe. ``many`` answers a batch in order, all or nothing; ``one`` a single item."""

    def __init__(
        self,
        many: Callable[[Sequence[Item]], list[Answer]],
        one: Callable[[Item], Answer],
        *,
        name: str,
        max_batch: int = DEFAULT_MAX_BATCH,
        resting: Callable[[], None] = lambda: None,
    ) -> None:
        self._many = many
        self._one = one
        self._resting = resting  # run by the writer as it stops: let go of a connection
        self._name = name
        self.max_batch = max(1, max_batch)
        self._queue: queue.SimpleQueue[_Waiting[Item, Answer]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None

    def submit(self, item: Item) -> Answer:
        """The answer for ``item`` once its batch is done; raises what its attempt raised."""
        waiting: _Waiting[Item, Answer] = _Waiting(item)
        self._queue.put(waiting)
        self._ensure_writer()
        waiting.done.acquire()
        if waiting.error is not None:
            raise waiting.error
        return waiting.answer  # type: ignore[return-value]  # set when error is None

    def _ensure_writer(self) -> None:
        with self._lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._writer.start()

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            try:
                self._write(batch)
            finally:
                for waiting in batch:
                    waiting.done.release()

    def _next_batch(self) -> list[_Waiting[Item, Answer]] | None:
        """Everything waiting (up to max_batch); None when idle long enough to stop."""
        try:
            batch = [self._queue.get(timeout=IDLE_SECONDS)]
        except queue.Empty:
            with self._lock:  # a caller puts before it checks the writer: none is stranded
                if self._queue.empty():
                    try:  # under the lock: the next writer starts after this one let go
                        self._resting()
                    finally:
                        self._writer = None
                    return None
            batch = []
        while len(batch) < self.max_batch:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _write(self, batch: list[_Waiting[Item, Answer]]) -> None:
        if not batch:
            return
        if len(batch) == 1:
            self._alone(batch[0])
            return
        try:
            answers = self._many([waiting.item for waiting in batch])
        except Exception:
            for waiting in batch:
                self._alone(waiting)
            return
        for waiting, answer in zip(batch, answers, strict=True):
            waiting.answer = answer

    def _alone(self, waiting: _Waiting[Item, Answer]) -> None:
        try:
            waiting.answer = self._one(waiting.item)
        except Exception as exc:  # the caller hears it, as it would without batching
            waiting.error = exc
