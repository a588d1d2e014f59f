"""The keys of the identity index (``message_identities``): HMAC-SHA256 keys.

With a key ring (GOVHUB_ENCRYPTION_KEYS) each ring key gives an index key by HKDF-SHA256,
labelled for this one use, under the same id; the ring's first key hashes new rows. Without a
key ring (the demo) the hub uses a random key it made in its own database (``local_keys``):
a copy of the index, an export or a log line cannot be reversed, a copy of the whole database
can. The database's key is always kept for lookups, so rows hashed before a ring was
configured are still found until ``govhub identities rehash`` moves them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from hub.security.encryption import KEY_BYTES, KeyRing
from hub.security.tables import local_keys

INDEX_KEY_INFO = b"govhub identity index: HMAC-SHA256 of identity numbers, v1"
# Key ring ids are the operator's (no "=" or ","); this one is the hub's own, in the database.
DATABASE_KEY_ID = "(database)"
LOCAL_KEY_NAME = "identity-index"


@dataclass(frozen=True)
class IndexKeys:
    """Index keys by id; ``current`` hashes new rows, every one is tried at lookup."""

    keys: dict[str, bytes] = field(repr=False)
    current: str

    @property
    def from_ring(self) -> bool:
        return self.current != DATABASE_KEY_ID


def index_key(sealing_key: bytes) -> bytes:
    """The index key derived from one key ring key (never the sealing key itself)."""
    return HKDF(hashes.SHA256(), KEY_BYTES, salt=None, info=INDEX_KEY_INFO).derive(sealing_key)


def index_keys(ring: KeyRing | None, database_key: bytes) -> IndexKeys:
    keys = {key_id: index_key(key) for key_id, key in (ring.keys if ring else {}).items()}
    keys[DATABASE_KEY_ID] = database_key
    return IndexKeys(keys, ring.current if ring else DATABASE_KEY_ID)


def database_key(connection: Connection) -> bytes:
    """The hub's own index key, made on first use (a racing maker's key wins, once)."""
    query = select(local_keys.c.key).where(local_keys.c.id == LOCAL_KEY_NAME)
    found = connection.execute(query).scalar()
    if found is None:
        with connection.begin_nested() as savepoint:
            made = {"id": LOCAL_KEY_NAME, "key": os.urandom(KEY_BYTES)}
            try:
                connection.execute(insert(local_keys), made)
            except IntegrityError:  # another process made it first: read theirs
                savepoint.rollback()
        found = connection.execute(query).scalar_one()
    return bytes(found)
