"""Failed console logins: after ``account_limit`` failures in a row for one account, or
``address_limit`` from one address, logins there are refused until the lockout ends,
whatever secret is typed. A good login clears its account's count, not its address's: one
valid account must not buy an address more guesses at the others."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, insert, select, update

from hub.console.tables import console_login_failures as table


class Lockout:
    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime],
        *,
        account_limit: int,
        address_limit: int,
        lockout_seconds: float,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._limits = {"account": account_limit, "address": address_limit}
        self._lockout = timedelta(seconds=lockout_seconds)

    def locked_until(self, username: str, address: str) -> datetime | None:
        """When the later of the two locks ends, or None when neither holds now."""
        keys = [_account(username), _address(address)]
        query = select(table.c.locked_until).where(table.c.key.in_(keys))
        with self._engine.connect() as connection:
            ends = [r[0] for r in connection.execute(query) if r[0] is not None]
        live = [end for end in ends if end > self._clock()]
        return max(live) if live else None

    def failed(self, username: str, address: str) -> None:
        with self._engine.begin() as connection:
            self._count(connection, _account(username), self._limits["account"])
            self._count(connection, _address(address), self._limits["address"])

    def succeeded(self, username: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(delete(table).where(table.c.key == _account(username)))

    def _count(self, connection: Connection, key: str, limit: int) -> None:
        row = connection.execute(select(table).where(table.c.key == key)).first()
        now = self._clock()
        if row is None:
            connection.execute(insert(table).values(key=key, failures=0, locked_until=None))
            failures = 1
        else:
            # A lock that ended starts a new count: one more miss must not lock at once.
            ended = row.locked_until is not None and row.locked_until <= now
            failures = 1 if ended else row.failures + 1
        locked = now + self._lockout if failures >= limit else None
        connection.execute(
            update(table).where(table.c.key == key).values(failures=failures, locked_until=locked)
        )


def _account(username: str) -> str:
    return "account:" + username[:200]


def _address(address: str) -> str:
    return "address:" + address[:90]
