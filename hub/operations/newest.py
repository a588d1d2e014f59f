"""A state filter's page walked from the legs, newest first.

Each leg carries its message's arrival (``deliveries.received_at``, migration
0027_failures_newest), so the legs not delivered are read in the page's own order through a
partial index, and the walk stops as soon as the page is full, however old the failures: it
no longer reads every such leg and sorts their messages (24-665 ms at 1,000,000 messages,
docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, literal_column, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from hub.store.models import DeliveryRow, MessageRow

# A message's place in the list: (received_at, id). A page starts after the last one shown.
Key = tuple[datetime, str]

# The partial indexes' own condition, literally: SQLite uses a partial index only when the
# query repeats its WHERE term (a bound parameter would not match).
NOT_DELIVERED = DeliveryRow.state != literal_column("'delivered'")


def after(
    arrival: InstrumentedAttribute[Any], message_id: InstrumentedAttribute[Any], key: Key
) -> ColumnElement[bool]:
    """Rows after ``key`` in the list's order (newest first, then by id). The plain bound on
    the arrival lets an index start there; the rest settles ties."""
    at, last_id = key
    return and_(arrival <= at, or_(arrival < at, message_id > last_id))


def leg_page(
    legs: Sequence[ColumnElement[bool]],
    messages: Sequence[ColumnElement[bool]],
    start: Key | None,
    size: int,
) -> Select[datetime | None, str]:
    """(received_at, message_id) of the next ``size`` legs not delivered that meet ``legs``,
    whose message meets ``messages``, after ``start``, newest first."""
    query = select(DeliveryRow.received_at, DeliveryRow.message_id).where(NOT_DELIVERED, *legs)
    if messages:
        query = query.join(MessageRow, MessageRow.id == DeliveryRow.message_id).where(*messages)
    if start is not None:
        query = query.where(after(DeliveryRow.received_at, DeliveryRow.message_id, start))
    return query.order_by(DeliveryRow.received_at.desc(), DeliveryRow.message_id).limit(size)


def message_ids(
    session: Session,
    legs: Sequence[ColumnElement[bool]],
    messages: Sequence[ColumnElement[bool]],
    start: Key | None,
    count: int,
) -> list[str]:
    """The ids of up to ``count`` messages with a matching leg, after ``start``, newest first.

    Legs are read ``count`` at a time until ``count`` messages are found. A message's legs
    share its arrival and id, so they come together in this order: a second leg is dropped
    where it follows the first, and the next page, starting after the last message read,
    skips whatever legs of it remain."""
    found: list[str] = []
    while len(found) < count:
        rows = session.execute(leg_page(legs, messages, start, count))
        # A leg without an arrival (written around the store: the hub writes none) has no
        # place in this order; it is passed over, and may end the walk early.
        page = [(arrival, message_id) for arrival, message_id in rows if arrival is not None]
        for _, message_id in page:
            if not found or found[-1] != message_id:
                found.append(message_id)
        if len(page) < count:
            break
        start = page[-1]
    return found[:count]
