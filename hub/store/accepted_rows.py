"""PostgreSQL: an accept batch's identity rows and deliveries in ONE statement.

Each table's rows travel as arrays (hub/store/arrays.py), so the statement's text is the same
whatever the batch: psycopg converts it once and the server prepares it once. The identity
rows are inserted by a data-modifying CTE of the deliveries' statement. The messages are not
in it: psycopg sends an array in text form, and a body's hex text in an array is escaped by a
regular expression in Python (a fifth of the API process's time under the size mix); alone,
each body goes as a binary parameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, text

from hub.store.arrays import ArrayInsert
from hub.store.models import DeliveryRow, MessageIdentityRow

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
_STATEMENT = text(f"WITH added_identities AS ({_IDENTITIES.sql}) " + _DELIVERIES.sql)


def insert(
    connection: Connection,
    identities: Sequence[Mapping[str, Any]],
    deliveries: Sequence[Mapping[str, Any]],
) -> list[int]:
    """Insert the rows (their messages are there already); the deliveries' ids in the order
    of ``deliveries``."""
    parameters = {
        **_IDENTITIES.parameters(identities),
        **_DELIVERIES.parameters(deliveries),
    }
    # RETURNING follows no promised order: each row is found by its message and department.
    returned = {
        (message_id, department): delivery_id
        for delivery_id, message_id, department in connection.execute(_STATEMENT, parameters)
    }
    return [returned[(row["message_id"], row["department"])] for row in deliveries]
