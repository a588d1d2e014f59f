"""Paused retries: a department whose deliveries wait until an operator resumes them.

While a department is paused no attempt starts for it: the relay publishes none of its legs,
and a worker that takes one of its tasks from the bus leaves the leg as it is (an attempt
already under way finishes). Every leg waits in its state, nothing is failed or lost; first
deliveries wait too (a first delivery to a department in trouble is a retry that has not
failed yet). Each process learns of a pause at its relay's next pass (one poll,
``GOVHUB_RELAY_INTERVAL_SECONDS``) and of a resume at once (a worker holding a task checks the
database again). Pausing and resuming are audited with who and why.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, insert, select, update

from hub.errors import NotFound, ReasonRequired
from hub.observability.pause_table import retry_pauses
from hub.security import audit
from hub.store.due import DELIVERIES_DUE
from hub.store.models import DeliveryRow
from hub.untrusted import shown


@dataclass(frozen=True)
class Pause:
    department: str
    paused_by: str
    reason: str
    paused_at: datetime


class RetryPauses:
    """The pauses in the database: set, lifted, listed. ``known``: the departments that may
    be paused (None: any code)."""

    def __init__(
        self,
        engine: Engine,
        known: Callable[[], Iterable[str]] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.known = known
        self.clock = clock

    def pause(self, department: str, *, actor: str, reason: str) -> Pause:
        """Pause the department (again: the newest who and why are kept)."""
        if self.known is not None and department not in set(self.known()):
            raise NotFound(f"no department {department!r}")
        if not reason.strip():
            raise ReasonRequired("say why the department's deliveries are paused")
        pause = Pause(department, actor, reason, self.clock())
        with self.engine.begin() as connection:
            connection.execute(delete(retry_pauses).where(retry_pauses.c.department == department))
            connection.execute(insert(retry_pauses).values(**pause.__dict__))
            _audited(connection, pause.paused_at, actor, "pause retries", department, reason)
        return pause

    def resume(self, department: str, *, actor: str) -> Pause:
        """Lift the pause; the legs it held are due at once. NotFound if none was set."""
        now = self.clock()
        with self.engine.begin() as connection:
            lifted = connection.execute(
                delete(retry_pauses)
                .where(retry_pauses.c.department == department)
                .returning(*retry_pauses.c)
            ).first()
            if lifted is None:
                raise NotFound(f"deliveries to {department} are not paused")
            _release_held(connection, department, now)
            _audited(connection, now, actor, "resume retries", department, None)
        DELIVERIES_DUE.ring()  # the held legs are due now: a resting relay looks at once
        return Pause(*lifted)

    def all_pauses(self) -> list[Pause]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(retry_pauses).order_by(retry_pauses.c.department))
            return [Pause(*row) for row in rows]

    def paused(self) -> frozenset[str]:
        with self.engine.connect() as connection:
            return frozenset(connection.execute(select(retry_pauses.c.department)).scalars())


class PauseBoard:
    """A process's view of the pauses: read once a poll (by the relay), asked per task
    without touching the database."""

    def __init__(self, pauses: RetryPauses, max_age_seconds: float = float("inf")) -> None:
        self.pauses = pauses
        # A view older than this (the relay rested) is read again before a task is judged.
        self.max_age_seconds = max_age_seconds
        self._paused: frozenset[str] = frozenset()
        self._read_at = -float("inf")
        self._lock = threading.Lock()

    def refresh(self) -> frozenset[str]:
        paused = self.pauses.paused()
        with self._lock:
            self._paused, self._read_at = paused, time.monotonic()
        return paused

    def holds(self, department: str) -> bool:
        """True while ``department`` is paused. A pause seen at the last poll is checked
        again in the database, so a task that arrives just after a resume is not held
        until its lease ends (the check costs a query only while a pause is on, or after
        the relay rested: a pause made meanwhile in another process holds all the same)."""
        if time.monotonic() - self._read_at > self.max_age_seconds:
            self.refresh()
        if department not in self._paused:
            return False
        return department in self.refresh()


def _release_held(connection: Connection, department: str, now: datetime) -> None:
    """First deliveries held by the pause go at the relay's next pass instead of at the end
    of their lease; retries keep their schedule (one due during the pause is due now)."""
    connection.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.department == department,
            DeliveryRow.state == "queued",
            DeliveryRow.lease_until > now,
        )
        .values(lease_until=now)
    )


def _audited(
    connection: Connection,
    at: datetime,
    actor: str,
    change: str,
    department: str,
    reason: str | None,
) -> None:
    details = {"change": change} | ({"reason": shown(reason)} if reason else {})
    audit.append(
        connection,
        actor=actor,
        action=audit.ADMIN_CHANGE,
        subject=f"department {department}",
        at=at,
        details=details,
    )
