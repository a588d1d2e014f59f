"""The way back: a receipt bundle names the legs of the sending hub that the importing hub
took (stored, or held already) and those it refused with why; importing it on the sending
hub settles those legs as a mailbox's Ack or Nack would: delivered or failed, with an attempt
row and an audit entry ``"via": "bundle"``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, insert, update

from hub.errors import BundleInvalid
from hub.observability import metrics
from hub.security import audit
from hub.store import Store
from hub.store.models import AttemptRow, DeliveryRow

from .exporting import RECEIPT, bundle_heading, record_export
from .format import write_bundle

RECEIPT_ENTRY = "receipt.json"


@dataclass(frozen=True)
class ReceiptContent:
    for_bundle: str
    delivered: tuple[int, ...]
    refused: Mapping[int, str]

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "for_bundle": self.for_bundle,
                "delivered": list(self.delivered),
                "refused": {str(leg): why for leg, why in self.refused.items()},
            },
            ensure_ascii=False,
        ).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> ReceiptContent:
        try:
            raw = json.loads(data)
            return cls(
                str(raw["for_bundle"]),
                tuple(int(leg) for leg in raw["delivered"]),
                {int(leg): str(why) for leg, why in dict(raw["refused"]).items()},
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BundleInvalid(f"{RECEIPT_ENTRY} is not a receipt: {type(exc).__name__}") from exc


@dataclass(frozen=True)
class Settled:
    delivered: int
    failed: int
    already: int  # legs the receipt names that were no longer waiting here


def write_receipt(
    store: Store,
    content: ReceiptContent,
    *,
    own_network: str,
    to: str,
    path: Path,
    key: Ed25519PrivateKey,
) -> int:
    """Write the receipt bundle for ``to``; its sequence number."""
    bundle_id, now = str(uuid.uuid4()), store.clock()
    with store.engine.begin() as connection:
        entries = {RECEIPT_ENTRY: content.to_json()}
        sequence = record_export(connection, bundle_id, RECEIPT, to, 1, now)
        heading = bundle_heading(bundle_id, RECEIPT, own_network, to, sequence, now)
        write_bundle(path, heading, entries, key)
    return sequence


def settle(
    connection: Connection,
    content: ReceiptContent,
    departments: list[str],
    *,
    bundle_id: str,
    now: datetime,
) -> Settled:
    """Move each named leg that still waits for one of ``departments``."""
    delivered = failed = already = 0
    outcomes: list[tuple[int, str | None]] = [(leg, None) for leg in content.delivered]
    outcomes += list(content.refused.items())
    for leg, refusal in outcomes:
        row = _moved(connection, leg, departments, refusal, now)
        if row is None:
            already += 1
            continue
        _record(connection, row, leg, refusal, bundle_id, now)
        delivered += refusal is None
        failed += refusal is not None
        metrics.DELIVERIES.labels(row.department, "failed" if refusal else "delivered").inc()
    return Settled(delivered, failed, already)


def _moved(
    connection: Connection, leg: int, departments: list[str], refusal: str | None, now: datetime
) -> Any:
    values: dict[str, object] = (
        {"state": "delivered", "delivered_at": now, "last_error": None}
        if refusal is None
        else {"state": "failed", "last_error": f"refused by the importing hub: {refusal}"}
    )
    return connection.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.id == leg,
            DeliveryRow.state == "waiting",
            DeliveryRow.department.in_(departments),
        )
        .values(**values)
        .returning(DeliveryRow.message_id, DeliveryRow.department, DeliveryRow.attempts)
    ).first()


def _record(
    connection: Connection, row: Any, leg: int, refusal: str | None, bundle_id: str, now: datetime
) -> None:
    connection.execute(
        insert(AttemptRow).values(
            delivery_id=leg,
            started_at=now,
            duration_ms=0,
            outcome="failed" if refusal else "delivered",
            error_class="BundleRefusal" if refusal else None,
            error_message=refusal,
            response_excerpt=None if refusal else f"receipt bundle {bundle_id}",
        )
    )
    audit.append(
        connection,
        actor=row.department,
        action=audit.DELIVERY_ATTEMPT,
        subject=row.message_id,
        at=now,
        details={
            "department": row.department,
            "attempt": row.attempts,
            "outcome": "failed" if refusal else "delivered",
            "via": "bundle",
            "receipt": bundle_id,
        },
    )
