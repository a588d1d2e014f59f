"""The append-only, hash-chained audit log.

Entry ``n`` stores ``prev_hash`` = hash of entry ``n-1`` (the genesis hash for entry 1) and
``hash`` = SHA-256 over its own fields and ``prev_hash``. One head row (``audit_head``) holds the
last seq and hash; every append updates it first, which takes the write lock on SQLite and the
row lock on PostgreSQL, so concurrent writers form one line. ``verify`` walks the chain and
names the first entry that was edited, inserted or deleted; an attacker who rewrites the whole
chain and the head is caught by comparing with a signed export (``anchor``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from hub.identity import mask_in_text
from hub.security.tables import GENESIS_HASH, audit_head, audit_log
from hub.untrusted import MAX_UNTRUSTED_CHARS, bounded, cut, too_long

# What happened. Free text is allowed; these are the ones the hub writes.
ACCEPTED = "accepted"
TRANSLATED = "translated"
DELIVERY_ATTEMPT = "delivery_attempt"
REPLAYED = "replayed"
REFUSED = "refused"
ADMIN_CHANGE = "admin_change"

HEAD_ID = 1


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: str  # JSON text exactly as hashed
    prev_hash: str
    hash: str

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": timestamp_text(self.at),
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "details": json.loads(self.details),
            "details_text": self.details,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class ChainReport:
    """``broken_at`` is the first seq where the chain does not hold (None: intact)."""

    entries: int
    head_seq: int
    head_hash: str
    broken_at: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def timestamp_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def details_text(details: Mapping[str, Any] | None) -> str:
    """Canonical JSON; identity numbers masked, so the log never holds a full one."""
    text = json.dumps(dict(details or {}), ensure_ascii=False, sort_keys=True, default=str)
    return mask_in_text(text)


def entry_hash(
    seq: int, at: datetime, actor: str, action: str, subject: str, details: str, prev_hash: str
) -> str:
    fields = [seq, timestamp_text(at), actor, action, subject, details, prev_hash]
    canonical = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewEntry:
    """An entry to append: what ``append`` takes, for ``append_many``."""

    actor: str
    action: str
    subject: str
    at: datetime
    details: Mapping[str, Any] | None = None


def append(
    connection: Connection,
    *,
    actor: str,
    action: str,
    subject: str,
    at: datetime,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry inside the caller's transaction (it commits or rolls back with it)."""
    return append_many(connection, [NewEntry(actor, action, subject, at, details)])[0]


def append_many(connection: Connection, new: Sequence[NewEntry]) -> list[AuditEntry]:
    """Chain several entries, in order, under one hold of the head's lock.

    One statement moves the head on by ``len(new)``, takes the lock (the write lock on SQLite,
    the row lock on PostgreSQL) and reads the head: no two writers see the same head, and the
    lock is held for three round trips (this, the insert, the head's hash) plus the commit,
    however many entries there are.
    """
    if not new:
        return []
    last, prev_hash = connection.execute(_TAKE_HEAD, {"a_count": len(new)}).one()
    added = list(_chained(new, int(last) - len(new) + 1, str(prev_hash)))
    connection.execute(_INSERT_ENTRIES, [_row(entry, entry.hash) for entry in added])
    connection.execute(_SET_HEAD_HASH, {"a_hash": added[-1].hash})
    return added


# Built once: they run for every accept batch and every batch of attempt records.
_TAKE_HEAD = (
    update(audit_head)
    .where(audit_head.c.id == HEAD_ID)
    .values(seq=audit_head.c.seq + bindparam("a_count"))
    .returning(audit_head.c.seq, audit_head.c.hash)
)
_INSERT_ENTRIES = insert(audit_log)
_SET_HEAD_HASH = (
    update(audit_head).where(audit_head.c.id == HEAD_ID).values(hash=bindparam("a_hash"))
)


def _chained(new: Sequence[NewEntry], first_seq: int, prev_hash: str) -> Iterator[AuditEntry]:
    for seq, item in enumerate(new, start=first_seq):
        text = details_text(item.details)
        # A long value may be a caller's: each is cut (the everyday entry is only measured).
        if len(text) > MAX_UNTRUSTED_CHARS and too_long(item.details):
            text = details_text(bounded(item.details))
        fields = (seq, item.at, cut(item.actor), cut(item.action), cut(item.subject), text)
        digest = entry_hash(*fields, prev_hash)
        yield AuditEntry(*fields, prev_hash, digest)
        prev_hash = digest


class AuditLog:
    """For callers without a transaction of their own (refusals, admin commands)."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] | None = None) -> None:
        self._engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))

    def append(
        self, *, actor: str, action: str, subject: str, details: Mapping[str, Any] | None = None
    ) -> AuditEntry:
        with self._engine.begin() as connection:
            return append(
                connection,
                actor=actor,
                action=action,
                subject=subject,
                at=self._clock(),
                details=details,
            )


def entries(connection: Connection, *, batch: int = 1000) -> Iterator[AuditEntry]:
    """Every stored entry in seq order, streamed."""
    query = select(audit_log).order_by(audit_log.c.seq)
    result = connection.execution_options(yield_per=batch).execute(query)
    for row in result:
        yield AuditEntry(
            row.seq,
            row.at,
            row.actor,
            row.action,
            row.subject,
            row.details,
            row.prev_hash,
            row.hash,
        )


def head(connection: Connection) -> tuple[int, str]:
    seq, digest = connection.execute(
        select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == HEAD_ID)
    ).one()
    return int(seq), str(digest)


def verify(connection: Connection, *, anchor: tuple[int, str] | None = None) -> ChainReport:
    """Walk the chain; ``anchor`` = (seq, hash) from a signed export must still be in it."""
    head_seq, head_hash = head(connection)
    report = check_chain(entries(connection), head_seq, head_hash)
    if report.ok and anchor is not None:
        return _check_anchor(connection, report, anchor)
    return report


def check_chain(stream: Iterable[AuditEntry], head_seq: int, head_hash: str) -> ChainReport:
    """The chain rules, on any stream of entries (the database or an export)."""
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    for entry in stream:
        problem = _problem(entry, expected_seq, prev_hash, head_seq)
        if problem is not None:
            return ChainReport(count, head_seq, head_hash, problem[0], problem[1])
        expected_seq, prev_hash, count = entry.seq + 1, entry.hash, count + 1
    if expected_seq - 1 != head_seq:
        return _broken(
            count, head_seq, head_hash, expected_seq, _missing_tail(expected_seq, head_seq)
        )
    if prev_hash != head_hash:
        return _broken(count, head_seq, head_hash, head_seq, "the chain head does not match")
    return ChainReport(count, head_seq, head_hash)


def _problem(
    entry: AuditEntry, expected_seq: int, prev_hash: str, head_seq: int
) -> tuple[int, str] | None:
    if entry.seq > head_seq:
        return entry.seq, f"entry {entry.seq} is beyond the chain head {head_seq} (inserted)"
    if entry.seq != expected_seq:
        return expected_seq, f"entry {expected_seq} is missing (deleted)"
    fields = (entry.seq, entry.at, entry.actor, entry.action, entry.subject, entry.details)
    if entry_hash(*fields, entry.prev_hash) != entry.hash:
        return entry.seq, f"entry {entry.seq} was edited: its hash does not match its content"
    if entry.prev_hash != prev_hash:
        return entry.seq, (
            f"entry {entry.seq} does not follow entry {entry.seq - 1} (edited, inserted or "
            "replaced; its prev_hash differs)"
        )
    return None


def _missing_tail(expected_seq: int, head_seq: int) -> str:
    if expected_seq - 1 > head_seq:
        return f"entries after {head_seq} were added without the chain head"
    return f"entries {expected_seq} to {head_seq} are missing (deleted at the end)"


def _broken(count: int, head_seq: int, head_hash: str, seq: int, reason: str) -> ChainReport:
    return ChainReport(count, head_seq, head_hash, seq, reason)


def _check_anchor(
    connection: Connection, report: ChainReport, anchor: tuple[int, str]
) -> ChainReport:
    seq, digest = anchor
    stored = connection.execute(select(audit_log.c.hash).where(audit_log.c.seq == seq)).scalar()
    if stored == digest:
        return report
    reason = f"entry {seq} differs from the signed export (the chain was rewritten)"
    return _broken(report.entries, report.head_seq, report.head_hash, seq, reason)


def _row(entry: AuditEntry, digest: str) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
        "hash": digest,
    }
