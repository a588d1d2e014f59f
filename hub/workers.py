"""Worker service: the relay thread, ``consumers_per_department`` consumer threads per
department queue, (if ``prune_interval_seconds`` > 0) a pruning thread and (with an audit
signing key and ``audit_checkpoint_seconds`` > 0) the audit checkpoint thread, (with alert
rules) the alerts thread, and (if ``supervision_evaluate_seconds`` > 0) the supervision thread
issuing signals.

Threads per department mean a slow or down department never delays the others; more than one
per department means a message that makes its department hang (up to the adapter's timeout)
does not hold up that department's other messages.
Used by ``govhub serve`` (with the API, memory:// bus) and ``govhub worker`` (amqp://).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from hub.adapter_cache import AdapterFactory
from hub.bus import (
    FORWARD_QUEUE,
    QUEUE_PREFIX,
    DeliveryTask,
    Publisher,
    QueueConsumer,
    in_process,
)
from hub.config import Settings
from hub.delivery import DeliveryHandler, MappingLookup
from hub.departments import DepartmentDirectory
from hub.federation.forwarder import Forwarder
from hub.mailbox.quota import quota_of
from hub.mailbox.store import MailboxStore
from hub.observability.alerting import alerting_from_settings
from hub.observability.pauses import PauseBoard, RetryPauses
from hub.operations.prune import Pruner
from hub.relay import Relay
from hub.retry import RetryPolicy
from hub.routing import RoutingTable
from hub.security.checkpointer import Checkpointer
from hub.store import Store
from hub.store.attempt_commit import AttemptCommitter
from hub.store.due import DELIVERIES_DUE
from hub.supervision import signal_issuer

log = logging.getLogger(__name__)

DEFAULT_STOP_SECONDS = 10.0
# How long an idle memory:// consumer sleeps between looks at ``stop`` (stop also wakes it);
IN_PROCESS_WAIT_SECONDS = 30.0
# An idle consumer's wait on the broker: long, since ``stop`` interrupts it (a wake-up every
# 0.5 s per consumer was a third of an idle worker's CPU).
BROKER_WAIT_SECONDS = 30.0


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
        routes: RoutingTable | None = None,
        forwarder: Forwarder | None = None,
    ) -> None:
        self.settings = settings
        self.routes = routes  # who receives the supervision signals (default: the routes file)
        self.store = store
        self.departments = departments
        self.queue_prefix = queue_prefix
        self.publisher = publisher or Publisher(
            settings.bus_url, queue_prefix=queue_prefix, on_unpublished=store.release_leases
        )
        self._owns_publisher = publisher is None
        self.handler = DeliveryHandler(
            store,
            mappings,
            departments,
            adapter_for,
            RetryPolicy.from_settings(settings),
            lease_seconds=settings.lease_seconds,
            ledger=AttemptCommitter(
                store, settings.lease_seconds, max_batch=settings.delivery_batch_size
            ),
            mailboxes=MailboxStore(
                store,
                settings.mailbox_lease_seconds,
                quota_of(settings.mailbox_quota, departments),
            ),
            forwarder=forwarder,
        )
        self.pauses = PauseBoard(RetryPauses(store.engine), 2 * settings.relay_interval_seconds)
        self.relay = Relay(
            store,
            self.publisher,
            interval_seconds=settings.relay_interval_seconds,
            lease_seconds=settings.lease_seconds,
            pauses=self.pauses,
            rest_seconds=settings.relay_rest_seconds,
        )
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._consumers: list[QueueConsumer] = []
        self._consuming: set[str] = set()
        self._starting = threading.Lock()
        self._started = False  # start_new_departments waits for start() to have read them

    def start(self) -> None:
        if self._threads:
            raise RuntimeError("worker service already started")
        # Before any thread: an unreadable signing key or rules file fails the start.
        checkpointer = Checkpointer.from_settings(self.store.engine, self.settings)
        alerting = alerting_from_settings(self.settings, self.store.engine)
        issuer = signal_issuer(  # so does a bad calendar file
            self.settings,
            self.store.engine,
            store=self.store,
            publisher=self.publisher,
            routes=self.routes,
        )
        self._stop.clear()
        with self._starting:  # a reload meanwhile starts what this did not see, after it
            for code in self.departments.codes():
                self._start_consumers(code)
            self._started = True
        if self.handler.forwarder is not None:
            self._start_consumers(FORWARD_QUEUE)
        self._spawn("govhub-relay", self.relay.run)
        if self.settings.prune_interval_seconds > 0:
            self._spawn("govhub-prune", Pruner(self.store, self.settings).run)
        if checkpointer is not None:
            self._spawn("govhub-audit-checkpoint", checkpointer.run)
        if alerting is not None:
            interval = self.settings.alert_interval_seconds
            self._spawn("govhub-alerts", lambda stop: alerting.run(stop, interval))
        if issuer is not None:
            self._spawn("govhub-supervision", issuer.run)
        log.info("workers started for %s", ", ".join(self.departments.codes()))

    def start_new_departments(self) -> None:
        """Consume the queues of departments registered since the start (a reload)."""
        with self._starting:
            for code in self.departments.codes():
                if code not in self._consuming and self._started:
                    self._start_consumers(code)
                    log.info("workers started for %s", code)

    def _start_consumers(self, code: str) -> None:
        self._consuming.add(code)
        # memory:// consumers sleep until a task comes or ``stop`` interrupts them.
        local = in_process(self.settings.bus_url)
        waits = IN_PROCESS_WAIT_SECONDS if local else BROKER_WAIT_SECONDS
        for number in range(max(1, self.settings.consumers_per_department)):
            consumer = QueueConsumer(
                self.settings.bus_url,
                code,
                self._handle,
                queue_prefix=self.queue_prefix,
                # One task at a time: a thread stuck in a hung delivery must not hold
                # prefetched tasks that another thread could deliver meanwhile.
                prefetch=1,
                poll_seconds=waits,
            )
            self._consumers.append(consumer)
            self._spawn(f"govhub-deliver-{code}-{number}", consumer.run)

    def wait_ready(self, timeout: float) -> bool:
        """True once every department queue is declared and consumed (tests, health)."""
        return all(consumer.ready.wait(timeout) for consumer in self._consumers)

    def stop(self, timeout: float = DEFAULT_STOP_SECONDS) -> None:
        """Finish the attempts in progress, then stop every thread."""
        self._stop.set()
        DELIVERIES_DUE.ring()  # a resting relay sees ``stop`` now
        for consumer in self._consumers:
            consumer.interrupt()
        for thread in self._threads:
            thread.join(timeout)
        alive = [thread.name for thread in self._threads if thread.is_alive()]
        if alive:
            log.warning("threads still running after %s s: %s", timeout, ", ".join(alive))
        self._threads, self._consumers, self._consuming = [], [], set()
        self._started = False
        self.handler.close()
        if self._owns_publisher:
            self.publisher.close()

    def _handle(self, task: DeliveryTask) -> None:
        if self.pauses.holds(task.department):  # the leg waits; the relay sends it on resume
            log.info("delivery %s to %s held: paused", task.delivery_id, task.department)
            return
        try:
            self.handler.handle(task.delivery_id)
        finally:
            # A retry it scheduled is due before a resting relay would look: wake it (a
            # busy relay is not resting; its passes stay the interval apart).
            DELIVERIES_DUE.ring()

    def _spawn(self, name: str, target: Callable[[threading.Event], None]) -> None:
        thread = threading.Thread(target=target, args=(self._stop,), name=name, daemon=True)
        thread.start()
        self._threads.append(thread)
