"""The messages of a bundle, checked and stored as if their senders had submitted them here.

Each entry passes the hub's own Submit checks (hub/ingress.py ``check_submit``: the header
schema, a sender this hub knows and lets send that type, the routes, the canonical schema,
identity numbers); the bundle's signature stands in for the sender's WS-Security. A message
this hub holds already (same sender and idempotency key) is a repeat; one that fails a check
is refused alone, its reason going back in the receipt."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from sqlalchemy import Connection, select

from hub import xmlparse
from hub.bus import DeliveryTask
from hub.errors import BundleInvalid, HubError
from hub.identity import mask_in_text
from hub.ingress import IngressRules, PreparedMessage, check_submit
from hub.resources import HEADER_NAMESPACE
from hub.security.scrubbing import without_passwords
from hub.store import NewMessage, Store
from hub.store.models import MessageRow

HEADER_FIELDS = (
    "messageId",
    "sender",
    "messageType",
    "schemaVersion",
    "correlationId",
    "idempotencyKey",
    "purpose",
    "sentAt",
)
BUNDLE_CONTENT_TYPE = "application/vnd.govhub.bundle-entry+xml"


@dataclass(frozen=True)
class Arrival:
    """One entry: its legs on the sending hub, and what became of it here."""

    legs: tuple[int, ...]
    prepared: PreparedMessage | None
    refusal: str | None = None


@dataclass
class Arrived:
    accepted: list[str] = field(default_factory=list)
    repeats: list[str] = field(default_factory=list)
    delivered_legs: list[int] = field(default_factory=list)
    refused_legs: dict[int, str] = field(default_factory=dict)
    tasks: list[DeliveryTask] = field(default_factory=list)


def arrivals(rules: IngressRules, entries: dict[str, bytes]) -> list[Arrival]:
    """Every entry checked; a signed entry that is not a message is the bundle's fault."""
    found = []
    for name, data in sorted(entries.items()):
        try:
            entry = json.loads(data)
            legs = tuple(int(leg) for leg in entry["legs"])
            header = _header(entry["header"])
            message = xmlparse.parse(entry["canonical"].encode("utf-8"))
        except (ValueError, KeyError, TypeError, AttributeError, HubError) as exc:
            raise BundleInvalid(f"entry {name} is not a message: {type(exc).__name__}") from exc
        try:
            found.append(Arrival(legs, _prepared(rules, header, message, data)))
        except HubError as refused:
            found.append(Arrival(legs, None, f"{refused.code}: {mask_in_text(refused.message)}"))
    return found


def store_arrivals(
    store: Store, connection: Connection, found: list[Arrival], lease_seconds: float
) -> Arrived:
    """New messages stored in the caller's transaction; repeats and refusals counted."""
    arrived, batch, seen = Arrived(), [], set()
    for arrival in found:
        if arrival.prepared is None:
            arrived.refused_legs.update(dict.fromkeys(arrival.legs, arrival.refusal or ""))
            continue
        message = arrival.prepared.message
        held = _held(connection, message)
        if held is not None and held != (message.sender, message.idempotency_key):
            reason = f"Client.MessageIdTaken: message id {message.message_id} is taken here"
            arrived.refused_legs.update(dict.fromkeys(arrival.legs, reason))
            continue
        arrived.delivered_legs.extend(arrival.legs)
        if held is not None or (message.sender, message.idempotency_key) in seen:
            arrived.repeats.append(message.message_id)
            continue
        seen.add((message.sender, message.idempotency_key))
        batch.append((message, tuple(dict.fromkeys(arrival.prepared.receivers))))
    for receipt in store.save_accepted_on(connection, batch, lease_seconds) if batch else []:
        arrived.accepted.append(receipt.message_id)
        arrived.tasks.extend(
            DeliveryTask(d.delivery_id, d.department, d.idempotency_key) for d in receipt.deliveries
        )
    return arrived


def _held(connection: Connection, message: NewMessage) -> tuple[str, str] | None:
    """(sender, idempotency key) of the message this hub holds under the same id or the same
    sender and key, if any."""
    row = connection.execute(
        select(MessageRow.sender, MessageRow.idempotency_key).where(
            (MessageRow.id == message.message_id)
            | (
                (MessageRow.sender == message.sender)
                & (MessageRow.idempotency_key == message.idempotency_key)
            )
        )
    ).first()
    return None if row is None else (str(row.sender), str(row.idempotency_key))


def _header(fields: dict[str, Any]) -> etree._Element:
    header = etree.Element(f"{{{HEADER_NAMESPACE}}}header", nsmap={"h": HEADER_NAMESPACE})
    for name in HEADER_FIELDS:
        value = fields.get(name)
        if value is not None:
            etree.SubElement(header, f"{{{HEADER_NAMESPACE}}}{name}").text = str(value)
    return header


def _prepared(
    rules: IngressRules, header: etree._Element, message: etree._Element, entry: bytes
) -> PreparedMessage:
    checked = check_submit(rules, header, message)
    fields = checked.fields
    return PreparedMessage(
        NewMessage(
            message_id=fields["messageId"].lower(),
            message_type=checked.message_type,
            sender=checked.sender,
            correlation_id=fields.get("correlationId") or None,
            idempotency_key=fields["idempotencyKey"],
            purpose=fields["purpose"],
            sent_at=checked.sent_at,
            schema_version=fields["schemaVersion"],
            original=without_passwords(entry),
            original_content_type=BUNDLE_CONTENT_TYPE,
            canonical=checked.canonical,
            inbound_mapping=None,
            identity_numbers=checked.identity_numbers,
            skipped=checked.routed.skipped,
        ),
        checked.routed.receivers,
    )
