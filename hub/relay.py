"""The outbox relay: publishes every unconfirmed delivery whose lease ran out.

This is what makes a crash between commit and publish, or in the middle of a delivery,
lose nothing; it is also how retries happen (a retrying delivery's lease ends at its next
attempt). Several relays may run at once: each bumps the lease of what it publishes.
"""

from __future__ import annotations

import logging
import threading

from hub.bus import Publisher
from hub.identity import mask_in_text
from hub.store import Store

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
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.interval_seconds = interval_seconds
        self.lease_seconds = lease_seconds
        self.batch_size = batch_size

    def run_once(self) -> int:
        """Publish one batch of due deliveries; returns how many were published."""
        published = 0
        for delivery in self.store.due_deliveries(self.batch_size, self.lease_seconds):
            key = delivery.idempotency_key
            if self.publisher.publish_quietly(delivery.department, delivery.delivery_id, key):
                published += 1
        return published

    def run(self, stop: threading.Event) -> None:
        """Until ``stop`` is set; a full batch is followed at once by the next one."""
        while not stop.is_set():
            try:
                full = self.run_once() >= self.batch_size
            except Exception as exc:  # the database is away: try again next tick
                log.error("relay pass failed: %s", mask_in_text(str(exc)))
                full = False
            if not full:
                stop.wait(self.interval_seconds)
