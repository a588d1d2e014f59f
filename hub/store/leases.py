"""Claiming deliveries, recording attempts and finding work for the relay.

Every write here starts with a write (an UPDATE guarded by its own WHERE clause, or the
attempt's INSERT), so it is atomic on PostgreSQL and never upgrades a SQLite read lock into a
write lock (which fails at once). Locks are taken in one order everywhere: the delivery row
first, the audit chain's head last, so a replay and a late attempt cannot deadlock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, or_, select, type_coerce, update
from sqlalchemy.sql.elements import ColumnElement

from hub.security import audit
from hub.store.models import AttemptRow, DeliveryRow, MessageRow, UTCDateTime
from hub.store.records import PENDING_STATES, AttemptRecord, ClaimedDelivery, QueuedDelivery

MAX_ERROR_CHARS = 2000
MAX_EXCERPT_CHARS = 500


def claimable(now: datetime) -> ColumnElement[bool]:
    """Queued; retrying whose time has come; delivering whose worker's lease ran out."""
    return or_(
        DeliveryRow.state == "queued",
        and_(DeliveryRow.state == "retrying", DeliveryRow.next_attempt_at <= now),
        and_(DeliveryRow.state == "delivering", DeliveryRow.lease_until <= now),
    )


def claim(
    connection: Connection, delivery_id: int, now: datetime, lease_until: datetime
) -> ClaimedDelivery | None:
    taken = connection.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == delivery_id, claimable(now))
        .values(
            state="delivering",
            attempts=DeliveryRow.attempts + 1,
            lease_until=lease_until,
            next_attempt_at=None,
        )
    )
    if taken.rowcount != 1:
        return None
    row = connection.execute(
        select(
            DeliveryRow.message_id,
            MessageRow.message_type,
            MessageRow.sender,
            DeliveryRow.department,
            DeliveryRow.idempotency_key,
            DeliveryRow.attempts,
            MessageRow.canonical,
            type_coerce(
                func.coalesce(DeliveryRow.queued_at, MessageRow.received_at), UTCDateTime()
            ).label("queued_at"),
            DeliveryRow.attempts_at_replay,
            DeliveryRow.pinned_mapping,
        )
        .join(MessageRow, MessageRow.id == DeliveryRow.message_id)
        .where(DeliveryRow.id == delivery_id)
    ).one()
    return ClaimedDelivery(
        delivery_id=delivery_id,
        message_id=row.message_id,
        message_type=row.message_type,
        sender=row.sender,
        department=row.department,
        idempotency_key=row.idempotency_key,
        attempt=row.attempts,
        lease_until=lease_until,
        canonical=row.canonical,
        queued_at=row.queued_at,
        attempts_at_replay=row.attempts_at_replay or 0,
        pinned_mapping=row.pinned_mapping,
    )


def record(
    connection: Connection, claimed: ClaimedDelivery, attempt: AttemptRecord, now: datetime
) -> str:
    """Store the attempt and move the delivery on; returns the delivery's state after."""
    connection.execute(insert(AttemptRow).values(_attempt_values(claimed, attempt)))
    guard: list[ColumnElement[bool]] = [DeliveryRow.id == claimed.delivery_id]
    if attempt.outcome in ("delivered", "duplicate"):
        # Delivered is a fact even from a worker whose lease ran out.
        guard.append(DeliveryRow.state != "delivered")
    else:
        # Only the current holder may schedule a retry or fail it.
        guard += [DeliveryRow.state == "delivering", DeliveryRow.attempts == claimed.attempt]
    connection.execute(
        update(DeliveryRow).where(*guard).values(_transition(attempt, now)),
    )
    state = connection.scalar(
        select(DeliveryRow.state).where(DeliveryRow.id == claimed.delivery_id)
    )
    audit.append(
        connection,
        actor="hub",
        action=audit.DELIVERY_ATTEMPT,
        subject=claimed.message_id,
        at=now,
        details={
            "department": claimed.department,
            "attempt": claimed.attempt,
            "outcome": attempt.outcome,
            "error_class": attempt.error_class,
            "payload_sha256": attempt.payload_sha256,
            "mapping": attempt.outbound_mapping,
        },
    )
    return str(state)


def due_for_relay(
    connection: Connection, limit: int, now: datetime, lease_until: datetime
) -> list[QueuedDelivery]:
    """Pending deliveries whose lease passed; their lease moves on so others skip them."""
    pending = and_(DeliveryRow.state.in_(PENDING_STATES), DeliveryRow.lease_until <= now)
    # A materialized CTE runs once: PostgreSQL may re-run a plain IN subquery and so
    # exceed the LIMIT.
    due = (
        select(DeliveryRow.id)
        .where(pending)
        .order_by(DeliveryRow.lease_until)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer anyway
        .cte("due")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    rows = connection.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id.in_(select(due.c.id)), pending)
        .values(
            lease_until=lease_until,
            # A worker that died mid-delivery left it "delivering": make it claimable again.
            state=case((DeliveryRow.state == "delivering", "queued"), else_=DeliveryRow.state),
        )
        .returning(
            DeliveryRow.id,
            DeliveryRow.department,
            DeliveryRow.idempotency_key,
            DeliveryRow.attempts,
            DeliveryRow.attempts_at_replay,
        )
    ).all()
    return sorted(
        QueuedDelivery(
            row.id,
            row.department,
            row.idempotency_key,
            unattempted=row.attempts <= (row.attempts_at_replay or 0),
        )
        for row in rows
    )


def _transition(attempt: AttemptRecord, now: datetime) -> dict[str, Any]:
    values = _state_change(attempt, now)
    if attempt.payload is not None:
        values["payload"] = attempt.payload
    return values


def _state_change(attempt: AttemptRecord, now: datetime) -> dict[str, Any]:
    error = _error_text(attempt)
    if attempt.outcome in ("delivered", "duplicate"):
        return {
            "state": "delivered",
            "delivered_at": now,
            "last_error": None,
            "next_attempt_at": None,
            "outbound_mapping": attempt.outbound_mapping,
        }
    if attempt.outcome == "retry":
        if attempt.retry_at is None:
            raise ValueError("a retry needs retry_at")
        # The relay republishes once lease_until passes: that is the retry's schedule.
        return {
            "state": "retrying",
            "next_attempt_at": attempt.retry_at,
            "lease_until": attempt.retry_at,
            "last_error": error,
            "outbound_mapping": attempt.outbound_mapping,
        }
    return {"state": "failed", "last_error": error, "outbound_mapping": attempt.outbound_mapping}


def _attempt_values(claimed: ClaimedDelivery, attempt: AttemptRecord) -> dict[str, Any]:
    return {
        "delivery_id": claimed.delivery_id,
        "started_at": attempt.started_at,
        "duration_ms": attempt.duration_ms,
        "outcome": attempt.outcome,
        "error_class": attempt.error_class,
        "error_message": _clip(attempt.error_message, MAX_ERROR_CHARS),
        "response_excerpt": _clip(attempt.response_excerpt, MAX_EXCERPT_CHARS),
        "payload_sha256": attempt.payload_sha256,
        "outbound_mapping": attempt.outbound_mapping,
    }


def _error_text(attempt: AttemptRecord) -> str | None:
    if attempt.error_class is None and attempt.error_message is None:
        return None
    text = f"{attempt.error_class or 'Error'}: {attempt.error_message or ''}"
    return _clip(text, MAX_ERROR_CHARS)


def _clip(text: str | None, limit: int) -> str | None:
    return text[:limit] if text else text
