"""The audit page's reads: the newest entries (identity numbers masked again on the way
out, whatever an entry holds) and the chain's verification (hub/security/audit.py)."""

from __future__ import annotations

from sqlalchemy import select

from hub.identity import mask_in_text
from hub.security import audit
from hub.security.audit import AuditEntry, ChainReport
from hub.security.tables import audit_log
from hub.store import Store

RECENT = 50


def recent_entries(store: Store, count: int = RECENT) -> list[AuditEntry]:
    query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(count)
    with store.engine.connect() as connection:
        rows = list(connection.execute(query))
    return [
        AuditEntry(
            seq=row.seq,
            at=row.at,
            actor=mask_in_text(row.actor),
            action=row.action,
            subject=mask_in_text(row.subject),
            details=mask_in_text(row.details),
            prev_hash=row.prev_hash,
            hash=row.hash,
        )
        for row in rows
    ]


def verify_chain(store: Store) -> ChainReport:
    """The whole chain walked in the database; signed checkpoints and exports are checked by
    `govhub audit verify`, which holds the public key."""
    with store.engine.connect() as connection:
        return audit.verify(connection)
