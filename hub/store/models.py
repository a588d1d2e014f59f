"""Tables of the store (SQLAlchemy 2 typed ORM), portable between SQLite and PostgreSQL.

The migrations in ``migrations/versions`` create exactly these; change both together.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; SQLite keeps naive UTC text so comparisons sort."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The partial index's condition: a query must repeat it word for word for SQLite to use it.
NOT_DELIVERED = "state <> 'delivered'"


class Base(DeclarativeBase):
    pass


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("sender", "idempotency_key", name="uq_messages_sender_key"),
        Index("ix_messages_correlation_id", "correlation_id"),
        # Pruning walks the unpruned messages oldest first, from where its last batch stopped.
        Index(
            "ix_messages_unpruned",
            "received_at",
            "id",
            postgresql_where=text("pruned_at IS NULL"),
            sqlite_where=text("pruned_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    message_type: Mapped[str] = mapped_column(String(100))
    sender: Mapped[str] = mapped_column(String(64))
    correlation_id: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    schema_version: Mapped[str] = mapped_column(String(20))
    inbound_mapping: Mapped[str | None] = mapped_column(String(200))
    # On SQLite the table's last column (migration 0025): a large body is written in pieces.
    original: Mapped[bytes] = mapped_column(LargeBinary)
    original_content_type: Mapped[str] = mapped_column(String(200))
    original_sha256: Mapped[str] = mapped_column(String(64))
    canonical: Mapped[bytes] = mapped_column(LargeBinary)
    canonical_sha256: Mapped[str] = mapped_column(String(64))
    # Set when the bodies were pruned (emptied); the hashes and metadata stay.
    pruned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryRow(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("message_id", "department", name="uq_deliveries_message_department"),
        Index("ix_deliveries_state_lease", "state", "lease_until"),
        Index("ix_deliveries_department_state", "department", "state"),
        # State filters start from the few legs not delivered (hub/operations/queries.py).
        Index(
            "ix_deliveries_not_delivered",
            "state",
            "department",
            "message_id",
            postgresql_where=text(NOT_DELIVERED),
            sqlite_where=text(NOT_DELIVERED),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    # The message's arrival, copied onto each leg when it is written: the legs of a state
    # filter sort by it without reading their messages. NULL only in rows written around the
    # store (a test's or a benchmark's bulk insert), which state filters then do not list.
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    department: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # dashboard
    outbound_mapping: Mapped[str | None] = mapped_column(String(200))
    # The canonical version its mapping read, converted to (hub/versions; 0022_model_versions).
    schema_version: Mapped[str | None] = mapped_column(String(20))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    # When the current round of attempts began (creation or the last replay): max age counts
    # from here, and attempts_at_replay is where the round's attempt budget starts.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # dashboard
    attempts_at_replay: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    replays: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # name@version the next attempts must use (replay --pin-mapping); NULL: the current one.
    pinned_mapping: Mapped[str | None] = mapped_column(String(200))
    # The document as translated for the department by the latest attempt that got that far.
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)


# A state filter's page read in its own order (newest first, then by message) and stopped when
# full (hub/operations/newest.py; 0027_failures_newest). Here, as DESC needs the column.
Index(
    "ix_deliveries_newest",
    DeliveryRow.state,
    DeliveryRow.received_at.desc(),
    DeliveryRow.message_id,
    postgresql_where=text(NOT_DELIVERED),
    sqlite_where=text(NOT_DELIVERED),
)
Index(
    "ix_deliveries_department_newest",
    DeliveryRow.state,
    DeliveryRow.department,
    DeliveryRow.received_at.desc(),
    DeliveryRow.message_id,
    postgresql_where=text(NOT_DELIVERED),
    sqlite_where=text(NOT_DELIVERED),
)


class AttemptRow(Base):
    __tablename__ = "attempts"
    __table_args__ = (
        # A record retried after its commit's answer was lost is known by it (leases.py);
        # it also serves the lookups by delivery that ix_attempts_delivery_id served.
        Index("uq_attempts_delivery_attempt", "delivery_id", "attempt", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    # The claim's attempt number (deliveries.attempts when claimed; 0026_attempt_numbers).
    # NULL for a mailbox's or a bundle's settlement and for rows older than the column.
    attempt: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # dashboard, alerts
    duration_ms: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))
    error_class: Mapped[str | None] = mapped_column(String(200))
    error_message: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(String(500))
    payload_sha256: Mapped[str | None] = mapped_column(String(64))
    outbound_mapping: Mapped[str | None] = mapped_column(String(200))


class MessageIdentityRow(Base):
    """HMAC-SHA256 of each identity number a message names, to find a citizen's messages
    (hub/store/identities.py); ``key_id`` names the index key (a key ring id, or the
    database's own key) so a rotation knows which rows to rehash."""

    __tablename__ = "message_identities"

    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    identity_sha256: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    key_id: Mapped[str] = mapped_column(String(64), index=True)


class OperatorActionRow(Base):
    """The audit trail of what operators did (replay, prune): who, why, when, dry run or not.

    No foreign key: the trail outlives the messages it names.
    """

    __tablename__ = "operator_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    dry_run: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    detail: Mapped[str] = mapped_column(Text)


class MailboxEntryRow(Base):
    """A delivery waiting in its department's mailbox (``adapter = "mailbox"``) until the
    department receives and acknowledges it (hub/mailbox). The translated document is the
    delivery's own ``payload``; ``lease_token`` is the current lease of a received entry."""

    __tablename__ = "mailbox_entries"
    __table_args__ = (Index("ix_mailbox_entries_department_state", "department", "state"),)

    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    department: Mapped[str] = mapped_column(String(64))
    # ready: waiting to be received; leased: received, not yet settled; acked; failed.
    state: Mapped[str] = mapped_column(String(20))
    encoding: Mapped[str] = mapped_column(String(40))
    parked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    receives: Mapped[int] = mapped_column(Integer, default=0)
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MailboxLeaseRow(Base):
    """Every lease a Receive gave out, so an Ack names its fate exactly: unknown, another
    department's, expired (received again since), or already settled."""

    __tablename__ = "mailbox_leases"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    department: Mapped[str] = mapped_column(String(64))
    leased_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime)
    # None while open; "acked", "nacked" once settled.
    settled: Mapped[str | None] = mapped_column(String(20))
