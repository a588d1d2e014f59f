"""One log line when something the hub needs goes away, one when it answers again.

While the database or the bus is down, every request and every pass of a loop fails the same
way; a line (or a traceback) for each would bury the one thing an operator needs to know: when
it went, why, and when it came back. The failures meanwhile are counted, not logged.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    TimeoutError,
)

from hub.identity import mask_in_text

log = logging.getLogger("hub.outages")


class Outage:
    """Thread-safe; ``failed`` and ``answered`` may be called from every request's thread."""

    def __init__(self, what: str, consequence: str) -> None:
        self.what = what  # "the database"
        self.consequence = consequence  # "Submit answers Server.Unavailable"
        self._lock = threading.Lock()
        self._since: float | None = None
        self._failures = 0

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException) -> None:
        with self._lock:
            self._failures += 1
            if self._since is not None:
                return
            self._since = time.monotonic()
        log.warning(
            "%s is unavailable (%s); %s until it answers again",
            self.what,
            describe(error),
            self.consequence,
        )

    def answered(self) -> None:
        if self._since is None:  # the common case: no lock taken
            return
        with self._lock:
            if self._since is None:
                return
            seconds, failures = time.monotonic() - self._since, self._failures
            self._since, self._failures = None, 0
        log.warning(
            "%s answers again after %.1f s (%d failures meanwhile)", self.what, seconds, failures
        )


def describe(error: BaseException) -> str:
    """The error's class and the first line of its message, masked: a driver's message can
    quote a statement or span many lines."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    first = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return mask_in_text(f"{type(cause).__name__}: {first}"[:300])


def is_database_outage(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be reached (not that a statement was wrong):
    a connection refused, dropped or timed out."""
    if isinstance(error, (DisconnectionError, TimeoutError)):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        # PostgreSQL's OperationalError (refused, closed by the server, shutting down) and
        # InterfaceError (a connection already closed) are "not your statement"; SQLite's
        # OperationalError also means "no such table" or "locked", which are not outages.
        driver = type(error.orig).__module__.partition(".")[0]
        return driver == "psycopg" and isinstance(error, (OperationalError, InterfaceError))
    return False


def database_away(error: BaseException) -> bool:
    """Whether ``error``, or an error it was raised from, says the database cannot be reached;
    if so the outage is noted (its one line). Every front (SOAP, console, native HTTP) asks
    this where it answers, so an operation need not know the database can go away."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        if is_database_outage(cause):
            DATABASE.failed(cause)
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


# What a caller is told to wait before asking again (HTTP Retry-After) while the database is away.
RETRY_AFTER_SECONDS = 5
# One per process: every API thread reports the same database.
DATABASE = Outage("the database", "requests that need it answer Server.Unavailable")
