""" "Did every department get it?": one citizen event's legs, found by message id,
correlation id or identity number."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import NotFound
from hub.identity import is_valid, mask
from hub.operations.queries import filtered, summaries
from hub.operations.views import LegView, MessageFilter, MessageSummary, TraceAnswer
from hub.store import Store
from hub.store.identities import IdentityHasher
from hub.store.models import MessageRow

MAX_TRACED = 100


def trace(store: Store, key: str) -> list[TraceAnswer]:
    """Every message the key names, newest first; NotFound if none.

    The key is a message id, else a correlation id, or an identity number (all of that
    person's messages)."""
    key = key.strip()
    with Session(store.engine) as session:
        ids = _find(session, key, store.identities)
        if not ids:
            shown = mask(key) if is_valid(key.upper()) else key
            raise NotFound(f"no message with id, correlation id or identity number {shown}")
        return [answer(summary) for summary in summaries(session, ids)]


def answer(message: MessageSummary) -> TraceAnswer:
    missing = [leg for leg in message.legs if leg.state != "delivered"]
    if not missing:
        return TraceAnswer(message, True, "yes: every department confirmed it")
    return TraceAnswer(message, False, "no: " + "; ".join(_why(leg) for leg in missing))


def _why(leg: LegView) -> str:
    if leg.state == "failed":
        return f"{leg.department} failed ({leg.last_error or 'no error recorded'})"
    if leg.state == "retrying":
        return f"{leg.department} retrying after {leg.attempts} attempt(s) ({leg.last_error})"
    if leg.state == "waiting":
        # A mailbox's Ack, or a transfer bundle's receipt (hub/bundle), settles it.
        return f"{leg.department} waiting: not acknowledged yet (mailbox or bundle receipt)"
    if leg.state == "held":
        return (
            f"{leg.department} held: its mailbox is at its quota; "
            "it enters the mailbox as the department acknowledges"
        )
    return f"{leg.department} {leg.state}"


def _find(session: Session, key: str, identities: IdentityHasher) -> list[str]:
    newest = (MessageRow.received_at.desc(), MessageRow.id)
    if is_valid(key.upper()):
        person = filtered(MessageFilter(person=key.upper()), identities)
        query = person.order_by(*newest).limit(MAX_TRACED)
        return list(session.scalars(query))
    if session.get(MessageRow, key.lower()) is not None:
        return [key.lower()]
    query = select(MessageRow.id).where(MessageRow.correlation_id == key)
    return list(session.scalars(query.order_by(*newest).limit(MAX_TRACED)))
