"""Seen WS-Security nonces, so a replayed request is refused. A nonce is remembered until its
token could no longer pass the freshness check (created + max age + skew)."""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime
from typing import Protocol

from sqlalchemy import Engine, delete, insert
from sqlalchemy.exc import IntegrityError

from hub.security.tables import wsse_nonces

PURGE_EVERY = 500  # additions between purges of expired nonces


class NonceCache(Protocol):
    def remember(self, username: str, nonce: bytes, expires_at: datetime, now: datetime) -> bool:
        """Record the nonce; False if this user sent it before (a replay)."""


def nonce_key(username: str, nonce: bytes) -> str:
    return hashlib.sha256(username.encode("utf-8") + b"\x00" + nonce).hexdigest()


class MemoryNonceCache:
    """One process only (the embedded setup)."""

    def __init__(self) -> None:
        self._seen: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def remember(self, username: str, nonce: bytes, expires_at: datetime, now: datetime) -> bool:
        key = nonce_key(username, nonce)
        with self._lock:
            if len(self._seen) % PURGE_EVERY == 0:
                self._seen = {k: t for k, t in self._seen.items() if t > now}
            seen = self._seen.get(key)
            if seen is not None and seen > now:
                return False
            self._seen[key] = expires_at
            return True


class DatabaseNonceCache:
    """Shared by every API process on the same database: the primary key refuses a repeat."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._added = 0
        self._lock = threading.Lock()

    def remember(self, username: str, nonce: bytes, expires_at: datetime, now: datetime) -> bool:
        key = nonce_key(username, nonce)
        if self._purge_due():
            self.purge(now)
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(wsse_nonces).values(key=key, expires_at=expires_at))
        except IntegrityError:
            return self._reclaim_expired(key, expires_at, now)
        return True

    def purge(self, now: datetime) -> int:
        with self._engine.begin() as connection:
            result = connection.execute(delete(wsse_nonces).where(wsse_nonces.c.expires_at <= now))
        return result.rowcount

    def _reclaim_expired(self, key: str, expires_at: datetime, now: datetime) -> bool:
        # A stored nonce past its expiry is not a replay (its token is stale anyway).
        with self._engine.begin() as connection:
            stale = (wsse_nonces.c.key == key) & (wsse_nonces.c.expires_at <= now)
            if connection.execute(delete(wsse_nonces).where(stale)).rowcount == 0:
                return False
            connection.execute(insert(wsse_nonces).values(key=key, expires_at=expires_at))
        return True

    def _purge_due(self) -> bool:
        with self._lock:
            self._added += 1
            return self._added % PURGE_EVERY == 1
