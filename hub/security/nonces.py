"""Seen WS-Security nonces, so a replayed request is refused. A nonce is remembered until its
token could no longer pass the freshness check (created + max age + skew)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple, Protocol

from sqlalchemy import Engine, delete, insert
from sqlalchemy.exc import IntegrityError

from hub.security.tables import wsse_nonces
from hub.store.batching import Batcher

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


class _Nonce(NamedTuple):
    key: str
    expires_at: datetime
    now: datetime


class DatabaseNonceCache:
    """Shared by every API process on the same database: the primary key refuses a repeat.

    Requests checked at the same moment share one transaction (a writer thread, as for
    accepts: hub/store/batching.py): on SQLite each transaction waits for the one write lock,
    and a forward from a neighbour hub paid for its nonce's. A batch that collides (a repeat,
    even within the batch) is written again nonce by nonce: the same answers as alone.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._added = 0
        self._lock = threading.Lock()
        self._writer: Batcher[_Nonce, bool] = Batcher(
            self._remember_many, self._remember_one, name="nonce-commit"
        )

    def remember(self, username: str, nonce: bytes, expires_at: datetime, now: datetime) -> bool:
        if self._purge_due():
            self.purge(now)
        return self._writer.submit(_Nonce(nonce_key(username, nonce), expires_at, now))

    def _remember_many(self, batch: Sequence[_Nonce]) -> list[bool]:
        with self._engine.begin() as connection:
            connection.execute(
                insert(wsse_nonces), [{"key": n.key, "expires_at": n.expires_at} for n in batch]
            )
        return [True] * len(batch)

    def _remember_one(self, nonce: _Nonce) -> bool:
        key, expires_at, now = nonce
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
