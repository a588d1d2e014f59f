"""Replay: put failed (or retrying) deliveries back in the queue, safely.

- A delivered leg is never replayed ("already delivered to TAX, skipped"); a queued or
  in-flight one is left alone, so a replay of a replay is harmless.
- The same delivery row and idempotency key: a department that did get it answers duplicate.
- The database is the truth: a replayed leg becomes ``queued`` with ``lease_until`` = when
  the relay may publish it. A bulk replay is released in batches ``batch_interval`` apart,
  so new traffic (published at once by ingress) is never stuck behind thousands of replays.
- Every replayed message gets an audit row (who, why, when, dry run, what happened).
"""

from __future__ import annotations

from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from hub.config import DEFAULT_REPLAY_BATCH_INTERVAL_SECONDS, DEFAULT_REPLAY_BATCH_SIZE
from hub.errors import ClientError
from hub.operations.queries import check_filter, leg_condition, message_conditions
from hub.operations.views import LegOutcome, LegResult, MessageFilter, ReplayReport
from hub.store import Store
from hub.store.audit import action_values, record_actions
from hub.store.due import DELIVERIES_DUE
from hub.store.models import AttemptRow, DeliveryRow, MessageRow

# skipped: its route condition failed; an operator may still decide it goes there.
REPLAYABLE = ("failed", "retrying", "skipped")


@dataclass(frozen=True)
class ReplayRequest:
    """Either ``message_ids`` (their legs, narrowed by ``wanted.department``) or, when empty,
    every leg matching ``wanted`` (state failed unless given)."""

    actor: str
    reason: str
    message_ids: tuple[str, ...] = ()
    wanted: MessageFilter = field(default_factory=MessageFilter)
    dry_run: bool = False
    pin_mapping: bool = False
    max_legs: int | None = None  # bulk only: stop after this many legs
    batch_size: int = DEFAULT_REPLAY_BATCH_SIZE
    batch_interval_seconds: float = DEFAULT_REPLAY_BATCH_INTERVAL_SECONDS


@dataclass(frozen=True)
class _Leg:
    delivery_id: int
    message_id: str
    department: str
    state: str
    pruned: bool
    pin: str | None


def replay(store: Store, departments: Container[str], request: ReplayRequest) -> ReplayReport:
    """``departments``: the codes configured now; legs of others are refused, not replayed."""
    _check(request)
    now = store.clock()
    outcomes: list[LegOutcome] = []
    not_found: list[str] = []
    for number, (batch, missing) in enumerate(_batches(store, request)):
        release_at = now + timedelta(seconds=number * request.batch_interval_seconds)
        outcomes += _apply(store, batch, departments, request, release_at)
        not_found += missing
    if request.dry_run and outcomes:
        with store.engine.begin() as connection:
            record_actions(connection, [_dry_run_row(outcomes, request, now)])
    return ReplayReport(request.dry_run, tuple(outcomes), tuple(not_found))


def _check(request: ReplayRequest) -> None:
    check_filter(request.wanted)
    if not request.dry_run and not request.reason.strip():
        raise ClientError("a replay needs a reason (it is kept in the audit trail)")
    if not request.message_ids and request.wanted.state not in (None, *REPLAYABLE):
        raise ClientError(
            f"a bulk replay takes state failed, retrying or skipped, not {request.wanted.state}"
        )
    if request.batch_size < 1:
        raise ClientError("batch size must be at least 1")


def _batches(store: Store, request: ReplayRequest) -> Iterator[tuple[list[_Leg], list[str]]]:
    if request.message_ids:
        ids = list(dict.fromkeys(i.strip().lower() for i in request.message_ids))
        for start in range(0, len(ids), request.batch_size):
            yield _legs_of_messages(store, ids[start : start + request.batch_size], request)
        return
    after, left = 0, request.max_legs
    while left is None or left > 0:
        size = request.batch_size if left is None else min(left, request.batch_size)
        legs = _matching_legs(store, request, after, size)
        if not legs:
            return
        yield legs, []
        after = legs[-1].delivery_id
        left = None if left is None else left - len(legs)


def _legs_of_messages(
    store: Store, ids: list[str], request: ReplayRequest
) -> tuple[list[_Leg], list[str]]:
    with Session(store.engine) as session:
        found = set(session.scalars(select(MessageRow.id).where(MessageRow.id.in_(ids))))
        wanted = MessageFilter(department=request.wanted.department)
        query = _leg_query(leg_condition(wanted)).where(DeliveryRow.message_id.in_(ids))
        legs = _read_legs(session, query, request.pin_mapping)
    return legs, [i for i in ids if i not in found]


def _matching_legs(store: Store, request: ReplayRequest, after: int, size: int) -> list[_Leg]:
    wanted = request.wanted
    state = wanted.state or "failed"
    conditions = [*leg_condition(MessageFilter(state=state, department=wanted.department))]
    query = (
        _leg_query(conditions)
        .where(DeliveryRow.id > after, *message_conditions(wanted, store.identities))
        .limit(size)
    )
    with Session(store.engine) as session:
        return _read_legs(session, query, request.pin_mapping)


def _leg_query(conditions: list[ColumnElement[bool]]) -> Any:
    """A Select of (id, message_id, department, state, outbound_mapping, pruned_at)."""
    return (
        select(
            DeliveryRow.id,
            DeliveryRow.message_id,
            DeliveryRow.department,
            DeliveryRow.state,
            DeliveryRow.outbound_mapping,
            MessageRow.pruned_at,
        )
        .join(MessageRow, MessageRow.id == DeliveryRow.message_id)
        .where(*conditions)
        .order_by(DeliveryRow.id)
    )


def _read_legs(session: Session, query: Any, pin: bool) -> list[_Leg]:
    rows = session.execute(query).all()
    first = _first_mappings(session, [row[0] for row in rows]) if pin else {}
    return [
        _Leg(row[0], row[1], row[2], row[3], row[5] is not None, first.get(row[0]) or row[4])
        for row in rows
    ]


def _first_mappings(session: Session, delivery_ids: list[int]) -> dict[int, str]:
    """The mapping each delivery's first translated attempt used (what --pin-mapping keeps)."""
    first = (
        select(AttemptRow.delivery_id, func.min(AttemptRow.id).label("id"))
        .where(AttemptRow.delivery_id.in_(delivery_ids), AttemptRow.outbound_mapping.is_not(None))
        .group_by(AttemptRow.delivery_id)
        .subquery()
    )
    query = select(AttemptRow.delivery_id, AttemptRow.outbound_mapping).join(
        first, first.c.id == AttemptRow.id
    )
    return {row[0]: str(row[1]) for row in session.execute(query)}


def _decide(
    leg: _Leg, departments: Container[str], request: ReplayRequest
) -> tuple[LegResult, str]:
    dept = leg.department
    if leg.state == "delivered":
        return "skipped", f"already delivered to {dept}, skipped"
    if leg.state == "queued":
        return "skipped", f"already queued for {dept}, skipped"
    if leg.state == "delivering":
        return "skipped", f"being delivered to {dept} now, skipped"
    if leg.state == "waiting":
        return "skipped", f"already waiting in {dept}'s mailbox, skipped"
    if leg.state == "held":
        return "skipped", f"held for {dept}'s full mailbox (enters it as it drains), skipped"
    if dept not in departments:
        return "refused", f"department {dept} is no longer configured (disabled); not replayed"
    if leg.pruned:
        return "refused", f"the message's bodies were pruned; cannot replay to {dept}"
    verb = "would replay" if request.dry_run else "replayed"
    if not request.pin_mapping:
        return "replayed", f"{verb} to {dept} with the current mapping"
    if leg.pin is None:
        return "replayed", f"{verb} to {dept}; no mapping recorded yet, the current one is used"
    return "replayed", f"{verb} to {dept} with mapping pinned to {leg.pin}"


def _apply(
    store: Store,
    legs: list[_Leg],
    departments: Container[str],
    request: ReplayRequest,
    release_at: datetime,
) -> list[LegOutcome]:
    outcomes: list[LegOutcome] = []
    with store.engine.begin() as connection:  # writes first: no SQLite lock upgrade
        for leg in legs:
            result, note = _decide(leg, departments, request)
            if result == "replayed" and not request.dry_run:
                pin = leg.pin if request.pin_mapping else None
                if not _requeue(connection, leg.delivery_id, release_at, store.clock(), pin):
                    result, note = "skipped", f"{leg.department} changed meanwhile, skipped"
            outcomes.append(
                LegOutcome(leg.message_id, leg.department, leg.delivery_id, result, note)
            )
        if not request.dry_run:  # a dry run changes nothing: one entry for all, at the end
            record_actions(connection, _audit_rows(outcomes, request, store.clock()))
    if not request.dry_run:
        DELIVERIES_DUE.ring()  # a resting relay looks at once
    return outcomes


def _requeue(
    connection: Connection, delivery_id: int, release_at: datetime, now: datetime, pin: str | None
) -> bool:
    """Guarded: only a leg still failed, retrying or skipped goes back to the queue."""
    done = connection.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == delivery_id, DeliveryRow.state.in_(REPLAYABLE))
        .values(
            state="queued",
            lease_until=release_at,
            next_attempt_at=None,
            queued_at=now,
            attempts_at_replay=DeliveryRow.attempts,
            replays=DeliveryRow.replays + 1,
            pinned_mapping=pin,
        )
    )
    return done.rowcount == 1


def _audit_rows(
    outcomes: list[LegOutcome], request: ReplayRequest, now: datetime
) -> list[dict[str, Any]]:
    by_message: dict[str, list[dict[str, str]]] = {}
    for o in outcomes:
        by_message.setdefault(o.message_id, []).append(
            {"department": o.department, "result": o.result, "note": o.note}
        )
    return [
        action_values(
            "replay",
            actor=request.actor,
            reason=request.reason,
            dry_run=request.dry_run,
            at=now,
            message_id=message_id,
            detail={"legs": legs, "pin_mapping": request.pin_mapping},
        )
        for message_id, legs in by_message.items()
    ]


def _dry_run_row(
    outcomes: list[LegOutcome], request: ReplayRequest, now: datetime
) -> dict[str, Any]:
    """The one entry a dry run leaves: a message's legs when it named one message, else the
    counts (one entry per message made 2,033 rows for one preview)."""
    rows = _audit_rows(outcomes, request, now)
    if len(rows) == 1:
        return rows[0]
    results: dict[str, int] = {}
    for outcome in outcomes:
        results[outcome.result] = results.get(outcome.result, 0) + 1
    detail = {
        "messages": len(rows),
        "legs": len(outcomes),
        "results": results,
        "state": request.wanted.state,
        "department": request.wanted.department,
        "pin_mapping": request.pin_mapping,
    }
    return action_values(
        "replay", actor=request.actor, reason=request.reason, dry_run=True, at=now, detail=detail
    )
