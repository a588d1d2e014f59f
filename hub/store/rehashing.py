"""Rehash the identity index under the current index key (after a key rotation, or once from
plain SHA-256 in migration 0007). An HMAC cannot be reversed, so a message's numbers are read
again from its stored canonical body; a message whose body was pruned (or cannot be opened)
keeps its rows (``govhub identities rehash``: still found while their key is in the ring) or
loses them (the migration: plain hashes are what must go)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Select, delete, insert, select

from hub.errors import DecryptionFailed
from hub.security import audit
from hub.security.payloads import PayloadSealer, canonical_context
from hub.store.identities import identity_numbers, normalised
from hub.store.models import MessageIdentityRow, MessageRow
from hub.store.store import Store

DEFAULT_BATCH = 200
Digest = Callable[[str], str]


@dataclass(frozen=True)
class Rehashing:
    """How to hash (the current key and its id) and how to read a stored canonical body."""

    digest: Digest
    key_id: str
    payloads: PayloadSealer
    drop_unreadable: bool = False


@dataclass(frozen=True)
class RehashReport:
    rehashed: int  # messages whose rows are now under the current key
    unreadable: int  # messages whose body is pruned or cannot be opened (rows kept or dropped)


def rehash_batch(
    connection: Connection, how: Rehashing, after: str, size: int
) -> tuple[RehashReport, str, int]:
    """One batch of messages with rows under another key, after message id ``after``:
    (what it did, the last message id seen, how many were seen)."""
    ids: list[str] = list(connection.scalars(_stale(how.key_id, after, size)))
    bodies: dict[str, bytes] = {}
    if ids:
        bodies = {row.id: row.canonical for row in connection.execute(_bodies(ids))}
    rehashed = unreadable = 0
    for message_id in ids:
        canonical = _opened(how.payloads, message_id, bodies.get(message_id, b""))
        if canonical is None:
            unreadable += 1
            if how.drop_unreadable:
                connection.execute(_ROWS_OF.where(MessageIdentityRow.message_id == message_id))
            continue
        _replace_rows(connection, how, message_id, identity_numbers(canonical))
        rehashed += 1
    return RehashReport(rehashed, unreadable), ids[-1] if ids else after, len(ids)


def rehash_all(connection: Connection, how: Rehashing, size: int = DEFAULT_BATCH) -> RehashReport:
    """Every batch on one connection (the migration's transaction)."""
    rehashed = unreadable = 0
    after, seen = "", size
    while seen == size:
        report, after, seen = rehash_batch(connection, how, after, size)
        rehashed, unreadable = rehashed + report.rehashed, unreadable + report.unreadable
    return RehashReport(rehashed, unreadable)


def rehash_identities(store: Store, *, actor: str, batch: int = DEFAULT_BATCH) -> RehashReport:
    """Every row under the store's current index key, a short transaction a batch (traffic
    waits at most one); audited as one ``admin_change`` entry. Safe to run again."""
    hasher = store.identities
    how = Rehashing(hasher.digest, hasher.key_id, store.payloads)
    rehashed = unreadable = 0
    after, seen = "", batch
    while seen == batch:
        with store.engine.begin() as connection:
            report, after, seen = rehash_batch(connection, how, after, batch)
        rehashed, unreadable = rehashed + report.rehashed, unreadable + report.unreadable
    with store.engine.begin() as connection:
        audit.append(
            connection,
            actor=actor,
            action=audit.ADMIN_CHANGE,
            subject="identity index",
            at=store.clock(),
            details={
                "change": "identities_rehashed",
                "key_id": hasher.key_id,
                "messages": rehashed,
                "kept_under_old_keys": unreadable,
            },
        )
    return RehashReport(rehashed, unreadable)


def plain_sha256(number: str) -> str:
    """The index's hash before migration 0007 (for its downgrade only)."""
    return hashlib.sha256(normalised(number)).hexdigest()


def _stale(key_id: str, after: str, size: int) -> Select[str]:
    return (
        select(MessageIdentityRow.message_id)
        .where(MessageIdentityRow.key_id != key_id, MessageIdentityRow.message_id > after)
        .group_by(MessageIdentityRow.message_id)
        .order_by(MessageIdentityRow.message_id)
        .limit(size)
    )


def _bodies(ids: Sequence[str]) -> Select[str, bytes]:
    return select(MessageRow.id, MessageRow.canonical).where(MessageRow.id.in_(ids))


def _opened(payloads: PayloadSealer, message_id: str, canonical: bytes) -> bytes | None:
    if not canonical:
        return None
    try:
        return payloads.open(canonical, canonical_context(message_id))
    except DecryptionFailed:
        return None


def _replace_rows(
    connection: Connection, how: Rehashing, message_id: str, numbers: Sequence[str]
) -> None:
    connection.execute(_ROWS_OF.where(MessageIdentityRow.message_id == message_id))
    digests = {how.digest(number) for number in numbers if number.strip()}
    rows = [
        {"message_id": message_id, "identity_sha256": digest, "key_id": how.key_id}
        for digest in sorted(digests)
    ]
    if rows:
        connection.execute(insert(MessageIdentityRow), rows)


_ROWS_OF = delete(MessageIdentityRow)
