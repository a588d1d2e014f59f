"""Server-side console sessions: the browser holds a random token, the database its SHA-256,
the account's name, a CSRF token and when the session ends."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, select

from hub.console.tables import console_sessions as table


@dataclass(frozen=True)
class ConsoleSession:
    token: str  # what the cookie carries; never stored
    username: str
    csrf_token: str
    expires_at: datetime


class SessionStore:
    def __init__(
        self, engine: Engine, clock: Callable[[], datetime], lifetime_seconds: float
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._lifetime = timedelta(seconds=lifetime_seconds)

    def open(self, username: str) -> ConsoleSession:
        now = self._clock()
        session = ConsoleSession(
            secrets.token_urlsafe(32), username, secrets.token_urlsafe(32), now + self._lifetime
        )
        row = {
            "id": _digest(session.token),
            "username": username,
            "csrf_token": session.csrf_token,
            "created_at": now,
            "expires_at": session.expires_at,
        }
        with self._engine.begin() as connection:
            # Expired sessions go when a new one comes: the table stays as small as its users.
            connection.execute(delete(table).where(table.c.expires_at <= now))
            connection.execute(insert(table).values(row))
        return session

    def find(self, token: str) -> ConsoleSession | None:
        """The live session the token opens, or None (unknown, or expired)."""
        if not token:
            return None
        query = select(table).where(table.c.id == _digest(token))
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None or row.expires_at <= self._clock():
            return None
        return ConsoleSession(token, row.username, row.csrf_token, row.expires_at)

    def close(self, token: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(delete(table).where(table.c.id == _digest(token)))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
