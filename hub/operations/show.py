"""One message in full: every leg, every attempt, the bodies as received and as delivered."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import NotFound
from hub.identity import mask_in_text
from hub.operations.queries import leg_view, summaries
from hub.operations.text import body_text
from hub.operations.views import AttemptView, LegDetail, MessageDetail
from hub.security.payloads import canonical_context, original_context, payload_context
from hub.store import Store
from hub.store.models import AttemptRow, DeliveryRow, MessageRow


def show_message(store: Store, message_id: str, *, reveal: bool = False) -> MessageDetail:
    """Raises NotFound for an unknown id. Identity numbers are masked unless ``reveal``."""
    message_id = message_id.strip().lower()
    with Session(store.engine) as session:
        row = session.get(MessageRow, message_id)
        if row is None:
            raise NotFound(f"no message with id {message_id}")
        (summary,) = summaries(session, [message_id])
        opened = store.payloads.open
        legs = tuple(_leg(session, d, reveal, opened) for d in _deliveries(session, message_id))
        return MessageDetail(
            summary=summary,
            purpose=row.purpose,
            sent_at=row.sent_at,
            idempotency_key=row.idempotency_key if reveal else mask_in_text(row.idempotency_key),
            schema_version=row.schema_version,
            inbound_mapping=row.inbound_mapping,
            original_content_type=row.original_content_type,
            original_sha256=row.original_sha256,
            canonical_sha256=row.canonical_sha256,
            original=body_text(
                opened(row.original, original_context(row.id)),
                row.original_content_type,
                reveal=reveal,
            ),
            canonical=body_text(opened(row.canonical, canonical_context(row.id)), reveal=reveal),
            legs=legs,
        )


def _deliveries(session: Session, message_id: str) -> list[DeliveryRow]:
    query = select(DeliveryRow).where(DeliveryRow.message_id == message_id)
    return list(session.scalars(query.order_by(DeliveryRow.id)))


def _leg(
    session: Session, delivery: DeliveryRow, reveal: bool, opened: Callable[[bytes, bytes], bytes]
) -> LegDetail:
    query = select(AttemptRow).where(AttemptRow.delivery_id == delivery.id)
    attempts = session.scalars(query.order_by(AttemptRow.id))
    return LegDetail(
        leg=leg_view(delivery),
        attempts=tuple(attempt_view(n, a) for n, a in enumerate(attempts, start=1)),
        payload=body_text(
            opened(delivery.payload, payload_context(delivery.id)) if delivery.payload else None,
            reveal=reveal,
        ),
    )


def attempt_view(number: int, row: AttemptRow) -> AttemptView:
    return AttemptView(
        number=number,
        started_at=row.started_at,
        duration_ms=row.duration_ms,
        outcome=row.outcome,
        error_class=row.error_class,
        error_message=row.error_message,
        response_excerpt=row.response_excerpt,
        payload_sha256=row.payload_sha256,
        outbound_mapping=row.outbound_mapping,
    )
