"""The bundle ledgers (SQLAlchemy Core), on the store's metadata so migrations compare them."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text, UniqueConstraint

from hub.store.models import Base, UTCDateTime

metadata = Base.metadata

# Every bundle this hub wrote: messages for a network, or a receipt for the way back.
bundle_exports = Table(
    "bundle_exports",
    metadata,
    Column("bundle_id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("network", String(64), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("made_at", UTCDateTime(), nullable=False),
    Column("entries", Integer, nullable=False),
    UniqueConstraint("network", "kind", "sequence", name="uq_bundle_exports_sequence"),
)

# Which legs a messages bundle carried (a leg is carried again by `export --since`).
bundle_exported_legs = Table(
    "bundle_exported_legs",
    metadata,
    Column("bundle_id", String(36), primary_key=True),
    Column("delivery_id", Integer, primary_key=True),
    Index("ix_bundle_exported_legs_delivery", "delivery_id"),
)

# The ledger of imported bundles: a bundle id here is never imported again.
bundle_imports = Table(
    "bundle_imports",
    metadata,
    Column("bundle_id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("from_network", String(64), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("imported_at", UTCDateTime(), nullable=False),
    Column("outcome", Text, nullable=False),  # JSON: counts, gap, refused entries
    Index("ix_bundle_imports_from_sequence", "from_network", "kind", "sequence"),
)
