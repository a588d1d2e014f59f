"""Worker service: the relay thread plus one consumer thread per department queue.

One thread per department means a slow or down department never delays the others.
Used by ``govhub serve`` (with the API, memory:// bus) and ``govhub worker`` (amqp://).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from hub.bus import QUEUE_PREFIX, DeliveryTask, Publisher, QueueConsumer
from hub.config import Settings
from hub.delivery import AdapterFactory, DeliveryHandler, MappingLookup
from hub.departments import DepartmentDirectory
from hub.relay import Relay
from hub.retry import RetryPolicy
from hub.store import Store

log = logging.getLogger(__name__)

DEFAULT_STOP_SECONDS = 10.0


class WorkerService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        mappings: MappingLookup,
        departments: DepartmentDirectory,
        adapter_for: AdapterFactory,
        *,
        publisher: Publisher | None = None,
        queue_prefix: str = QUEUE_PREFIX,
    ) -> None:
        self.settings = settings
        self.departments = departments
        self.queue_prefix = queue_prefix
        self.publisher = publisher or Publisher(settings.bus_url, queue_prefix=queue_prefix)
        self._owns_publisher = publisher is None
        self.handler = DeliveryHandler(
            store,
            mappings,
            departments,
            adapter_for,
            RetryPolicy.from_settings(settings),
            lease_seconds=settings.lease_seconds,
        )
        self.relay = Relay(
            store,
            self.publisher,
            interval_seconds=settings.relay_interval_seconds,
            lease_seconds=settings.lease_seconds,
        )
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._consumers: list[QueueConsumer] = []

    def start(self) -> None:
        if self._threads:
            raise RuntimeError("worker service already started")
        self._stop.clear()
        for config in self.departments:
            consumer = QueueConsumer(
                self.settings.bus_url, config.code, self._handle, queue_prefix=self.queue_prefix
            )
            self._consumers.append(consumer)
            self._spawn(f"govhub-deliver-{config.code}", consumer.run)
        self._spawn("govhub-relay", self.relay.run)
        log.info("workers started for %s", ", ".join(self.departments.codes()))

    def wait_ready(self, timeout: float) -> bool:
        """True once every department queue is declared and consumed (tests, health)."""
        return all(consumer.ready.wait(timeout) for consumer in self._consumers)

    def stop(self, timeout: float = DEFAULT_STOP_SECONDS) -> None:
        """Finish the attempts in progress, then stop every thread."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        alive = [thread.name for thread in self._threads if thread.is_alive()]
        if alive:
            log.warning("threads still running after %s s: %s", timeout, ", ".join(alive))
        self._threads, self._consumers = [], []
        self.handler.close()
        if self._owns_publisher:
            self.publisher.close()

    def _handle(self, task: DeliveryTask) -> None:
        self.handler.handle(task.delivery_id)

    def _spawn(self, name: str, target: Callable[[threading.Event], None]) -> None:
        thread = threading.Thread(target=target, args=(self._stop,), name=name, daemon=True)
        thread.start()
        self._threads.append(thread)
