"""The dashboard's numbers, per department, counted on the store when the page is asked for
(nothing is measured in the background):

    accepted    legs queued in the window: each accepted message's legs, and legs replayed
    delivered   legs delivered in the window
    retrying    legs queued in the window waiting for another attempt now
    failed      legs queued in the window that failed for good (until replayed)
    oldest      since when the oldest leg not yet delivered (queued, delivering, retrying) has
                waited: its message's arrival, or its last replay
    latency     p50 and p95 of (delivered - queued) over the legs delivered in the window
    hourly      delivery attempts per hour over the last day, delivered or not (the chart)

Every query is bounded by an indexed time column of the table it counts
(deliveries.queued_at and delivered_at, attempts.started_at; migration 0013) or by the
pending states, and the window's counts join no other table: with a million messages
PostgreSQL would hash-join by scanning the whole other table, not the window's rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Select, case, cast, extract, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from hub.store import Store
from hub.store.models import AttemptRow, DeliveryRow
from hub.store.records import PENDING_STATES

WINDOWS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
COUNTS = ("accepted", "delivered", "retrying", "failed")
CHART_HOURS = 24
DELIVERED_OUTCOMES = ("delivered", "duplicate")


@dataclass
class Latency:
    p50_seconds: float | None = None
    p95_seconds: float | None = None


@dataclass
class HourTally:
    delivered: int = 0
    not_delivered: int = 0  # attempts that ended in a retry or a failure


@dataclass
class DepartmentLoad:
    department: str
    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {w: dict.fromkeys(COUNTS, 0) for w in WINDOWS}
    )
    oldest_undelivered: datetime | None = None
    latency: dict[str, Latency] = field(default_factory=lambda: {w: Latency() for w in WINDOWS})
    # Oldest hour first; the last entry is the hour now under way.
    hourly: list[HourTally] = field(
        default_factory=lambda: [HourTally() for _ in range(CHART_HOURS)]
    )


def department_loads(store: Store, now: datetime) -> list[DepartmentLoad]:
    loads: dict[str, DepartmentLoad] = {}

    def load(department: str) -> DepartmentLoad:
        return loads.setdefault(department, DepartmentLoad(department))

    with Session(store.engine) as session:
        postgresql = session.get_bind().dialect.name == "postgresql"
        for window, span in WINDOWS.items():
            counts = _window_counts(now - span)
            for department, accepted, retrying, failed in session.execute(counts):
                found = load(department).counts[window]
                found.update(accepted=int(accepted), retrying=int(retrying), failed=int(failed))
            for department, delivered in session.execute(_delivered_count(now - span)):
                load(department).counts[window]["delivered"] = int(delivered)
            for department, latency in _latencies(session, now - span, postgresql):
                load(department).latency[window] = latency
        for department, oldest in session.execute(_oldest_query()):
            load(department).oldest_undelivered = oldest
        this_hour = int(now.timestamp()) // 3600
        for department, hour, delivered, total in session.execute(_hourly_query(now, postgresql)):
            slot = CHART_HOURS - 1 - (this_hour - int(hour))
            if 0 <= slot < CHART_HOURS:
                tally = load(department).hourly[slot]
                tally.delivered += int(delivered)
                tally.not_delivered += int(total) - int(delivered)
    return sorted(loads.values(), key=lambda d: d.department)


def _window_counts(since: datetime) -> Select[str, int, int, int]:
    """Accepted, retrying and failed legs queued in the window, in one pass."""
    return (
        select(
            DeliveryRow.department,
            func.count(),
            func.count().filter(DeliveryRow.state == "retrying"),
            func.count().filter(DeliveryRow.state == "failed"),
        )
        .where(DeliveryRow.queued_at >= since)
        .group_by(DeliveryRow.department)
    )


def _delivered_count(since: datetime) -> Select[str, int]:
    return (
        select(DeliveryRow.department, func.count())
        .where(DeliveryRow.delivered_at >= since)
        .group_by(DeliveryRow.department)
    )


def _oldest_query() -> Select[str, datetime | None]:
    return (
        select(DeliveryRow.department, func.min(DeliveryRow.queued_at))
        .where(DeliveryRow.state.in_(PENDING_STATES))
        .group_by(DeliveryRow.department)
    )


def _latencies(
    session: Session, since: datetime, postgresql: bool
) -> Iterable[tuple[str, Latency]]:
    """From the leg's queueing (its message's arrival, or its last replay) to its delivery.
    PostgreSQL ranks in the database; SQLite (one process, small stores) hands the window's
    latencies over and they are ranked here."""
    delivered = select(DeliveryRow.department).where(DeliveryRow.delivered_at >= since)
    if postgresql:
        seconds = extract("epoch", DeliveryRow.delivered_at - DeliveryRow.queued_at)
        ranked = delivered.add_columns(
            func.percentile_cont(0.5).within_group(seconds),
            func.percentile_cont(0.95).within_group(seconds),
        ).group_by(DeliveryRow.department)
        for department, p50, p95 in session.execute(ranked):
            yield department, Latency(float(p50), float(p95))
        return
    spans: dict[str, list[float]] = {}
    pairs = delivered.add_columns(DeliveryRow.delivered_at, DeliveryRow.queued_at)
    for department, delivered_at, queued_at in session.execute(pairs):
        spans.setdefault(department, []).append((delivered_at - queued_at).total_seconds())
    for department, values in spans.items():
        values.sort()
        yield department, Latency(_percentile(values, 0.5), _percentile(values, 0.95))


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks, as percentile_cont does."""
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _hourly_query(now: datetime, postgresql: bool) -> Select[str, int, Any, int]:
    hour = _epoch_hour(AttemptRow.started_at, postgresql)
    delivered = func.sum(case((AttemptRow.outcome.in_(DELIVERED_OUTCOMES), 1), else_=0))
    return (
        select(DeliveryRow.department, hour, delivered, func.count())
        .join(DeliveryRow, DeliveryRow.id == AttemptRow.delivery_id)
        .where(AttemptRow.started_at >= now - timedelta(hours=CHART_HOURS))
        .group_by(DeliveryRow.department, hour)
    )


def _epoch_hour(column: Any, postgresql: bool) -> ColumnElement[int]:
    """Whole hours since 1970 of a timestamp column. The divisor is written into the SQL,
    not bound: PostgreSQL matches the GROUP BY expression to the selected one by its text."""
    hour = literal_column("3600", Integer)
    if postgresql:
        return cast(func.floor(extract("epoch", column) / hour), Integer)
    return cast(cast(func.strftime("%s", column), Integer) / hour, Integer)
