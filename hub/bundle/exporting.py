"""What waits for a network, written into one bundle; and the export ledger both kinds of
bundle (messages, receipts) number themselves in."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, and_, exists, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from hub.departments import DepartmentDirectory
from hub.errors import BundleRefused, ConfigurationError
from hub.security import audit
from hub.security.payloads import canonical_context
from hub.store import Store
from hub.store.models import DeliveryRow, MessageRow, UTCDateTime

from . import departments_behind
from .format import write_bundle
from .tables import bundle_exported_legs, bundle_exports

MESSAGES, RECEIPT = "messages", "receipt"
BUNDLE_EXPORTED = "bundle_exported"
HUB_ACTOR = "hub"


@dataclass(frozen=True)
class ExportResult:
    bundle_id: str
    network: str
    sequence: int
    messages: int
    legs: int
    path: Path


@dataclass(frozen=True)
class ExportRequest:
    """One bundle to make: from this hub's network ``own_network`` for network ``to``, into
    ``path``, sealed with ``key``; ``since``: carry again what bundles numbered ``since`` and
    later carried (a medium that was lost)."""

    own_network: str
    to: str
    since: int | None
    path: Path
    key: Ed25519PrivateKey


def export_bundle(
    store: Store, departments: DepartmentDirectory, request: ExportRequest
) -> ExportResult:
    """Every message with a leg waiting for ``request.to`` not yet carried by a bundle, in a
    new bundle. The file is written before the ledger commits: a failed write records nothing."""
    to = request.to
    codes = departments_behind(departments, to)
    if not codes:
        raise ConfigurationError(
            f"no department is reached through network {to!r} "
            '(adapter = "bundle" with options = { network = "' + to + '" })'
        )
    try:
        return _export(store, codes, request)
    except IntegrityError as exc:  # another export to ``to`` took this number meanwhile
        raise BundleRefused(
            f"another export to {to} ran at the same time and took its number; run it again"
        ) from exc


def _export(store: Store, codes: list[str], request: ExportRequest) -> ExportResult:
    bundle_id, now, to = str(uuid.uuid4()), store.clock(), request.to
    with store.engine.begin() as connection:
        sequence = record_export(connection, bundle_id, MESSAGES, to, 0, now)
        rows = _waiting(connection, codes, request.since)
        entries = _entries(store, rows)
        connection.execute(
            update(bundle_exports)
            .where(bundle_exports.c.bundle_id == bundle_id)
            .values(entries=len(entries))
        )
        legs = [row.delivery_id for row in rows]
        if legs:
            connection.execute(
                insert(bundle_exported_legs),
                [{"bundle_id": bundle_id, "delivery_id": leg} for leg in legs],
            )
        details = {"network": to, "sequence": sequence, "messages": len(entries), "legs": len(legs)}
        audit.append(
            connection,
            actor=HUB_ACTOR,
            action=BUNDLE_EXPORTED,
            subject=bundle_id,
            at=now,
            details=details,
        )
        heading = bundle_heading(bundle_id, MESSAGES, request.own_network, to, sequence, now)
        write_bundle(request.path, heading, entries, request.key)
    return ExportResult(bundle_id, to, sequence, len(entries), len(legs), request.path)


def record_export(
    connection: Connection, bundle_id: str, kind: str, network: str, entries: int, now: datetime
) -> int:
    """The next sequence number of ``kind`` for ``network``, taken for ``bundle_id``. One
    INSERT … SELECT, the transaction's first statement: it starts with the write lock (SQLite
    never upgrades a read lock here)."""
    last = (
        select(func.coalesce(func.max(bundle_exports.c.sequence), 0) + 1)
        .where(bundle_exports.c.network == network, bundle_exports.c.kind == kind)
        .scalar_subquery()
    )
    connection.execute(
        insert(bundle_exports).from_select(
            ["bundle_id", "kind", "network", "sequence", "made_at", "entries"],
            select(
                literal(bundle_id),
                literal(kind),
                literal(network),
                last,
                literal(now, UTCDateTime()),
                literal(entries),
            ),
        )
    )
    return int(
        connection.execute(
            select(bundle_exports.c.sequence).where(bundle_exports.c.bundle_id == bundle_id)
        ).scalar_one()
    )


def bundle_heading(
    bundle_id: str, kind: str, sender: str, to: str, sequence: int, now: datetime
) -> dict[str, Any]:
    return {
        "bundle_id": bundle_id,
        "kind": kind,
        "from": sender,
        "to": to,
        "sequence": sequence,
        "made_at": now.isoformat(),
    }


def _waiting(connection: Connection, codes: list[str], since: int | None) -> list[Any]:
    # Carried since the leg was last queued: a leg failed by a receipt and replayed travels again.
    carried = (
        select(bundle_exported_legs.c.delivery_id)
        .join(bundle_exports, bundle_exports.c.bundle_id == bundle_exported_legs.c.bundle_id)
        .where(
            bundle_exported_legs.c.delivery_id == DeliveryRow.id,
            bundle_exports.c.made_at
            >= func.coalesce(DeliveryRow.queued_at, MessageRow.received_at),
        )
    )
    if since is not None:
        carried = carried.where(bundle_exports.c.sequence < since)
    return list(
        connection.execute(
            select(
                DeliveryRow.id.label("delivery_id"),
                DeliveryRow.department,
                MessageRow.id.label("message_id"),
                MessageRow.message_type,
                MessageRow.sender,
                MessageRow.idempotency_key,
                MessageRow.correlation_id,
                MessageRow.purpose,
                MessageRow.sent_at,
                MessageRow.schema_version,
                MessageRow.canonical,
            )
            .join(MessageRow, MessageRow.id == DeliveryRow.message_id)
            .where(
                and_(
                    DeliveryRow.state == "waiting",
                    DeliveryRow.department.in_(codes),
                    ~exists(carried),
                )
            )
            .order_by(DeliveryRow.id)
        ).all()
    )


def _entries(store: Store, rows: list[Any]) -> dict[str, bytes]:
    """One entry per message, naming the legs (departments) it carries."""
    by_message: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = by_message.get(row.message_id)
        if entry is None:
            canonical = store.payloads.open(row.canonical, canonical_context(row.message_id))
            entry = by_message[row.message_id] = _message_entry(row, canonical)
        entry["legs"][str(row.delivery_id)] = row.department
    return {
        f"messages/{number:06d}.json": json.dumps(entry, ensure_ascii=False).encode("utf-8")
        for number, entry in enumerate(by_message.values(), start=1)
    }


def _message_entry(row: Any, canonical: bytes) -> dict[str, Any]:
    header: Mapping[str, Any] = {
        "messageId": row.message_id,
        "sender": row.sender,
        "messageType": row.message_type,
        "schemaVersion": row.schema_version,
        "correlationId": row.correlation_id,
        "idempotencyKey": row.idempotency_key,
        "purpose": row.purpose,
        "sentAt": row.sent_at.isoformat(),
    }
    return {"header": dict(header), "canonical": canonical.decode("utf-8"), "legs": {}}
