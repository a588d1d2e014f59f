"""Finding messages by state, department, type, time and person; reading their legs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import CTE, Select, exists, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from hub.errors import ClientError
from hub.identity import is_valid, mask
from hub.operations import newest
from hub.operations.views import FILTER_STATES, LegView, MessageFilter, MessageSummary
from hub.store import Store
from hub.store.identities import IdentityHasher
from hub.store.models import DeliveryRow, MessageIdentityRow, MessageRow
from hub.store.records import PENDING_STATES, message_state

# Legs in these states are few (a year of traffic: 3% of them), and indexed apart.
_RARE_STATES = frozenset(FILTER_STATES) - {"delivered"}


def check_filter(wanted: MessageFilter) -> None:
    """Refuse a filter that cannot mean anything (ClientError names the field)."""
    if wanted.state is not None and wanted.state not in FILTER_STATES:
        raise ClientError(f"unknown state {wanted.state!r}; one of {', '.join(FILTER_STATES)}")
    if wanted.person is not None and not is_valid(wanted.person.strip().upper()):
        raise ClientError(f"{mask(wanted.person)} is not a valid identity number (GB 11643)")
    if wanted.since and wanted.until and wanted.since > wanted.until:
        raise ClientError("since is after until")
    if wanted.limit < 1:
        raise ClientError("limit must be at least 1")


def leg_condition(wanted: MessageFilter) -> list[ColumnElement[bool]]:
    """Conditions on deliveries for the filter's state and department."""
    conditions: list[ColumnElement[bool]] = []
    if wanted.state == "accepted":
        conditions.append(DeliveryRow.state.in_(PENDING_STATES))
    elif wanted.state is not None:
        conditions.append(DeliveryRow.state == wanted.state)
    if wanted.department is not None:
        conditions.append(DeliveryRow.department == wanted.department)
    return conditions


def message_conditions(
    wanted: MessageFilter, identities: IdentityHasher
) -> list[ColumnElement[bool]]:
    """Conditions on messages for type, sender, correlation id, time and person (found
    under any index key)."""
    conditions = _own_conditions(wanted)
    if wanted.person is not None:
        conditions.append(
            exists().where(
                MessageIdentityRow.message_id == MessageRow.id,
                MessageIdentityRow.identity_sha256.in_(identities.lookup_digests(wanted.person)),
            )
        )
    return conditions


def _own_conditions(wanted: MessageFilter) -> list[ColumnElement[bool]]:
    return [*_message_fields(wanted), *_arrival_conditions(wanted, MessageRow.received_at)]


def _message_fields(wanted: MessageFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if wanted.message_type is not None:
        conditions.append(MessageRow.message_type == wanted.message_type)
    if wanted.sender is not None:
        conditions.append(MessageRow.sender == wanted.sender)
    if wanted.correlation_id is not None:
        conditions.append(MessageRow.correlation_id == wanted.correlation_id)
    return conditions


def _arrival_conditions(
    wanted: MessageFilter, arrival: InstrumentedAttribute[Any]
) -> list[ColumnElement[bool]]:
    """Since and until on a message's arrival, or on its copy on a leg (the same value)."""
    conditions: list[ColumnElement[bool]] = []
    if wanted.since is not None:
        conditions.append(arrival >= wanted.since)
    if wanted.until is not None:
        conditions.append(arrival < wanted.until)
    return conditions


def filtered(wanted: MessageFilter, identities: IdentityHasher) -> Select[Any]:
    """The ids of the messages the filter names, unordered, started from its rarest part.

    A person's messages come from the identity index, a state other than delivered (beside a
    person: alone, ``page_ids`` walks the legs instead) from the partial index of the legs
    not delivered (migration 0023_storage); each is read whole first (a MATERIALIZED CTE, so
    neither planner walks every message newest first hoping to meet them: 12 s on SQLite,
    5.3 s on PostgreSQL when the failures were old).
    """
    query = select(MessageRow.id).where(*_own_conditions(wanted))
    if wanted.person is not None:
        digests = identities.lookup_digests(wanted.person)
        person = select(MessageIdentityRow.message_id).where(
            MessageIdentityRow.identity_sha256.in_(digests)
        )
        query = _joined(query, _first(person, "person_messages"))
    legs = leg_condition(wanted)
    if wanted.state in _RARE_STATES:
        rare = select(DeliveryRow.message_id).where(newest.NOT_DELIVERED, *legs)
        query = _joined(query, _first(rare, "rare_legs"))
    elif legs:
        query = query.where(exists().where(DeliveryRow.message_id == MessageRow.id, *legs))
    return query


def _first(ids: Select[Any], name: str) -> CTE:
    return ids.distinct().cte(name).prefix_with("MATERIALIZED")


def _joined(query: Select[Any], ids: CTE) -> Select[Any]:
    return query.join(ids, ids.c.message_id == MessageRow.id)


def page_ids(
    session: Session,
    wanted: MessageFilter,
    identities: IdentityHasher,
    start: newest.Key | None = None,
    count: int | None = None,
) -> list[str]:
    """The ids of the messages the filter names, newest first (then by id), at most ``count``
    (default: the filter's limit), after ``start`` (the last message of the page before).

    A state other than delivered is walked from its legs in this order and stopped at the
    page (hub/operations/newest.py); with a person, the person's few messages come first."""
    count = count or wanted.limit
    if wanted.state in _RARE_STATES and wanted.person is None:
        legs = [*leg_condition(wanted), *_arrival_conditions(wanted, DeliveryRow.received_at)]
        return newest.message_ids(session, legs, _message_fields(wanted), start, count)
    query = filtered(wanted, identities)
    if start is not None:
        query = query.where(newest.after(MessageRow.received_at, MessageRow.id, start))
    query = query.order_by(MessageRow.received_at.desc(), MessageRow.id).limit(count)
    return list(session.scalars(query))


def list_messages(store: Store, wanted: MessageFilter) -> list[MessageSummary]:
    check_filter(wanted)
    with Session(store.engine) as session:
        return summaries(session, page_ids(session, wanted, store.identities))


def summaries(session: Session, message_ids: Sequence[str]) -> list[MessageSummary]:
    """The messages with all their legs, in the order of ``message_ids``."""
    if not message_ids:
        return []
    rows = {
        r.id: r for r in session.scalars(select(MessageRow).where(MessageRow.id.in_(message_ids)))
    }
    legs = legs_of(session, list(rows))
    return [_summary(rows[i], legs.get(i, ())) for i in message_ids if i in rows]


def legs_of(session: Session, message_ids: list[str]) -> dict[str, tuple[LegView, ...]]:
    found: dict[str, list[LegView]] = {}
    query = select(DeliveryRow).where(DeliveryRow.message_id.in_(message_ids))
    for row in session.scalars(query.order_by(DeliveryRow.id)):
        found.setdefault(row.message_id, []).append(leg_view(row))
    return {key: tuple(value) for key, value in found.items()}


def leg_view(row: DeliveryRow) -> LegView:
    return LegView(
        delivery_id=row.id,
        department=row.department,
        state=row.state,
        attempts=row.attempts,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        next_attempt_at=row.next_attempt_at if row.state == "retrying" else None,
        outbound_mapping=row.outbound_mapping,
        pinned_mapping=row.pinned_mapping,
        replays=row.replays or 0,
        idempotency_key=row.idempotency_key,
    )


def _summary(row: MessageRow, legs: tuple[LegView, ...]) -> MessageSummary:
    return MessageSummary(
        message_id=row.id,
        message_type=row.message_type,
        sender=row.sender,
        state=message_state([leg.state for leg in legs]),
        received_at=row.received_at,
        correlation_id=row.correlation_id,
        pruned_at=row.pruned_at,
        legs=legs,
    )
