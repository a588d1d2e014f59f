"""The store: the hub's source of truth for messages, deliveries and attempts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, Engine, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.config import DEFAULT_LEASE_SECONDS
from hub.security import audit
from hub.security.payloads import PayloadSealer, canonical_context, payload_context
from hub.store import accepted_rows, accepting, large_bodies, leases, migrate
from hub.store.due import DELIVERIES_DUE
from hub.store.engine import make_engine, make_relaxed_engine
from hub.store.held_connection import HeldConnection, Transactions
from hub.store.identities import IdentityHasher
from hub.store.models import DeliveryRow, MessageIdentityRow, MessageRow
from hub.store.records import (
    AttemptRecord,
    ClaimedDelivery,
    MessageStatus,
    NewMessage,
    QueuedDelivery,
    Receipt,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Store:
    """Thread-safe; one per process. ``clock`` is replaceable so tests can move time."""

    def __init__(
        self,
        database_url: str,
        *,
        clock: Clock = utc_now,
        sealer: PayloadSealer | None = None,
    ) -> None:
        self.database_url = database_url
        self.clock = clock
        # Seals bodies as they are written (when configured) and opens them as they are read.
        self.payloads = sealer or PayloadSealer()
        self._engine = make_engine(database_url)
        # Claims and attempt records: redone if lost, so they need not wait for the disk.
        self._relaxed = make_relaxed_engine(database_url, self._engine)

    def held_connection(self, *, single_statements: bool = False) -> HeldConnection:
        """A connection for one writer thread of claims and attempt records to keep;
        ``single_statements``: its transactions are one statement each (hub/store/
        held_connection.py)."""
        return HeldConnection(self._relaxed, single_statements=single_statements)

    @property
    def engine(self) -> Engine:
        """For migrations and read-only reports; writes go through the methods below."""
        return self._engine

    @cached_property
    def identities(self) -> IdentityHasher:
        """The identity index's hasher, keyed once on first use (it reads the database's
        own key, which needs the schema: after ``upgrade``)."""
        # Here, not at the top: hub.security.tables imports hub.store (an import cycle).
        from hub.security.identity_keys import database_key, index_keys

        with self._engine.begin() as connection:
            keys = index_keys(self.payloads.keys, database_key(connection))
        if not keys.from_ring:
            log.warning(
                "identity numbers are indexed under a key kept in the database: "
                "set GOVHUB_ENCRYPTION_KEYS so a copy of the database cannot reverse them"
            )
        return IdentityHasher(keys)

    def upgrade(self) -> None:
        """``alembic upgrade head`` for this store's database (the key ring, if any, lets a
        migration open sealed bodies)."""
        migrate.upgrade(self._engine, key_ring=self.payloads.keys)

    def dispose(self) -> None:
        self._engine.dispose()
        self._relaxed.dispose()

    def save_accepted(
        self, message: NewMessage, receivers: Sequence[str], lease_seconds: float
    ) -> Receipt:
        """Message + one queued delivery per receiver in ONE transaction; a repeat of
        (sender, idempotency_key) with the same record writes nothing and returns the first
        one's receipt; with another record it raises IdempotencyConflict."""
        receivers = tuple(dict.fromkeys(receivers))
        try:
            return self.save_accepted_batch([(message, receivers)], lease_seconds)[0]
        except IntegrityError:
            with Session(self._engine) as session:
                earlier = accepting.existing_receipt(session, message, self.payloads)
            if earlier is None:
                raise
            return earlier

    def message_status(self, message_id: str) -> MessageStatus:
        """Raises hub.errors.NotFound for an unknown id."""
        with Session(self._engine) as session:
            return accepting.read_status(session, message_id)

    def claim(self, delivery_id: int, lease_seconds: float) -> ClaimedDelivery | None:
        """Take a delivery for one attempt, or None if it is held, not yet due, or done."""
        return self.open_claimed(self.claim_sealed([delivery_id], lease_seconds)[0])

    def claim_sealed(
        self,
        delivery_ids: Sequence[int],
        lease_seconds: float,
        *,
        via: Transactions | None = None,
    ) -> list[ClaimedDelivery | None]:
        """``claim`` for several deliveries in ONE transaction, answers in the same order,
        with the canonical bodies as stored: each caller opens its own (``open_claimed``).
        ``via``: a writer's own connection (``held_connection``) instead of the pool's."""
        now = self.clock()
        with (via or self._relaxed).begin() as connection:
            return leases.claim_many(
                connection, delivery_ids, now, now + timedelta(seconds=lease_seconds)
            )

    def open_claimed(self, claimed: ClaimedDelivery | None) -> ClaimedDelivery | None:
        """The claim with its canonical body opened (sealed bodies), after the claim commits:
        a missing key leaves the lease to run out and the relay to try again, rather than
        losing the delivery, and fails no other delivery claimed with it."""
        if claimed is None or not claimed.canonical:
            return claimed
        canonical = self.payloads.open(claimed.canonical, canonical_context(claimed.message_id))
        return replace(claimed, canonical=canonical)

    def record_attempt(self, claimed: ClaimedDelivery, attempt: AttemptRecord) -> str:
        """Store one attempt and move the delivery on; returns its state afterwards."""
        return self.record_attempts([(claimed, attempt)])[0]

    def record_attempts(
        self,
        recorded: Sequence[tuple[ClaimedDelivery, AttemptRecord]],
        *,
        via: Transactions | None = None,
    ) -> list[str]:
        """``record_attempt`` for several attempts in ONE transaction, all or nothing;
        each delivery's state afterwards, in the same order. ``via`` as for ``claim_sealed``."""
        sealed = [(claimed, self._sealed(claimed, attempt)) for claimed, attempt in recorded]
        with (via or self._relaxed).begin() as connection:
            return leases.record_many(connection, sealed, self.clock())

    def _sealed(self, claimed: ClaimedDelivery, attempt: AttemptRecord) -> AttemptRecord:
        if not attempt.payload:
            return attempt
        sealed = self.payloads.seal(attempt.payload, payload_context(claimed.delivery_id))
        return replace(attempt, payload=sealed)

    def due_for_relay(
        self, limit: int, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> list[tuple[int, str]]:
        """(delivery_id, department) of pending deliveries whose lease passed; bumps it."""
        return [(d.delivery_id, d.department) for d in self.due_deliveries(limit, lease_seconds)]

    def due_deliveries(
        self,
        limit: int,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        held: frozenset[str] = frozenset(),
    ) -> list[QueuedDelivery]:
        """Like ``due_for_relay``, with the idempotency key the bus message carries; the
        ``held`` departments' deliveries (paused) are not due."""
        now = self.clock()
        with self._engine.begin() as connection:
            return leases.due_for_relay(
                connection, limit, now, now + timedelta(seconds=lease_seconds), held
            )

    def next_lease_end(self, held: frozenset[str] = frozenset()) -> datetime | None:
        """When the first lease of a leg the relay publishes ends (None: no such leg): a
        relay with nothing due may rest until then."""
        with self._engine.connect() as connection:
            return leases.next_lease_end(connection, held)

    def release_leases(self, delivery_ids: Sequence[int]) -> None:
        """The relay's next pass publishes these (their publish failed): see
        ``leases.release_leases``. Best effort: if the database is away too, the lease ends
        as it would have."""
        try:
            with self._engine.begin() as connection:
                leases.release_leases(connection, delivery_ids, self.clock())
            DELIVERIES_DUE.ring()
        except Exception as exc:  # the relay still publishes them when their lease ends
            log.warning(
                "could not hand %d deliveries back to the relay: %s",
                len(delivery_ids),
                type(exc).__name__,
            )

    def find_message_id(self, sender: str, idempotency_key: str) -> str | None:
        """The id of the message a sender sent with this idempotency key, if any."""
        with Session(self._engine) as session:
            return accepting.find_message_id(session, sender, idempotency_key)

    # --- group commit (hub/store/group_commit.py) ---------------------------------------

    def save_accepted_batch(
        self, batch: Sequence[tuple[NewMessage, tuple[str, ...]]], lease_seconds: float
    ) -> list[Receipt]:
        """Many messages, none of them a repeat, in ONE transaction: all or nothing.

        The rows are built by ``accepting``'s helpers, then inserted table by table in bulk
        (three statements a batch, whatever its size).
        Raises IntegrityError if any collides; the caller then saves them one by one.
        """
        with self._engine.begin() as connection:
            return self.save_accepted_on(connection, batch, lease_seconds)

    def save_accepted_on(
        self,
        connection: Connection,
        batch: Sequence[tuple[NewMessage, tuple[str, ...]]],
        lease_seconds: float,
    ) -> list[Receipt]:
        """``save_accepted_batch`` inside the caller's transaction: a message written together
        with the state it belongs to (a case event's case, a supervision signal), or neither."""
        now = self.clock()
        lease_until = now + timedelta(seconds=lease_seconds)
        messages = [accepting.message_values(m, now, self.payloads) for m, _ in batch]
        hasher = self.identities
        identities = [row for m, _ in batch for row in accepting.identity_values(m, hasher)]
        deliveries = [accepting.delivery_values(m, r, now, lease_until) for m, r in batch]
        flat = [row for rows in deliveries for row in rows]
        pairs = zip(messages, batch, strict=True)
        entries = [e for row, (m, r) in pairs for e in accepting.audit_entries(row, m, r, now)]
        streamed = large_bodies.take_large_originals(connection, messages)
        connection.execute(_INSERT_MESSAGES, messages)  # first: the others refer to it
        large_bodies.write_originals(connection, streamed)
        if connection.dialect.name == "postgresql":
            delivery_ids, head = accepted_rows.insert(connection, identities, flat, len(entries))
            audit.append_to_taken_head(connection, entries, head)
            ids = iter(delivery_ids)
        else:
            if identities:
                connection.execute(_INSERT_IDENTITIES, identities)
            ids = iter(connection.scalars(_INSERT_DELIVERIES, flat).all() if flat else [])
            # Last: the audit head's lock is held only for the chain and the commit.
            audit.append_many(connection, entries)
        return [
            Receipt(
                m.message_id,
                "accepted" if r else "delivered",
                r,
                False,
                _queued([(next(ids), d) for d in rows]),
            )
            for (m, r), rows in zip(batch, deliveries, strict=True)
        ]


def _queued(rows: list[tuple[int, dict[str, Any]]]) -> tuple[QueuedDelivery, ...]:
    """The deliveries to publish: every inserted row but the skipped ones."""
    return tuple(
        QueuedDelivery(delivery_id, d["department"], d["idempotency_key"])
        for delivery_id, d in rows
        if d["state"] == "queued"
    )


# Built once and run on a Connection (Core): the ORM's bulk path took a third of the
# accept writer's time.
_INSERT_MESSAGES = insert(MessageRow)
_INSERT_IDENTITIES = insert(MessageIdentityRow)
_INSERT_DELIVERIES = insert(DeliveryRow).returning(DeliveryRow.id, sort_by_parameter_order=True)
