"""Storing an accepted message with its deliveries, and reading a message's status."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import IdempotencyConflict, MessageIdTaken, NotFound
from hub.identity import mask_in_text
from hub.security import audit
from hub.security.payloads import PayloadSealer, canonical_context, original_context
from hub.store import repeats
from hub.store.identities import IdentityHasher, identity_numbers
from hub.store.models import DeliveryRow, MessageRow
from hub.store.records import (
    DeliveryStatus,
    MessageStatus,
    NewMessage,
    Receipt,
    message_state,
)

# Fixed namespace: the key a department sees for a message never changes between attempts.
_DELIVERY_KEY_NAMESPACE = uuid.UUID("6f1c1a52-8c4b-4f55-9d8e-2a7b0c5e9d31")


def delivery_key(message_id: str, department: str) -> str:
    """The one idempotency key a department gets for a message, on every attempt."""
    return str(uuid.uuid5(_DELIVERY_KEY_NAMESPACE, f"{message_id}/{department}"))


def accepted_entry(
    values: Mapping[str, Any],
    receivers: Sequence[str],
    now: datetime,
    skipped: Sequence[tuple[str, str]] = (),
) -> audit.NewEntry:
    """Proof of what arrived (original hash), what it became (canonical hash, mapping), and
    where it goes. ``values``: the message's row, as ``message_values`` makes it."""
    return audit.NewEntry(
        actor=values["sender"],
        action=audit.ACCEPTED,
        subject=values["id"],
        at=now,
        details={
            "message_type": values["message_type"],
            "idempotency_key": values["idempotency_key"],
            "original_sha256": values["original_sha256"],
            "canonical_sha256": values["canonical_sha256"],
            "inbound_mapping": values["inbound_mapping"],
            "receivers": list(receivers),
            **({"skipped": [code for code, _ in skipped]} if skipped else {}),
        },
    )


def forward_received_entry(
    message: NewMessage, receivers: Sequence[str], now: datetime
) -> audit.NewEntry:
    """A forward taken in from a neighbour hub: from whom, through which hubs, for whom."""
    return audit.NewEntry(
        actor=message.sender,
        action=audit.FORWARD_RECEIVED,
        subject=message.message_id,
        at=now,
        details={
            "messageType": message.message_type,
            "receivers": list(receivers),
            "path": list(message.hub_path),
        },
    )


def audit_entries(
    values: Mapping[str, Any], message: NewMessage, receivers: Sequence[str], now: datetime
) -> list[audit.NewEntry]:
    """What the accept's transaction chains for one message: its acceptance and, for a
    forward, its arrival from the neighbour hub (one lock of the chain's head, not two)."""
    accepted = accepted_entry(values, receivers, now, message.skipped)
    if not message.hub_path:
        return [accepted]
    return [accepted, forward_received_entry(message, receivers, now)]


def identity_values(message: NewMessage, hasher: IdentityHasher) -> list[dict[str, Any]]:
    """The identity-lookup rows of a message (for any code that inserts messages)."""
    numbers = message.identity_numbers
    if numbers is None:
        numbers = identity_numbers(message.canonical)
    return [
        {"message_id": message.message_id, "identity_sha256": digest, "key_id": hasher.key_id}
        for digest in sorted(hasher.number_hashes(numbers))
    ]


def delivery_values(
    message: NewMessage, receivers: Sequence[str], now: datetime, lease_until: datetime
) -> list[dict[str, Any]]:
    """The queued delivery rows of a message, one per receiver, then a skipped row for each
    receiver its route condition failed on (never claimed: not a pending state)."""
    queued = [
        _delivery_row(message, department, now, "queued", lease_until, None)
        for department in receivers
    ]
    skipped = [
        _delivery_row(message, department, now, "skipped", now, why)
        for department, why in message.skipped
        if department not in receivers
    ]
    return queued + skipped


def _delivery_row(
    message: NewMessage,
    department: str,
    now: datetime,
    state: str,
    lease_until: datetime,
    error: str | None,
) -> dict[str, Any]:
    return {
        "message_id": message.message_id,
        "department": department,
        "state": state,
        "attempts": 0,
        "lease_until": lease_until,
        "last_error": error,
        "idempotency_key": delivery_key(message.message_id, department),
        "queued_at": now,
        "received_at": now,  # the message's own (message_values): state filters sort by it
    }


def existing_receipt(
    session: Session, message: NewMessage, sealer: PayloadSealer | None = None
) -> Receipt | None:
    """The receipt of an earlier message with the same sender, idempotency key and record;
    IdempotencyConflict if that earlier message holds another record; MessageIdTaken if the
    message id is taken (by this sender or any other: the answer does not say)."""
    found = session.execute(
        select(MessageRow.id, MessageRow.canonical_sha256).where(
            MessageRow.sender == message.sender,
            MessageRow.idempotency_key == message.idempotency_key,
        )
    ).first()
    if found is None:
        if session.get(MessageRow, message.message_id) is not None:
            raise MessageIdTaken(
                f"message id {message.message_id} is already taken; "
                "send the message again with a new message id"
            )
        return None
    first_id, stored_sha256 = found
    if not repeats.same_record(
        stored_sha256, lambda: _stored_canonical(session, first_id, sealer), message.canonical
    ):
        raise IdempotencyConflict(mask_in_text(message.idempotency_key), first_id)
    status = read_status(session, first_id)
    receivers = tuple(d.department for d in status.deliveries if d.state != "skipped")
    return Receipt(status.message_id, status.state, receivers, duplicate=True)


def _stored_canonical(session: Session, message_id: str, sealer: PayloadSealer | None) -> bytes:
    """A stored message's canonical body, opened (b"" once pruned)."""
    sealed = session.scalar(select(MessageRow.canonical).where(MessageRow.id == message_id))
    return (sealer or PayloadSealer()).open(sealed or b"", canonical_context(message_id))


def read_status(session: Session, message_id: str) -> MessageStatus:
    row = session.get(MessageRow, message_id)
    if row is None:
        raise NotFound(f"no message with id {message_id}")
    deliveries = session.scalars(
        select(DeliveryRow).where(DeliveryRow.message_id == message_id).order_by(DeliveryRow.id)
    ).all()
    statuses = tuple(
        DeliveryStatus(d.department, d.state, d.attempts, d.last_error, d.delivered_at)
        for d in deliveries
    )
    return MessageStatus(
        message_id=row.id,
        message_type=row.message_type,
        sender=row.sender,
        state=message_state([d.state for d in statuses]),
        received_at=row.received_at,
        correlation_id=row.correlation_id,
        deliveries=statuses,
    )


def message_values(
    message: NewMessage, now: datetime, sealer: PayloadSealer | None = None
) -> dict[str, Any]:
    """The message's row. Hashes over the plain bytes; the bodies sealed when payload
    encryption is on."""
    sealer = sealer or PayloadSealer()
    return {
        "id": message.message_id,
        "message_type": message.message_type,
        "sender": message.sender,
        "correlation_id": message.correlation_id,
        "idempotency_key": message.idempotency_key,
        "purpose": message.purpose,
        "sent_at": message.sent_at,
        "received_at": now,
        "schema_version": message.schema_version,
        "inbound_mapping": message.inbound_mapping,
        "original": sealer.seal(message.original, original_context(message.message_id)),
        "original_content_type": message.original_content_type,
        "original_sha256": hashlib.sha256(message.original).hexdigest(),
        "canonical": sealer.seal(message.canonical, canonical_context(message.message_id)),
        "canonical_sha256": hashlib.sha256(message.canonical).hexdigest(),
    }


def find_message_id(session: Session, sender: str, idempotency_key: str) -> str | None:
    found: str | None = session.scalar(
        select(MessageRow.id).where(
            MessageRow.sender == sender, MessageRow.idempotency_key == idempotency_key
        )
    )
    return found
