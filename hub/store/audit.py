"""The operators' audit trail: one row per action on one message (or on none, e.g. prune),
each also appended to the hash-chained audit log (hub/security/audit.py) in the same
transaction, so an operator's action cannot be quietly removed afterwards.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from hub.security import audit as chain
from hub.store.models import OperatorActionRow


def action_values(
    action: str,
    *,
    actor: str,
    reason: str,
    dry_run: bool,
    at: datetime,
    message_id: str | None = None,
    detail: Any = None,
) -> dict[str, Any]:
    return {
        "action": action,
        "actor": actor,
        "reason": reason,
        "dry_run": dry_run,
        "at": at,
        "message_id": message_id,
        "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True),
    }


def record_actions(connection: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(insert(OperatorActionRow), rows)
    chain.append_many(connection, [_chain_entry(row) for row in rows])


def _chain_entry(row: dict[str, Any]) -> chain.NewEntry:
    return chain.NewEntry(
        actor=row["actor"],
        action=chain.REPLAYED if row["action"] == "replay" else row["action"],
        subject=row["message_id"] or row["action"],
        at=row["at"],
        details={
            "reason": row["reason"],
            "dry_run": row["dry_run"],
            "detail": json.loads(row["detail"]),
        },
    )


def actions_for(session: Session, message_id: str) -> list[OperatorActionRow]:
    query = select(OperatorActionRow).where(OperatorActionRow.message_id == message_id)
    return list(session.scalars(query.order_by(OperatorActionRow.id)))
