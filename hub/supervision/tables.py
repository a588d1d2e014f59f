"""The supervision tables (SQLAlchemy Core), on the store's metadata so migrations compare them.

``hub/store/migrations/versions/0010_supervision.py`` creates exactly these; change both.
A case row is the state its events left (hub/supervision/rules_of_acceptance.py); the events
are kept in order, each with when it happened and when the hub heard of it.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, Index, Integer, String, Table, Text, UniqueConstraint

from hub.store.models import Base, UTCDateTime

metadata = Base.metadata

supervision_cases = Table(
    "supervision_cases",
    metadata,
    Column("case_number", String(60), primary_key=True),
    Column("item_code", String(40), nullable=False),
    Column("item_name", String(200), nullable=False),
    Column("department", String(40), nullable=False),
    Column("accepted_at", UTCDateTime, nullable=False),
    Column("catalogue_version", Integer, nullable=False),
    Column("limits", Text, nullable=False),  # JSON: the item's limits when accepted
    Column("steps_done", String(200), nullable=False),  # comma-separated, in order
    Column("status", String(20), nullable=False),  # open / suspended / concluded
    Column("suspended_since", UTCDateTime, nullable=True),
    Column("outcome", String(20), nullable=False),
    Column("concluded_at", UTCDateTime, nullable=True),
    Column("last_event_at", UTCDateTime, nullable=False),
    Index("ix_supervision_cases_status", "status"),
    Index("ix_supervision_cases_department_item", "department", "item_code"),
)

supervision_case_events = Table(
    "supervision_case_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_number", String(60), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("step", String(20), nullable=False),
    Column("happened_at", UTCDateTime, nullable=False),
    Column("reported_at", UTCDateTime, nullable=False),
    Column("handler", String(200), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("sender", String(40), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("message_id", String(64), nullable=False),
    UniqueConstraint("sender", "idempotency_key", name="uq_supervision_events_sender_key"),
    Index("ix_supervision_case_events_case", "case_number", "id"),
)

# Each signal the rules gave, issued once per (case, rule): the unique constraint is what makes
# it once across passes, restarts and worker instances (hub/supervision/signals.py).
supervision_signals = Table(
    "supervision_signals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_number", String(60), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("rule", String(80), nullable=False),
    Column("deadline", Date, nullable=True),
    Column("detail", Text, nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("closed_because", String(20), nullable=False),  # corrected / superseded, "" open
    UniqueConstraint("case_number", "rule", name="uq_supervision_signals_case_rule"),
    Index("ix_supervision_signals_open", "closed_at"),
)

# Who runs the signal pass now, and until when (hub/supervision/lease.py): any worker instance
# may, one at a time; a holder that died is replaced once its lease has run out.
supervision_leases = Table(
    "supervision_leases",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("holder", String(120), nullable=False),
    Column("until", UTCDateTime, nullable=False),
)
