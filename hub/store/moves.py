"""The guarded moves of deliveries after their attempts, one statement per kind of outcome.

A batch of attempt records moves its deliveries with at most three executemany statements
(delivered, retrying, failed), each a single pipelined round trip on PostgreSQL, instead of
one UPDATE per attempt. Each row keeps its own guard (fencing, see ``leases.record_many``):
delivered is a fact even from a worker whose lease ran out; only the current holder (still
``delivering``, same attempt count) may schedule a retry or fail it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, LargeBinary, Update, bindparam, func, select, update

from hub.store.models import DeliveryRow
from hub.store.records import AttemptRecord, ClaimedDelivery

MAX_ERROR_CHARS = 2000
# The translated document replaces the kept one only when this attempt got that far.
_PAYLOAD = func.coalesce(bindparam("b_payload", type_=LargeBinary), DeliveryRow.payload)
_HELD = (
    DeliveryRow.id == bindparam("b_id"),
    DeliveryRow.state == "delivering",
    DeliveryRow.attempts == bindparam("b_attempt"),
)
_STATEMENTS: dict[str, Update] = {
    "delivered": update(DeliveryRow)
    .where(DeliveryRow.id == bindparam("b_id"), DeliveryRow.state != "delivered")
    .values(
        state="delivered",
        delivered_at=bindparam("b_now"),
        last_error=None,
        next_attempt_at=None,
        outbound_mapping=bindparam("b_mapping"),
        schema_version=bindparam("b_version"),
        payload=_PAYLOAD,
    ),
    # The relay republishes once lease_until passes: that is the retry's schedule.
    "retrying": update(DeliveryRow)
    .where(*_HELD)
    .values(
        state="retrying",
        next_attempt_at=bindparam("b_retry_at"),
        lease_until=bindparam("b_retry_at"),
        last_error=bindparam("b_error"),
        outbound_mapping=bindparam("b_mapping"),
        schema_version=bindparam("b_version"),
        payload=_PAYLOAD,
    ),
    "failed": update(DeliveryRow)
    .where(*_HELD)
    .values(
        state="failed",
        last_error=bindparam("b_error"),
        outbound_mapping=bindparam("b_mapping"),
        schema_version=bindparam("b_version"),
        payload=_PAYLOAD,
    ),
}


def move(
    connection: Connection,
    recorded: Sequence[tuple[ClaimedDelivery, AttemptRecord]],
    now: datetime,
) -> None:
    """Move each attempt's delivery on, in delivery id order within each statement."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for claimed, attempt in sorted(recorded, key=lambda pair: pair[0].delivery_id):
        by_kind.setdefault(target_state(attempt), []).append(_params(claimed, attempt, now))
    for kind, rows in by_kind.items():
        # One row as one execute: an executemany of one still pays for a pipeline.
        connection.execute(_STATEMENTS[kind], rows[0] if len(rows) == 1 else rows)


def target_state(attempt: AttemptRecord) -> str:
    if attempt.outcome in ("delivered", "duplicate"):
        return "delivered"
    if attempt.outcome == "retry":
        if attempt.retry_at is None:
            raise ValueError("a retry needs retry_at")
        return "retrying"
    return "failed"


def error_text(attempt: AttemptRecord) -> str | None:
    if attempt.error_class is None and attempt.error_message is None:
        return None
    text = f"{attempt.error_class or 'Error'}: {attempt.error_message or ''}"
    return text[:MAX_ERROR_CHARS]


def planned(claimed: ClaimedDelivery, attempt: AttemptRecord) -> dict[str, Any]:
    """The move as values (hub/store/recorded_rows.py makes it in one statement with others)."""
    target = target_state(attempt)
    return {
        "id": claimed.delivery_id,
        "attempt": claimed.attempt,
        "target": target,
        "retry_at": attempt.retry_at,
        "error": None if target == "delivered" else error_text(attempt),
        "mapping": attempt.outbound_mapping,
        "version": attempt.schema_version,
        "payload": attempt.payload,
    }


def _params(claimed: ClaimedDelivery, attempt: AttemptRecord, now: datetime) -> dict[str, Any]:
    # The statements' parameters are prefixed: a bindparam may not take a column's name.
    values = {f"b_{name}": value for name, value in planned(claimed, attempt).items()}
    values["b_now"] = now
    return values


def to_waiting(connection: Connection, claimed: ClaimedDelivery, **values: Any) -> str:
    """Move a claimed leg to ``waiting`` (a mailbox's or a transfer bundle's), with
    ``values``, if this claim still holds it; the leg's state after."""
    moved = connection.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.id == claimed.delivery_id,
            DeliveryRow.state == "delivering",
            DeliveryRow.attempts == claimed.attempt,
        )
        .values(state="waiting", last_error=None, next_attempt_at=None, **values)
    ).rowcount
    if moved:
        return "waiting"
    state = connection.execute(
        select(DeliveryRow.state).where(DeliveryRow.id == claimed.delivery_id)
    ).scalar_one()
    return str(state)
