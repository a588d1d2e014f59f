"""The operators' audit trail: one row per action on one message (or on none, e.g. prune).

Issue 5 will chain these rows with hashes; until then they are plain inserts.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

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


def actions_for(session: Session, message_id: str) -> list[OperatorActionRow]:
    query = select(OperatorActionRow).where(OperatorActionRow.message_id == message_id)
    return list(session.scalars(query.order_by(OperatorActionRow.id)))
