"""PostgreSQL: an accept batch's messages, identity rows and deliveries in ONE statement.

Each table's rows travel as arrays (hub/store/arrays.py), so the statement's text is the same
whatever the batch: psycopg converts it once and the server prepares it once. The messages
are inserted by a data-modifying CTE of the deliveries' statement; the foreign keys are
checked at the end of the statement, when the messages are there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, text

from hub.store.arrays import ArrayInsert
from hub.store.models import DeliveryRow, MessageIdentityRow, MessageRow

_MESSAGES = ArrayInsert(
    MessageRow.__table__,  # type: ignore[arg-type]
    [c.name for c in MessageRow.__table__.columns if c.name != "pruned_at"],  # as accepting writes
    prefix="m_",
)
_IDENTITIES = ArrayInsert(
    MessageIdentityRow.__table__,  # type: ignore[arg-type]
    ("message_id", "identity_sha256", "key_id"),
    prefix="i_",
)
_DELIVERIES = ArrayInsert(
    DeliveryRow.__table__,  # type: ignore[arg-type]
    [
        "message_id",
        "department",
        "state",
        "attempts",
        "lease_until",
        "last_error",
        "idempotency_key",
        "queued_at",
    ],
    returning=("id", "message_id", "department"),
    prefix="d_",  # the tables share column names (message_id, idempotency_key)
)
_STATEMENT = text(
    f"WITH added_messages AS ({_MESSAGES.sql}), added_identities AS ({_IDENTITIES.sql}) "
    + _DELIVERIES.sql
)


def insert(
    connection: Connection,
    messages: Sequence[Mapping[str, Any]],
    identities: Sequence[Mapping[str, Any]],
    deliveries: Sequence[Mapping[str, Any]],
) -> list[int]:
    """Insert the rows; the deliveries' ids in the order of ``deliveries``."""
    parameters = {
        **_MESSAGES.parameters(messages),
        **_IDENTITIES.parameters(identities),
        **_DELIVERIES.parameters(deliveries),
    }
    # RETURNING follows no promised order: each row is found by its message and department.
    returned = {
        (message_id, department): delivery_id
        for delivery_id, message_id, department in connection.execute(_STATEMENT, parameters)
    }
    return [returned[(row["message_id"], row["department"])] for row in deliveries]
