"""The hub's Prometheus metrics: counters this process counts, gauges the database answers.

Counters and the histogram live in this process (``REGISTRY``) and cost one increment on the
ingest and delivery paths; each process that serves HTTP exposes them at /metrics, a worker
that serves none on ``--metrics-port``; Prometheus scrapes every process and sums. Pending
legs and the oldest one are the hub's, not a process's: read from the database at scrape time
(``PendingLegs``), the same in every process's answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from hub.store.models import DeliveryRow, MessageRow
from hub.store.records import PENDING_STATES

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

MESSAGES_ACCEPTED = Counter(
    "govhub_messages_accepted",
    "Messages accepted (stored, routed), by sender and message type.",
    ["sender", "type"],
    registry=REGISTRY,
)
MESSAGES_REFUSED = Counter(
    "govhub_messages_refused",
    "Requests refused at /soap and /native, by the fault code the caller got.",
    ["fault"],
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "govhub_deliveries",
    "Delivery attempts, by department and outcome (delivered, duplicate, retry, failed).",
    ["department", "outcome"],
    registry=REGISTRY,
)
DELIVERY_SECONDS = Histogram(
    "govhub_delivery_seconds",
    "How long a delivery attempt took, mapping and the department's answer included.",
    ["department"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
    registry=REGISTRY,
)
ADMISSION_WAITS = Counter(
    "govhub_admission_waits",
    "Requests that waited for their bytes in flight before being worked on.",
    registry=REGISTRY,
)


class PendingLegs(Collector):
    """govhub_deliveries_pending{department,state} and govhub_oldest_pending_seconds
    {department}, one grouped query per scrape; every known department is listed, 0 when
    nothing waits for it, so a series does not vanish when its queue empties."""

    def __init__(
        self,
        engine: Engine,
        departments: Callable[[], Iterable[str]],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.departments = departments
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        pending = GaugeMetricFamily(
            "govhub_deliveries_pending",
            "Legs not yet delivered or failed, by department and state.",
            labels=["department", "state"],
        )
        oldest = GaugeMetricFamily(
            "govhub_oldest_pending_seconds",
            "Age of the oldest leg not yet delivered or failed (since its message arrived).",
            labels=["department"],
        )
        try:
            counts, since = self._read()
        except Exception as exc:  # a scrape must answer; /ready says the database is away
            log.warning("metrics: pending legs not read: %s", str(exc).splitlines()[0])
            return
        now = self.clock()
        for department in sorted(set(self.departments()) | {d for d, _ in counts}):
            for state in PENDING_STATES:
                pending.add_metric([department, state], counts.get((department, state), 0))
            first = since.get(department)
            oldest.add_metric([department], (now - first).total_seconds() if first else 0.0)
        yield pending
        yield oldest

    def _read(self) -> tuple[dict[tuple[str, str], int], dict[str, datetime]]:
        return pending_legs(self.engine)


def pending_legs(engine: Engine) -> tuple[dict[tuple[str, str], int], dict[str, datetime]]:
    """Pending legs by (department, state), and when the oldest one's message arrived."""
    query = (
        select(
            DeliveryRow.department,
            DeliveryRow.state,
            func.count(),
            func.min(MessageRow.received_at),
        )
        .join(MessageRow, MessageRow.id == DeliveryRow.message_id)
        .where(DeliveryRow.state.in_(PENDING_STATES))
        .group_by(DeliveryRow.department, DeliveryRow.state)
    )
    counts: dict[tuple[str, str], int] = {}
    since: dict[str, datetime] = {}
    with engine.connect() as connection:
        for department, state, count, first in connection.execute(query):
            counts[(department, state)] = int(count)
            if first is not None and (department not in since or first < since[department]):
                since[department] = first
    return counts, since


class _Counted(Collector):
    """This process's counters, inside a registry of one hub's (tests run several hubs)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def hub_registry(engine: Engine, departments: Callable[[], Iterable[str]]) -> CollectorRegistry:
    """What one hub process answers at /metrics: its counters and the database's gauges."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Counted())
    registry.register(PendingLegs(engine, departments))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
