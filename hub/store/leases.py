"""Claiming deliveries, recording attempts and finding work for the relay.

Every write here starts with a write (an UPDATE guarded by its own WHERE clause, or the
attempt's INSERT), so it is atomic on PostgreSQL and never upgrades a SQLite read lock into a
write lock (which fails at once). Locks are taken in one order everywhere: the delivery row
first, the audit chain's head last, so a replay and a late attempt cannot deadlock.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    String,
    Update,
    all_,
    and_,
    any_,
    bindparam,
    case,
    func,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from hub.security import audit
from hub.store import moves, recorded_rows
from hub.store.arrays import IntArray
from hub.store.direct import DirectStatement
from hub.store.models import AttemptRow, DeliveryRow, MessageRow, UTCDateTime
from hub.store.records import RELAYED_STATES, AttemptRecord, ClaimedDelivery, QueuedDelivery

log = logging.getLogger(__name__)

MAX_EXCERPT_CHARS = 500
Recorded = tuple[ClaimedDelivery, AttemptRecord]


def claimable(now: ColumnElement[datetime]) -> ColumnElement[bool]:
    """Queued; retrying whose time has come; delivering whose worker's lease ran out."""
    return or_(
        DeliveryRow.state == "queued",
        and_(DeliveryRow.state == "retrying", DeliveryRow.next_attempt_at <= now),
        and_(DeliveryRow.state == "delivering", DeliveryRow.lease_until <= now),
    )


# Built once: composing a statement per call was a fifth of a claim's CPU.
_NOW = bindparam("c_now", type_=UTCDateTime())
# The ids as one array on PostgreSQL (``= ANY``): one statement text for any number of ids,
# so psycopg and the server prepare it; an expanding IN list (SQLite) is a new text per count.
_ID_ARRAY = bindparam("c_ids", type_=postgresql.ARRAY(Integer))
_ID_LIST: BindParameter[list[int]] = bindparam("c_ids", expanding=True)
_CLAIMED_COLUMNS = (
    DeliveryRow.id,
    DeliveryRow.message_id,
    MessageRow.message_type,
    MessageRow.sender,
    DeliveryRow.department,
    DeliveryRow.idempotency_key,
    DeliveryRow.attempts,
    MessageRow.canonical,
    type_coerce(func.coalesce(DeliveryRow.queued_at, MessageRow.received_at), UTCDateTime()).label(
        "queued_at"
    ),
    DeliveryRow.attempts_at_replay,
    DeliveryRow.pinned_mapping,
)


def _take(ids: ColumnElement[bool]) -> Update:
    return (
        update(DeliveryRow)
        .where(ids, claimable(_NOW))
        .values(
            state="delivering",
            attempts=DeliveryRow.attempts + 1,
            lease_until=bindparam("c_lease", type_=UTCDateTime()),
            next_attempt_at=None,
        )
    )


# PostgreSQL takes and reads in one statement (UPDATE … FROM messages … RETURNING); SQLite
# may not return columns of the FROM table, so it takes, then reads.
_TAKE_AND_READ = (
    _take(DeliveryRow.id == any_(_ID_ARRAY))
    .where(DeliveryRow.message_id == MessageRow.id)
    .returning(*_CLAIMED_COLUMNS)
)
_TAKE_AND_READ_DIRECT = DirectStatement(_TAKE_AND_READ)  # hub/store/direct.py
_TAKE_IDS = _take(DeliveryRow.id.in_(_ID_LIST)).returning(DeliveryRow.id)
# An attempt is known by its delivery and the claim's attempt number: a record already
# stored (its batch committed, the answer was lost, the batch is retried item by item) inserts
# nothing, and only the inserted keys come back.
_INSERT_ATTEMPTS = (
    sqlite.insert(AttemptRow)
    .on_conflict_do_nothing(index_elements=recorded_rows.ATTEMPT_KEY)
    .returning(AttemptRow.delivery_id, AttemptRow.attempt)
)
_READ_STATES = select(DeliveryRow.id, DeliveryRow.state)
_READ_STATES_ARRAY = _READ_STATES.where(DeliveryRow.id == any_(_ID_ARRAY))  # PostgreSQL
_READ_STATES_LIST = _READ_STATES.where(DeliveryRow.id.in_(_ID_LIST))
_READ = (
    select(*_CLAIMED_COLUMNS)
    .join(MessageRow, MessageRow.id == DeliveryRow.message_id)
    .where(DeliveryRow.id.in_(_ID_LIST))
)


def claim_many(
    connection: Connection, delivery_ids: Sequence[int], now: datetime, lease_until: datetime
) -> list[ClaimedDelivery | None]:
    """Take each delivery that is claimable (in id order: one lock order for all workers),
    in one guarded statement. None for each that was not taken. On PostgreSQL the statement
    reads the claimed rows too: one statement, which a writer may run in autocommit."""
    ids = sorted(set(delivery_ids))
    params = {"c_ids": ids, "c_now": now, "c_lease": lease_until}
    rows: Sequence[Any]
    if connection.dialect.name == "postgresql":  # the ids typed: psycopg need not inspect them
        rows = _TAKE_AND_READ_DIRECT.rows(connection, {**params, "c_ids": IntArray(ids)})
    else:
        taken = list(connection.execute(_TAKE_IDS, params).scalars())
        rows = connection.execute(_READ, {"c_ids": taken}).all() if taken else []
    claimed = {row.id: _claimed(row, lease_until) for row in rows}
    return [claimed.get(delivery_id) for delivery_id in delivery_ids]


def _claimed(row: Any, lease_until: datetime) -> ClaimedDelivery:
    return ClaimedDelivery(
        delivery_id=row.id,
        message_id=row.message_id,
        message_type=row.message_type,
        sender=row.sender,
        department=row.department,
        idempotency_key=row.idempotency_key,
        attempt=row.attempts,
        lease_until=lease_until,
        canonical=row.canonical,
        queued_at=row.queued_at.astimezone(UTC),  # psycopg's: in the session's time zone
        attempts_at_replay=row.attempts_at_replay or 0,
        pinned_mapping=row.pinned_mapping,
    )


def record_many(connection: Connection, recorded: Sequence[Recorded], now: datetime) -> list[str]:
    """Store several attempts and move their deliveries on; each delivery's state after.

    Delivery rows are locked in id order (per kind of outcome, ``moves.move``), the audit
    head last and once for all of them (``audit.append_many``), so the head's lock is held
    for a batch as long as for one. A record whose attempt is stored already writes nothing
    again (no move, no audit entry) and answers its delivery's state as it is. On PostgreSQL
    a batch naming each delivery once is written by one statement (hub/store/recorded_rows.py).
    """
    once = len({claimed.delivery_id for claimed, _ in recorded}) == len(recorded)
    if connection.dialect.name == "postgresql" and once:
        return _record_in_one_statement(connection, recorded, now)
    fresh = _insert_attempts(connection, recorded)
    moves.move(connection, fresh, now)
    states = _states_after(connection, recorded, fresh)
    audit.append_many(connection, _audit_entries(fresh, now))
    return [states[claimed.delivery_id] for claimed, _ in recorded]


def _record_in_one_statement(
    connection: Connection, recorded: Sequence[Recorded], now: datetime
) -> list[str]:
    attempts = [_attempt_values(c, a) for c, a in recorded]
    planned = [{**moves.planned(c, a), "entries": 1 + len(a.audited)} for c, a in recorded]
    done = recorded_rows.record(connection, attempts, planned, now)
    fresh = _fresh(recorded, done.fresh)
    entries = _audit_entries(fresh, now)
    if entries:
        audit.append_to_taken_head(connection, entries, done.head)
    return [done.states[claimed.delivery_id] for claimed, _ in recorded]


def _audit_entries(fresh: Sequence[Recorded], now: datetime) -> list[audit.NewEntry]:
    return [e for c, a in fresh for e in (_audit_entry(c, a, now), *a.audited)]


def _insert_attempts(connection: Connection, recorded: Sequence[Recorded]) -> list[Recorded]:
    """Insert the attempts not stored yet (one statement); the records whose row went in."""
    attempts = [_attempt_values(c, a) for c, a in recorded]
    if connection.dialect.name == "postgresql":
        rows = recorded_rows.ATTEMPTS.execute(connection, attempts)  # PostgreSQL: one statement
    else:
        rows = connection.execute(_INSERT_ATTEMPTS, attempts)
    return _fresh(recorded, {(row.delivery_id, row.attempt) for row in rows})


def _fresh(recorded: Sequence[Recorded], inserted: set[tuple[int, int]]) -> list[Recorded]:
    """The records whose attempt row went in (``inserted``: their keys); the others are
    logged, ids only."""
    fresh = []
    for claimed, attempt in recorded:
        key = (claimed.delivery_id, claimed.attempt)
        if key in inserted:
            inserted.discard(key)  # the same record twice in one batch counts once
            fresh.append((claimed, attempt))
        else:
            log.info(
                "attempt %s of delivery %s is stored already (a commit whose answer was "
                "lost): not written again",
                claimed.attempt,
                claimed.delivery_id,
            )
    return fresh


def _states_after(
    connection: Connection, recorded: Sequence[Recorded], fresh: Sequence[Recorded]
) -> dict[int, str]:
    """Each delivery's state after its move. A delivered attempt leaves its delivery
    delivered whatever its guard found; the other moves can have been refused, and a record
    stored already moved nothing now: their states are read."""
    delivered = {c.delivery_id for c, a in fresh if moves.target_state(a) == "delivered"}
    states = dict.fromkeys(delivered, "delivered")
    unsure = [c.delivery_id for c, _ in recorded if c.delivery_id not in delivered]
    if unsure:
        postgres = connection.dialect.name == "postgresql"
        read = _READ_STATES_ARRAY if postgres else _READ_STATES_LIST
        rows = connection.execute(read, {"c_ids": unsure})
        states.update({row.id: str(row.state) for row in rows})
    return states


def _audit_entry(claimed: ClaimedDelivery, attempt: AttemptRecord, now: datetime) -> audit.NewEntry:
    return audit.NewEntry(
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


# The relay's statements, one text each whatever the number of held departments or of ids
# (arrays on PostgreSQL, as for claims); built once per database kind and held or not.
_HELD_ARRAY = bindparam("r_held", type_=postgresql.ARRAY(String))
_HELD_LIST: BindParameter[list[str]] = bindparam("r_held", expanding=True)
_RELAY_LEASE = bindparam("r_lease", type_=UTCDateTime())
_RELAY_LIMIT = bindparam("r_limit", type_=Integer())


@cache
def _relayed(postgres: bool, holding: bool) -> ColumnElement[bool]:
    """Legs the relay publishes, but those of the held (paused) departments."""
    relayed = DeliveryRow.state.in_(RELAYED_STATES)
    if not holding:
        return relayed
    if postgres:
        return and_(relayed, DeliveryRow.department != all_(_HELD_ARRAY))
    return and_(relayed, DeliveryRow.department.not_in(_HELD_LIST))


@cache
def _next_lease_end_query(postgres: bool, holding: bool) -> Select[datetime]:
    return select(func.min(DeliveryRow.lease_until)).where(_relayed(postgres, holding))


@cache
def _due_update(postgres: bool, holding: bool) -> Update:
    pending = and_(_relayed(postgres, holding), DeliveryRow.lease_until <= _NOW)
    # A materialized CTE runs once: PostgreSQL may re-run a plain IN subquery and so
    # exceed the LIMIT.
    due = (
        select(DeliveryRow.id)
        .where(pending)
        .order_by(DeliveryRow.lease_until)
        .limit(_RELAY_LIMIT)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer anyway
        .cte("due")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return (
        update(DeliveryRow)
        .where(DeliveryRow.id.in_(select(due.c.id)), pending)
        .values(
            lease_until=_RELAY_LEASE,
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
    )


def next_lease_end(connection: Connection, held: frozenset[str] = frozenset()) -> datetime | None:
    """The earliest lease end among the legs the relay publishes (ix_deliveries_state_lease:
    one index probe per state)."""
    query = _next_lease_end_query(connection.dialect.name == "postgresql", bool(held))
    end: datetime | None = connection.execute(query, {"r_held": sorted(held)}).scalar()
    return end


def due_for_relay(
    connection: Connection,
    limit: int,
    now: datetime,
    lease_until: datetime,
    held: frozenset[str] = frozenset(),
) -> list[QueuedDelivery]:
    """Pending deliveries whose lease passed; their lease moves on so others skip them.
    Those of the ``held`` departments (paused) are left as they are."""
    statement = _due_update(connection.dialect.name == "postgresql", bool(held))
    params = {"c_now": now, "r_lease": lease_until, "r_limit": limit, "r_held": sorted(held)}
    rows = connection.execute(statement, params).all()
    return sorted(
        QueuedDelivery(
            row.id,
            row.department,
            row.idempotency_key,
            unattempted=row.attempts <= (row.attempts_at_replay or 0),
        )
        for row in rows
    )


def release_leases(connection: Connection, delivery_ids: Sequence[int], now: datetime) -> int:
    """Make deliveries whose bus message is known not to have been sent due for the relay
    now, instead of when their lease ends. Only those still waiting for a first or next
    attempt: a delivery a worker holds keeps its lease."""
    if not delivery_ids:
        return 0
    release = _RELEASE_ARRAY if connection.dialect.name == "postgresql" else _RELEASE_LIST
    result = connection.execute(release, {"c_ids": sorted(set(delivery_ids)), "c_now": now})
    return int(result.rowcount or 0)


def _release(ids: ColumnElement[bool]) -> Update:
    return (
        update(DeliveryRow)
        .where(ids, DeliveryRow.state.in_(("queued", "retrying")), DeliveryRow.lease_until > _NOW)
        .values(lease_until=_NOW)
    )


_RELEASE_ARRAY = _release(DeliveryRow.id == any_(_ID_ARRAY))  # PostgreSQL
_RELEASE_LIST = _release(DeliveryRow.id.in_(_ID_LIST))


def _attempt_values(claimed: ClaimedDelivery, attempt: AttemptRecord) -> dict[str, Any]:
    return {
        "delivery_id": claimed.delivery_id,
        "attempt": claimed.attempt,
        "started_at": attempt.started_at,
        "duration_ms": attempt.duration_ms,
        "outcome": attempt.outcome,
        "error_class": attempt.error_class,
        "error_message": _clip(attempt.error_message, moves.MAX_ERROR_CHARS),
        "response_excerpt": _clip(attempt.response_excerpt, MAX_EXCERPT_CHARS),
        "payload_sha256": attempt.payload_sha256,
        "outbound_mapping": attempt.outbound_mapping,
    }


def _clip(text: str | None, limit: int) -> str | None:
    return text[:limit] if text else text
