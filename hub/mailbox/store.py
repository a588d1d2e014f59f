"""The mailbox tables (hub/store/models.py: MailboxEntryRow, MailboxLeaseRow) and the leg
moves that go with them. Each operation is one transaction that starts with a write, so it
is atomic on PostgreSQL and never upgrades a SQLite read lock (see hub/store/leases.py).

A delivery parked here is ``waiting``. Ack makes it ``delivered`` with an attempt row and an
audit entry exactly as a pushed delivery's; Nack with retry puts it back (an attempt row
"retry"), without retry fails it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, text, update
from sqlalchemy.sql.elements import ColumnElement

from hub.config import DEFAULT_MAILBOX_QUOTA
from hub.errors import AlreadyAcknowledged, LeaseExpired, UnknownLease
from hub.identity import mask_in_text
from hub.mailbox.quota import QuotaOf
from hub.observability import metrics
from hub.security import audit
from hub.security.payloads import payload_context
from hub.store import ClaimedDelivery, Store
from hub.store.models import (
    AttemptRow,
    DeliveryRow,
    MailboxEntryRow,
    MailboxLeaseRow,
    MessageRow,
)
from hub.store.moves import to_waiting

MAX_REASON_CHARS = 500
# In the mailbox (counted against its quota): not yet received, or received and not settled.
LIVE_STATES = ("ready", "leased")
# Beyond the quota: kept, in order, until the mailbox drains (hub/mailbox/quota.py).
HELD = "held"

log = logging.getLogger("hub.mailbox")


@dataclass(frozen=True)
class MailboxMessage:
    """One message a Receive hands out, with the lease that must settle it."""

    message_id: str
    message_type: str
    idempotency_key: str
    document: bytes
    encoding: str
    lease_token: str
    lease_until: datetime


@dataclass(frozen=True)
class _Settled:
    delivery_id: int
    leased_at: datetime


class MailboxStore:
    def __init__(
        self,
        store: Store,
        lease_seconds: float,
        quota_of: QuotaOf = lambda _: DEFAULT_MAILBOX_QUOTA,
    ) -> None:
        self.store = store
        self.lease_seconds = lease_seconds
        self.quota_of = quota_of

    def park(
        self, claimed: ClaimedDelivery, payload: bytes, encoding: str, mapping: str | None
    ) -> str:
        """Put a claimed, translated delivery in its department's mailbox; the leg's state
        after ("waiting"; "held" when the mailbox is at its quota or others are held before
        it; or its state unchanged if the claim was lost meanwhile)."""
        sealed = self.store.payloads.seal(payload, payload_context(claimed.delivery_id))
        now = self.store.clock()
        quota = self.quota_of(claimed.department)
        with self.store.engine.begin() as connection:
            _lock_mailbox(connection, claimed.department)
            state = to_waiting(connection, claimed, payload=sealed, outbound_mapping=mapping)
            if state != "waiting":
                return state
            # A replayed leg comes back: its earlier entry gives way to the new one.
            connection.execute(
                delete(MailboxEntryRow).where(MailboxEntryRow.delivery_id == claimed.delivery_id)
            )
            live, held = _occupancy(connection, claimed.department)
            holding = held > 0 or live >= quota
            connection.execute(
                insert(MailboxEntryRow).values(
                    delivery_id=claimed.delivery_id,
                    department=claimed.department,
                    state=HELD if holding else "ready",
                    encoding=encoding,
                    parked_at=now,
                    receives=0,
                )
            )
            if holding:
                connection.execute(
                    update(DeliveryRow)
                    .where(DeliveryRow.id == claimed.delivery_id)
                    .values(state=HELD)
                )
        if holding and not held:  # the first one held: operators hear it once, not per leg
            log.warning(
                "mailbox of %s is full (%s waiting, quota %s): its further deliveries are "
                "held, in order, until it drains",
                claimed.department,
                live,
                quota,
            )
        return HELD if holding else "waiting"

    def receive(self, department: str, limit: int) -> list[MailboxMessage]:
        """Lease up to ``limit`` messages: those never received, then those whose lease ran
        out, oldest delivery first."""
        now = self.store.clock()
        until = now + timedelta(seconds=self.lease_seconds)
        receivable = _receivable([department], now)
        due = (
            select(MailboxEntryRow.delivery_id)
            .where(receivable)
            .order_by(MailboxEntryRow.delivery_id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL: two Receives take different ones
            .cte("due")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        # An empty mailbox is the common answer: a read says so without the write lock
        # (SQLite's one writer is Submit's too); the guarded update below decides anyway.
        with self.store.engine.connect() as reading:
            if (
                reading.execute(
                    select(MailboxEntryRow.delivery_id).where(receivable).limit(1)
                ).first()
                is None
            ):
                return []
        with self.store.engine.begin() as connection:
            taken = sorted(
                connection.execute(
                    update(MailboxEntryRow)
                    .where(MailboxEntryRow.delivery_id.in_(select(due.c.delivery_id)), receivable)
                    .values(
                        state="leased",
                        lease_until=until,
                        receives=MailboxEntryRow.receives + 1,
                    )
                    .returning(MailboxEntryRow.delivery_id)
                ).scalars()
            )
            tokens = {delivery_id: secrets.token_urlsafe(24) for delivery_id in taken}
            for delivery_id, token in tokens.items():
                connection.execute(
                    update(MailboxEntryRow)
                    .where(MailboxEntryRow.delivery_id == delivery_id)
                    .values(lease_token=token)
                )
            if tokens:
                connection.execute(
                    insert(MailboxLeaseRow),
                    [
                        {
                            "token": token,
                            "delivery_id": delivery_id,
                            "department": department,
                            "leased_at": now,
                            "lease_until": until,
                        }
                        for delivery_id, token in tokens.items()
                    ],
                )
            rows = _documents(connection, taken)
        return [
            MailboxMessage(
                message_id=row.message_id,
                message_type=row.message_type,
                idempotency_key=row.idempotency_key,
                document=self.store.payloads.open(row.payload or b"", payload_context(row.id)),
                encoding=row.encoding,
                lease_token=tokens[row.id],
                lease_until=until,
            )
            for row in rows
        ]

    def ack(self, department: str, tokens: Sequence[str]) -> int:
        """Deliver each leased message; all or none (the first bad token's fault)."""
        now = self.store.clock()
        with self.store.engine.begin() as connection:
            _lock_mailbox(connection, department)
            settled = [_settle(connection, department, token, "acked", now) for token in tokens]
            for lease in settled:
                _move(connection, department, lease, now, outcome="delivered", error=None)
            self._release_held(connection, department)
        for _ in settled:
            metrics.DELIVERIES.labels(department, "delivered").inc()
        return len(settled)

    def nack(self, department: str, token: str, reason: str, retry: bool) -> str:
        """Give a leased message back (``retry``: it waits to be received again) or fail
        it; the leg's state after."""
        now = self.store.clock()
        error = f"Nack: {mask_in_text(reason)[:MAX_REASON_CHARS]}"
        outcome: Literal["retry", "failed"] = "retry" if retry else "failed"
        with self.store.engine.begin() as connection:
            _lock_mailbox(connection, department)
            lease = _settle(connection, department, token, "nacked", now, failed=not retry)
            _move(connection, department, lease, now, outcome=outcome, error=error)
            self._release_held(connection, department)
        metrics.DELIVERIES.labels(department, outcome).inc()
        return "waiting" if retry else "failed"

    def _release_held(self, connection: Connection, department: str) -> None:
        """Let held deliveries into the mailbox, oldest first, as far as its quota has room."""
        live, held = _occupancy(connection, department)
        room = self.quota_of(department) - live
        if not held or room <= 0:
            return
        entering = select(MailboxEntryRow.delivery_id).where(
            MailboxEntryRow.department == department, MailboxEntryRow.state == HELD
        )
        released = list(
            connection.execute(
                update(MailboxEntryRow)
                .where(
                    MailboxEntryRow.delivery_id.in_(
                        entering.order_by(MailboxEntryRow.delivery_id).limit(room)
                    ),
                    MailboxEntryRow.state == HELD,
                )
                .values(state="ready")
                .returning(MailboxEntryRow.delivery_id)
            ).scalars()
        )
        connection.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id.in_(released), DeliveryRow.state == HELD)
            .values(state="waiting")
        )
        if len(released) == held:
            log.info("mailbox of %s has room again: no delivery held", department)

    def with_mail(self, departments: Iterable[str]) -> set[str]:
        """Of ``departments``, those whose mailbox holds a message to receive now."""
        with self.store.engine.connect() as connection:
            rows = connection.execute(
                select(MailboxEntryRow.department)
                .where(_receivable(sorted(set(departments)), self.store.clock()))
                .distinct()
            )
            return {str(department) for department in rows.scalars()}


def mailbox_counts(connection: Connection) -> dict[str, dict[str, int]]:
    """Every mailbox's entries still open, by department and state (ready, leased, held)."""
    rows = connection.execute(
        select(MailboxEntryRow.department, MailboxEntryRow.state, func.count())
        .where(MailboxEntryRow.state.in_((*LIVE_STATES, HELD)))
        .group_by(MailboxEntryRow.department, MailboxEntryRow.state)
    )
    counts: dict[str, dict[str, int]] = {}
    for department, state, count in rows:
        counts.setdefault(str(department), {})[str(state)] = int(count)
    return counts


# The first key of PostgreSQL's two-key advisory locks that guard a mailbox's occupancy.
_MAILBOX_LOCK_SPACE = 0x6D62  # "mb"


def _lock_mailbox(connection: Connection, department: str) -> None:
    """Hold the department's mailbox until the transaction ends: two workers parking at
    once would both count room for one more and pass the quota together. SQLite has one
    writer, so there the transaction's own write lock is this lock."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:department))"),
            {"space": _MAILBOX_LOCK_SPACE, "department": department},
        )


def _occupancy(connection: Connection, department: str) -> tuple[int, int]:
    """How many entries of the department's are in its mailbox, and how many are held."""
    counts = dict(
        connection.execute(
            select(MailboxEntryRow.state, func.count())
            .where(
                MailboxEntryRow.department == department,
                MailboxEntryRow.state.in_((*LIVE_STATES, HELD)),
            )
            .group_by(MailboxEntryRow.state)
        ).all()
    )
    return sum(int(counts.get(state, 0)) for state in LIVE_STATES), int(counts.get(HELD, 0))


def _receivable(departments: list[str], now: datetime) -> ColumnElement[bool]:
    """Never received, or received and its lease ran out."""
    return and_(
        MailboxEntryRow.department.in_(departments),
        or_(
            MailboxEntryRow.state == "ready",
            and_(MailboxEntryRow.state == "leased", MailboxEntryRow.lease_until <= now),
        ),
    )


def _documents(connection: Connection, delivery_ids: list[int]) -> list[Any]:
    if not delivery_ids:
        return []
    return list(
        connection.execute(
            select(
                DeliveryRow.id,
                DeliveryRow.message_id,
                DeliveryRow.idempotency_key,
                DeliveryRow.payload,
                MessageRow.message_type,
                MailboxEntryRow.encoding,
            )
            .join(MessageRow, MessageRow.id == DeliveryRow.message_id)
            .join(MailboxEntryRow, MailboxEntryRow.delivery_id == DeliveryRow.id)
            .where(DeliveryRow.id.in_(delivery_ids))
            .order_by(DeliveryRow.id)
        ).all()
    )


def _settle(
    connection: Connection,
    department: str,
    token: str,
    settled: str,
    now: datetime,
    *,
    failed: bool = False,
) -> _Settled:
    """Close an open, unexpired lease of the department's; else say exactly why not."""
    row = connection.execute(
        update(MailboxLeaseRow)
        .where(
            MailboxLeaseRow.token == token,
            MailboxLeaseRow.department == department,
            MailboxLeaseRow.settled.is_(None),
            MailboxLeaseRow.lease_until > now,
        )
        .values(settled=settled)
        .returning(MailboxLeaseRow.delivery_id, MailboxLeaseRow.leased_at)
    ).first()
    if row is None:
        raise _refusal(connection, department, token)
    entry_state = "acked" if settled == "acked" else "failed" if failed else "ready"
    taken = connection.execute(
        update(MailboxEntryRow)
        .where(
            MailboxEntryRow.delivery_id == row.delivery_id,
            MailboxEntryRow.lease_token == token,
            MailboxEntryRow.state == "leased",
        )
        .values(state=entry_state, lease_token=None, lease_until=None)
    ).rowcount
    if not taken:  # replayed or pruned meanwhile: this lease no longer holds it
        raise LeaseExpired(f"lease {token[:8]}… no longer holds its message; receive again")
    return _Settled(row.delivery_id, row.leased_at)


def _refusal(connection: Connection, department: str, token: str) -> Exception:
    lease = connection.execute(
        select(MailboxLeaseRow.department, MailboxLeaseRow.settled).where(
            MailboxLeaseRow.token == token
        )
    ).first()
    named = f"lease {token[:8]}…"
    if lease is None or lease.department != department:
        # Another department's token is answered as an unknown one: no oracle.
        return UnknownLease(f"{named} was not given to {department} by any Receive")
    if lease.settled == "acked":
        return AlreadyAcknowledged(f"{named} was already acknowledged; nothing is delivered twice")
    if lease.settled is not None:
        return AlreadyAcknowledged(f"{named} was already given back (Nack)")
    return LeaseExpired(
        f"{named} ran out before it was acknowledged: the message is received again "
        "with a new lease token; acknowledge that one"
    )


def _move(
    connection: Connection,
    department: str,
    lease: _Settled,
    now: datetime,
    *,
    outcome: Literal["delivered", "retry", "failed"],
    error: str | None,
) -> None:
    """The leg's move, its attempt row and its audit entry, as for a pushed delivery."""
    if outcome == "delivered":
        values: dict[str, object] = {"state": "delivered", "delivered_at": now, "last_error": None}
    elif outcome == "retry":
        values = {"attempts": DeliveryRow.attempts + 1, "last_error": error}
    else:
        values = {"state": "failed", "last_error": error}
    leg = connection.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == lease.delivery_id, DeliveryRow.state == "waiting")
        .values(**values)
        .returning(DeliveryRow.message_id, DeliveryRow.attempts, DeliveryRow.outbound_mapping)
    ).one()
    attempt_number = leg.attempts - 1 if outcome == "retry" else leg.attempts
    connection.execute(
        insert(AttemptRow).values(
            delivery_id=lease.delivery_id,
            started_at=lease.leased_at,
            duration_ms=max(0, int((now - lease.leased_at).total_seconds() * 1000)),
            outcome=outcome,
            error_class=None if error is None else "Nack",
            error_message=error,
            response_excerpt="acknowledged from the mailbox" if error is None else None,
            outbound_mapping=leg.outbound_mapping,
        )
    )
    audit.append(
        connection,
        actor=department,
        action=audit.DELIVERY_ATTEMPT,
        subject=leg.message_id,
        at=now,
        details={
            "department": department,
            "attempt": attempt_number,
            "outcome": outcome,
            "via": "mailbox",
        },
    )
