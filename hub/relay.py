"""The outbox relay: publishes every unconfirmed delivery whose lease ran out.

This is what makes a crash between commit and publish, or in the middle of a delivery,
lose nothing; it is also how retries happen (a retrying delivery's lease ends at its next
attempt). Several relays may run at once: each bumps the lease of what it publishes.

A backlog older than the lease would be published again and again, once per lease period,
while its first tasks still wait in the queue: so while a department's queue is not empty,
deliveries not yet attempted in this round get nothing from this pass (their first task is
most likely in that backlog). Retries and deliveries a dead worker left are published
regardless, so a department that is always busy never starves them. Nothing is lost by
waiting: the store already moved those leases on, so a later pass publishes whatever is
still pending. Each pass first reads which departments are paused (hub/observability/pauses.py)
and publishes none of their legs.

With nothing due, the relay rests until the first lease ends (a retry's time, a dead
worker's lease), at most ``rest_seconds``, never less than ``interval_seconds``; a commit in
this process that makes legs due sooner rings hub/store/due.py's doorbell and ends the rest.
So an idle worker looks a few times a minute, not every second, and nothing waits longer
than before for a leg this process knows about.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from hub.bus import DeliveryTask, Publisher
from hub.identity import mask_in_text
from hub.observability import outages
from hub.observability.pauses import PauseBoard
from hub.store import Store
from hub.store.due import DELIVERIES_DUE

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500


class Relay:
    def __init__(
        self,
        store: Store,
        publisher: Publisher,
        *,
        interval_seconds: float,
        lease_seconds: float,
        batch_size: int = DEFAULT_BATCH_SIZE,
        pauses: PauseBoard | None = None,
        rest_seconds: float | None = None,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.interval_seconds = interval_seconds
        self.rest_seconds = max(interval_seconds, rest_seconds or interval_seconds)
        self.lease_seconds = lease_seconds
        self.batch_size = batch_size
        self.pauses = pauses

    def run_once(self) -> int:
        """Publish one batch of due deliveries; returns how many were published."""
        return self._pass()[0]

    def _pass(self) -> tuple[int, float]:
        """Publish one batch; (how many were published, how long the relay may rest)."""
        held = self.pauses.refresh() if self.pauses is not None else frozenset()
        due = self.store.due_deliveries(self.batch_size, self.lease_seconds, held)
        backlogged = self._backlogged({d.department for d in due if d.unattempted})
        tasks = [
            DeliveryTask(d.delivery_id, d.department, d.idempotency_key)
            for d in due
            if not (d.unattempted and d.department in backlogged)
        ]
        # One producer for the pass; at the first failure the rest are handed back at once
        # (the publisher's on_unpublished), so the next pass tries again, not the next lease.
        published = len(tasks) if tasks and self.publisher.publish_all_quietly(tasks) else 0
        if due or self.rest_seconds <= self.interval_seconds:
            return published, self.interval_seconds
        return published, self._until_next_lease_end(held)

    def _until_next_lease_end(self, held: frozenset[str]) -> float:
        end = self.store.next_lease_end(held)
        if end is None:
            return self.rest_seconds
        seconds = (end - self.store.clock()).total_seconds()
        return min(self.rest_seconds, max(self.interval_seconds, seconds))

    def run(self, stop: threading.Event) -> None:
        """Until ``stop`` is set (ring hub/store/due.py's doorbell after setting it); a full
        batch is followed at once by the next one."""
        while not stop.is_set():
            heard = DELIVERIES_DUE.rings  # a ring from now on ends the rest below
            started = time.monotonic()
            try:
                published, rest = self._pass()
            except Exception as exc:  # the database is away: try again next tick
                if outages.is_database_outage(exc):
                    outages.DATABASE.failed(exc)
                else:
                    log.error("relay pass failed: %s", mask_in_text(str(exc)))
                published, rest = 0, self.interval_seconds
            else:
                outages.DATABASE.answered()
            if published >= self.batch_size:
                continue
            if rest > self.interval_seconds:
                DELIVERIES_DUE.wait(heard, rest)
            # Rung or not, passes stay at least the interval apart (as before resting).
            stop.wait(max(0.0, self.interval_seconds - (time.monotonic() - started)))

    def _backlogged(self, departments: Iterable[str]) -> set[str]:
        """Departments whose queue still holds tasks (an unknown count publishes anyway)."""
        backlogged = set()
        for department in sorted(departments):
            waiting = self.publisher.waiting(department)
            if waiting:
                log.info("%s has %s tasks waiting; not publishing more yet", department, waiting)
                backlogged.add(department)
        return backlogged
