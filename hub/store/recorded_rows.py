"""PostgreSQL: a batch of attempt records, their deliveries moved on, and the audit head
moved on for their entries, in ONE statement.

The same writes as ``leases.record_many`` does statement by statement on SQLite (the attempt
rows inserted unless stored already, ``moves``' guarded moves, the states after, the head
taken), so a batch costs two round trips (this and the audit entries' insert) where it cost
four to six. Every array has one text for any batch (hub/store/arrays.py). A batch that
names a delivery twice is not written here: one ``UPDATE … FROM`` moves a row once, where
the statements move it once per record.

Lock order stays the store's (hub/store/leases.py): the head's new ``seq`` reads the moved
rows, so every delivery row is locked before the head is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Integer,
    LargeBinary,
    String,
    Text,
    bindparam,
    text,
)

from hub.security import audit
from hub.store.arrays import ArrayInsert, ArrayRows
from hub.store.direct import DirectStatement
from hub.store.models import AttemptRow, UTCDateTime

# An attempt is known by its delivery and the claim's attempt number (leases.py inserts them too).
ATTEMPT_KEY = ("delivery_id", "attempt")
ATTEMPTS = ArrayInsert(
    AttemptRow.__table__,  # type: ignore[arg-type]
    [column.name for column in AttemptRow.__table__.columns if column.name != "id"],
    returning=ATTEMPT_KEY,
    skip_conflicts_on=ATTEMPT_KEY,
    prefix="t_",
)
# Per record: its delivery's move (moves.py: target state and values) and its audit entries.
_MOVES = ArrayRows(
    "m",
    {
        "id": Integer(),
        "attempt": Integer(),
        "target": String(),
        "retry_at": UTCDateTime(),
        "error": Text(),
        "mapping": String(),
        "version": String(),
        "payload": LargeBinary(),
        "entries": Integer(),
    },
    prefix="m_",
)
# moves.py's three guarded statements as one: delivered is a fact even from a worker whose
# lease ran out; only the current holder may schedule a retry or fail the delivery.
_MOVE = """
UPDATE deliveries SET
  state = m.target,
  delivered_at = CASE WHEN m.target = 'delivered' THEN :m_now ELSE deliveries.delivered_at END,
  last_error = m.error,
  next_attempt_at = CASE m.target
    WHEN 'delivered' THEN NULL WHEN 'retrying' THEN m.retry_at
    ELSE deliveries.next_attempt_at END,
  lease_until = CASE WHEN m.target = 'retrying' THEN m.retry_at ELSE deliveries.lease_until END,
  outbound_mapping = m.mapping,
  schema_version = m.version,
  payload = coalesce(m.payload, deliveries.payload)
FROM fresh_moves m
WHERE deliveries.id = m.id AND CASE WHEN m.target = 'delivered'
  THEN deliveries.state <> 'delivered'
  ELSE deliveries.state = 'delivering' AND deliveries.attempts = m.attempt END
RETURNING deliveries.id, deliveries.state
"""


class Recorded(NamedTuple):
    """What the statement did: the records whose attempt row went in (delivery id and
    attempt), each delivery's state after, and the audit head as it left it."""

    fresh: set[tuple[int, int]]
    states: dict[int, str]
    head: audit.TakenHead


@cache
def _statement() -> DirectStatement:
    """Built on first use: hub.security.audit and the store import each other."""
    take_head = audit.TAKE_HEAD_SQL.replace(
        ":a_count",
        # Reading moved makes every delivery row locked before the head's row (lock order).
        "(SELECT coalesce(sum(entries), 0) FROM fresh_moves) + 0 * (SELECT count(*) FROM moved)",
    )
    statement = text(
        f"WITH fresh AS ({ATTEMPTS.sql}), "
        f"moves AS ({_MOVES.sql}), "
        "fresh_moves AS (SELECT moves.* FROM moves JOIN fresh "
        "ON fresh.delivery_id = moves.id AND fresh.attempt = moves.attempt), "
        f"moved AS ({_MOVE}), "
        f"head AS ({take_head}) "
        "SELECT moves.id, moves.attempt, fresh_moves.id IS NOT NULL AS fresh, "
        "coalesce(moved.state, deliveries.state) AS state, head.seq, head.hash "
        "FROM moves JOIN deliveries ON deliveries.id = moves.id "
        "LEFT JOIN fresh_moves ON fresh_moves.id = moves.id "
        "LEFT JOIN moved ON moved.id = moves.id CROSS JOIN head"
    ).bindparams(bindparam("m_now", type_=UTCDateTime()))
    return DirectStatement(statement)  # hub/store/direct.py


def record(
    connection: Connection,
    attempts: Sequence[Mapping[str, Any]],
    moves: Sequence[Mapping[str, Any]],
    now: datetime,
) -> Recorded:
    """Insert ``attempts`` (rows of the attempts table) and make ``moves`` (per record: id,
    attempt, target, retry_at, error, mapping, version, payload, entries), each delivery
    named once. The head moves on by the entries of the records whose attempt went in."""
    parameters = {
        **ATTEMPTS.parameters(attempts),
        **_MOVES.parameters(moves),
        "m_now": now,
    }
    rows = _statement().rows(connection, parameters)
    return Recorded(
        fresh={(row.id, row.attempt) for row in rows if row.fresh},
        states={row.id: str(row.state) for row in rows},
        head=audit.TakenHead(int(rows[0].seq), str(rows[0].hash)),
    )
