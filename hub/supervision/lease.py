"""The signal pass's lease: any worker instance may run the pass, never two at once.

A row per lease (``supervision_leases``): its holder and until when. ``take(now)`` renews the
caller's own lease or takes one that has run out, in one conditional UPDATE (PostgreSQL
re-checks the condition after a concurrent writer commits, SQLite has one writer), and
inserts the row the first time (the primary key lets one of two racing inserts in). A holder
that dies simply stops renewing: another instance takes over when ``seconds`` have passed.
The lease saves the repeated work; the signals' unique (case, rule) still keeps a signal
single if a pass outlives its lease.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hub.supervision.tables import supervision_leases as table

SIGNAL_PASS = "signal-pass"


def new_holder() -> str:
    """This process's name for itself: host, pid and a random tail (two issuers in one
    process are two holders)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class PassLease:
    def __init__(
        self,
        engine: Engine,
        seconds: float,
        *,
        holder: str | None = None,
        name: str = SIGNAL_PASS,
    ) -> None:
        self._engine = engine
        self._length = timedelta(seconds=seconds)
        self.holder = holder or new_holder()
        self._name = name

    def take(self, now: datetime) -> bool:
        """True when this holder has the lease until ``now`` + its length."""
        until = now + self._length
        with self._engine.begin() as connection:
            taken = connection.execute(
                update(table)
                .where(
                    table.c.name == self._name,
                    or_(table.c.holder == self.holder, table.c.until <= now),
                )
                .values(holder=self.holder, until=until)
            ).rowcount
            if taken:
                return True
            if connection.scalar(select(table.c.holder).where(table.c.name == self._name)):
                return False  # someone else holds it
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    insert(table).values(name=self._name, holder=self.holder, until=until)
                )
        except IntegrityError:  # another instance inserted it first
            return False
        return True

    def release(self, now: datetime) -> None:
        """Give the lease up (a clean stop): the next instance need not wait for it to run out."""
        with self._engine.begin() as connection:
            connection.execute(
                update(table)
                .where(table.c.name == self._name, table.c.holder == self.holder)
                .values(until=now)
            )

    def holder_now(self, now: datetime) -> str | None:
        """Who holds the lease at ``now`` (None: nobody; it ran out or was never taken)."""
        with self._engine.connect() as connection:
            row = connection.execute(
                select(table.c.holder, table.c.until).where(table.c.name == self._name)
            ).first()
        return row.holder if row is not None and row.until > now else None
