"""The dashboard's numbers, per department, counted on the store when the page is asked for
(nothing is measured in the background):

    accepted    legs of messages received in the window
    delivered   legs delivered in the window
    retrying    legs of the window's messages waiting for another attempt now
    failed      legs of the window's messages that failed for good (until replayed)
    oldest      when the oldest leg not yet delivered (queued, delivering, retrying) came in
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from hub.store import Store
from hub.store.models import DeliveryRow, MessageRow
from hub.store.records import PENDING_STATES

WINDOWS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
COUNTS = ("accepted", "delivered", "retrying", "failed")


@dataclass
class DepartmentLoad:
    department: str
    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {w: dict.fromkeys(COUNTS, 0) for w in WINDOWS}
    )
    oldest_undelivered: datetime | None = None


def department_loads(store: Store, now: datetime) -> list[DepartmentLoad]:
    loads: dict[str, DepartmentLoad] = {}

    def load(department: str) -> DepartmentLoad:
        return loads.setdefault(department, DepartmentLoad(department))

    with Session(store.engine) as session:
        for window, span in WINDOWS.items():
            for name, query in _count_queries(now - span):
                for department, count in session.execute(query):
                    load(department).counts[window][name] = int(count)
        for department, oldest in session.execute(_oldest_query()):
            load(department).oldest_undelivered = oldest
    return sorted(loads.values(), key=lambda d: d.department)


def _count_queries(since: datetime) -> Iterable[tuple[str, Select[str, Any]]]:
    legs = select(DeliveryRow.department, func.count()).group_by(DeliveryRow.department)
    of_window = legs.join(MessageRow, MessageRow.id == DeliveryRow.message_id).where(
        MessageRow.received_at >= since
    )
    yield "accepted", of_window
    yield "delivered", legs.where(DeliveryRow.delivered_at >= since)
    yield "retrying", of_window.where(DeliveryRow.state == "retrying")
    yield "failed", of_window.where(DeliveryRow.state == "failed")


def _oldest_query() -> Select[str, Any]:
    return (
        select(DeliveryRow.department, func.min(MessageRow.received_at))
        .join(MessageRow, MessageRow.id == DeliveryRow.message_id)
        .where(DeliveryRow.state.in_(PENDING_STATES))
        .group_by(DeliveryRow.department)
    )
