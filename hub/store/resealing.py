"""Re-encrypt stored bodies under the current key (after a key rotation), and seal the plain
bodies of older rows once payload encryption is on; originals lose any wsse:Password on the way
(hub/store/credential_scrub.py: those sealed ones migration 0006 could not open). Short
transactions, one batch each, so traffic waits at most one batch; safe to run again (a body
already current is left alone)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from hub.security import audit
from hub.security.encryption import KeyRing
from hub.security.payloads import canonical_context, original_context, payload_context
from hub.store.credential_scrub import scrubbed_original
from hub.store.models import DeliveryRow, MessageRow
from hub.store.store import Store

DEFAULT_BATCH = 200
Reseal = Callable[[bytes, bytes], bytes]


@dataclass(frozen=True)
class ResealReport:
    messages: int  # message rows with at least one body rewritten
    deliveries: int  # delivered payloads rewritten


def reseal_payloads(store: Store, *, actor: str, batch: int = DEFAULT_BATCH) -> ResealReport:
    """Every body under the current key; audited as one ``admin_change`` entry."""
    reseal, keys = store.payloads.reseal, store.payloads.keys
    messages = _walk(store, batch, lambda c, after: _messages(c, after, batch, reseal, keys))
    deliveries = _walk(store, batch, lambda c, after: _deliveries(c, after, batch, reseal))
    with store.engine.begin() as connection:
        audit.append(
            connection,
            actor=actor,
            action=audit.ADMIN_CHANGE,
            subject="payloads",
            at=store.clock(),
            details={"change": "payloads_resealed", "messages": messages, "deliveries": deliveries},
        )
    return ResealReport(messages, deliveries)


def _walk(store: Store, batch: int, step: Callable[[Connection, Any], tuple[int, Any, int]]) -> int:
    """Run ``step`` batch after batch (keyset on the primary key) until a short batch."""
    changed, after = 0, None
    while True:
        with store.engine.begin() as connection:
            rewritten, after, seen = step(connection, after)
        changed += rewritten
        if seen < batch:
            return changed


def _messages(
    connection: Connection, after: str | None, batch: int, reseal: Reseal, keys: KeyRing | None
) -> tuple[int, str | None, int]:
    query = select(MessageRow.id, MessageRow.original, MessageRow.canonical).order_by(MessageRow.id)
    if after is not None:
        query = query.where(MessageRow.id > after)
    rows = connection.execute(query.limit(batch)).all()
    changed = 0
    for row in rows:
        context = original_context(row.id)
        scrubbed = scrubbed_original(row.original, context, keys)
        original = reseal(row.original if scrubbed is None else scrubbed, context)
        canonical = reseal(row.canonical, canonical_context(row.id))
        if (original, canonical) != (row.original, row.canonical):
            values = {"original": original, "canonical": canonical}
            connection.execute(update(MessageRow).where(MessageRow.id == row.id).values(values))
            changed += 1
    return changed, rows[-1].id if rows else after, len(rows)


def _deliveries(
    connection: Connection, after: int | None, batch: int, reseal: Reseal
) -> tuple[int, int | None, int]:
    query = select(DeliveryRow.id, DeliveryRow.payload).where(DeliveryRow.payload.is_not(None))
    query = query.where(DeliveryRow.id > (after or 0)).order_by(DeliveryRow.id)
    rows = connection.execute(query.limit(batch)).all()
    changed = 0
    for row in rows:
        payload = reseal(row.payload, payload_context(row.id))
        if payload != row.payload:
            update_row = update(DeliveryRow).where(DeliveryRow.id == row.id)
            connection.execute(update_row.values(payload=payload))
            changed += 1
    return changed, rows[-1].id if rows else after, len(rows)
