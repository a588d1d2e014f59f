"""The identity index keyed: HMAC-SHA256 instead of plain SHA-256, with the key's id per row.

Revision ID: 0007_keyed_identity_hashes
Revises: 0006_scrub_credentials
Create Date: 2026-12-06

A plain SHA-256 of an identity number is reversed by trying every birth date and sequence,
so no plain hash may stay. Each message's numbers are read again from its stored canonical
body and hashed under the current index key (the key ring's first key, given to the migration
by ``Store.upgrade``, else the key this migration makes in ``local_keys``). A message whose
body was pruned, or is sealed under a key not given, loses its rows: trace and ``--person``
no longer find it by identity number (its id and correlation id still do).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

import hub.security.tables  # noqa: F401  (the tables on the store's metadata, for comparison)
from hub.security.identity_keys import database_key, index_keys
from hub.security.payloads import PayloadSealer
from hub.store.identities import IdentityHasher
from hub.store.rehashing import Rehashing, plain_sha256, rehash_all

revision = "0007_keyed_identity_hashes"
down_revision = "0006_scrub_credentials"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "local_keys",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("key", sa.LargeBinary(), nullable=False),
    )
    op.add_column(
        "message_identities",
        sa.Column("key_id", sa.String(64), nullable=False, server_default=""),
    )
    op.create_index("ix_message_identities_key_id", "message_identities", ["key_id"])
    connection = op.get_bind()
    ring = context.config.attributes.get("key_ring")
    hasher = IdentityHasher(index_keys(ring, database_key(connection)))
    how = Rehashing(hasher.digest, hasher.key_id, PayloadSealer(ring), drop_unreadable=True)
    rehash_all(connection, how)


def downgrade() -> None:
    """Back to plain SHA-256, again from the stored bodies (the keyed rows cannot be read)."""
    connection = op.get_bind()
    ring = context.config.attributes.get("key_ring")
    how = Rehashing(plain_sha256, "(plain)", PayloadSealer(ring), drop_unreadable=True)
    rehash_all(connection, how)
    op.drop_index("ix_message_identities_key_id", "message_identities")
    op.drop_column("message_identities", "key_id")
    op.drop_table("local_keys")
