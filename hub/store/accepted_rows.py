"""PostgreSQL: an accept batch's identity rows and deliveries, and the audit head moved on
for its entries, in ONE statement.

Each table's rows travel as arrays (hub/store/arrays.py), so the statement's text is the same
whatever the batch: psycopg converts it once and the server prepares it once. The identity
rows are inserted by a data-modifying CTE of the deliveries' statement. The messages are not
in it: psycopg sends an array in text form, and a body's hex text in an array is escaped by a
regular expression in Python (a fifth of the API process's time under the size mix); alone,
each body goes as a binary parameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, TextClause, text

from hub.security import audit
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
        "received_at",
    ],
    returning=("id", "message_id", "department"),
    prefix="d_",  # the tables share column names (message_id, idempotency_key)
)


@cache
def _statement() -> TextClause:
    """The audit head is moved on by the batch's entries here too (one round trip fewer): its
    lock is then held from this statement on, where it was from the next one. Built on first
    use: hub.security.audit and the store import each other."""
    return text(
        f"WITH added_identities AS ({_IDENTITIES.sql}), "
        f"head AS ({audit.TAKE_HEAD_SQL}), "
        f"added_deliveries AS ({_DELIVERIES.sql}) "
        "SELECT head.seq, head.hash, added_deliveries.* "
        "FROM head LEFT JOIN added_deliveries ON true"
    )


def insert(
    connection: Connection,
    identities: Sequence[Mapping[str, Any]],
    deliveries: Sequence[Mapping[str, Any]],
    entries: int,
) -> tuple[list[int], audit.TakenHead]:
    """Insert the rows (their messages are there already) and move the audit head on by
    ``entries``; the deliveries' ids in the order of ``deliveries``, and the head taken."""
    parameters = {
        **_IDENTITIES.parameters(identities),
        **_DELIVERIES.parameters(deliveries),
        "a_count": entries,
    }
    rows = connection.execute(_statement(), parameters).all()
    # RETURNING follows no promised order: each row is found by its message and department.
    returned = {(row.message_id, row.department): row.id for row in rows if row.id is not None}
    ids = [returned[(row["message_id"], row["department"])] for row in deliveries]
    return ids, audit.TakenHead(int(rows[0].seq), str(rows[0].hash))
