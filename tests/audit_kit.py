"""Audit logs to attack: entries added straight to a real store, and the edits an insider with
write access to the database makes (one entry, a rewritten chain, a deleted tail)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import Engine, delete, select, update

from hub.cli import main
from hub.security import audit
from hub.security.tables import GENESIS_HASH, audit_head, audit_log

AT = datetime(2024, 5, 20, 9, 0, tzinfo=UTC)


def add_entries(engine: Engine, count: int) -> list[audit.AuditEntry]:
    with engine.begin() as connection:
        return audit.append_many(
            connection,
            [
                audit.NewEntry(
                    actor="MARRIAGE_REGISTRY",
                    action=audit.ACCEPTED,
                    subject=f"message-{n}",
                    at=AT + timedelta(seconds=n),
                    details={"original_sha256": "ab" * 32},
                )
                for n in range(count)
            ],
        )


def edit_and_rehash(engine: Engine, seq: int, actor: str) -> None:
    """Change entry ``seq``'s actor and recompute its own hash (its successor's link breaks)."""
    entry = _entry(engine, seq)
    with engine.begin() as connection:
        digest = audit.entry_hash(
            seq, entry.at, actor, entry.action, entry.subject, entry.details, entry.prev_hash
        )
        connection.execute(
            update(audit_log).where(audit_log.c.seq == seq).values(actor=actor, hash=digest)
        )


def rewrite_from(engine: Engine, seq: int, actor: str) -> None:
    """Change entry ``seq``'s actor and recompute every hash after it and the head: a chain that
    holds in itself."""
    with engine.begin() as connection:
        rows = connection.execute(select(audit_log).order_by(audit_log.c.seq)).all()
        prev_hash = GENESIS_HASH
        for row in rows:
            who = actor if row.seq == seq else row.actor
            digest = audit.entry_hash(
                row.seq, row.at, who, row.action, row.subject, row.details, prev_hash
            )
            connection.execute(
                update(audit_log)
                .where(audit_log.c.seq == row.seq)
                .values(actor=who, prev_hash=prev_hash, hash=digest)
            )
            prev_hash = digest
        connection.execute(update(audit_head).values(hash=prev_hash))


def delete_tail(engine: Engine, from_seq: int) -> None:
    """Delete entries ``from_seq`` on and roll the head back to the entry before: the chain that
    is left holds in itself."""
    with engine.begin() as connection:
        connection.execute(delete(audit_log).where(audit_log.c.seq >= from_seq))
        last = connection.execute(
            select(audit_log.c.hash).where(audit_log.c.seq == from_seq - 1)
        ).scalar_one()
        connection.execute(update(audit_head).values(seq=from_seq - 1, hash=last))


def run_cli(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        main, list(args), env={"GOVHUB_DATA_DIR": str(data_dir), **(env or {})}
    )


def _entry(engine: Engine, seq: int) -> audit.AuditEntry:
    with engine.connect() as connection:
        return next(e for e in audit.entries(connection) if e.seq == seq)
