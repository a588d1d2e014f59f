"""Stored originals lose every wsse:Password (hub/security/scrubbing.py), for rows written
before ingress did that itself: migration 0006_scrub_credentials runs it, and so does
``govhub payloads reseal`` (hub/store/resealing.py) for bodies sealed at rest.

A sealed original is opened, scrubbed and sealed again under the current key when the key ring
is given; without it (or without the key it was sealed with) it is left as it is and counted,
for ``govhub payloads reseal`` with GOVHUB_ENCRYPTION_KEYS to finish. Safe to run again."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from hub.errors import DecryptionFailed
from hub.security.encryption import KeyRing, is_sealed
from hub.security.payloads import original_context
from hub.security.scrubbing import without_passwords

DEFAULT_BATCH = 200
# The columns this needs, as migration 0006 finds them (not the models of a later revision).
_MESSAGES = sa.table("messages", sa.column("id", sa.String), sa.column("original", sa.LargeBinary))


@dataclass(frozen=True)
class ScrubReport:
    scrubbed: int  # originals that held a password, now emptied
    sealed_unopened: int  # sealed originals not checked: no key ring, or not its key


def scrub_originals(
    connection: Connection, keys: KeyRing | None, *, batch: int = DEFAULT_BATCH
) -> ScrubReport:
    """Every stored original without its passwords, batch after batch (keyset on the id)."""
    scrubbed = unopened = 0
    after = ""
    while True:
        query = sa.select(_MESSAGES.c.id, _MESSAGES.c.original).where(_MESSAGES.c.id > after)
        rows = connection.execute(query.order_by(_MESSAGES.c.id).limit(batch)).all()
        for message_id, original in rows:
            cleaned = scrubbed_original(original, original_context(message_id), keys)
            if cleaned is None:
                unopened += 1
            elif cleaned != original:
                where = _MESSAGES.c.id == message_id
                connection.execute(sa.update(_MESSAGES).where(where).values(original=cleaned))
                scrubbed += 1
        if len(rows) < batch:
            return ScrubReport(scrubbed, unopened)
        after = rows[-1].id


def scrubbed_original(original: bytes, context: bytes, keys: KeyRing | None) -> bytes | None:
    """The stored body without passwords (the same object when it held none); None: sealed,
    and ``keys`` cannot open it."""
    if not is_sealed(original):
        return without_passwords(original)
    if keys is None:
        return None
    try:
        plain = keys.decrypt(original, context=context)
    except DecryptionFailed:
        return None
    cleaned = without_passwords(plain)
    return original if cleaned is plain else keys.encrypt(cleaned, context=context)
