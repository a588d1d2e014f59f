"""Engines with the settings each database needs; nothing else opens connections."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from hub.observability import outages

SQLITE_BUSY_TIMEOUT_MS = 10_000
# How long a new PostgreSQL connection may take before the request behind it is told the
# database is unavailable (docs/operations.md).
CONNECT_TIMEOUT_SECONDS = 5
# Errors quote a statement's parameters: message bodies, identity numbers. Never show them.
HIDE_PARAMETERS = True


def make_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(database_url)
    return _noting_recovery(
        create_engine(
            database_url,
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=10,
            hide_parameters=HIDE_PARAMETERS,
            connect_args=_connect_timeout(url),
        )
    )


def make_relaxed_engine(database_url: str, durable: Engine) -> Engine:
    """For claims and attempt records only: on PostgreSQL their commits return before the WAL
    reaches the disk, and a connection is not pinged before each use (one round trip fewer).

    One lost in a database crash is redone: the relay republishes, the department absorbs the
    repeat by its idempotency key. The WAL is written in order, so the next durable commit (an
    accept) makes every earlier one durable: the audit chain can lose a tail, never a link. A
    connection that went stale fails its batch, whose items are then written alone on fresh
    connections (hub/store/batching.py). SQLite keeps its one durable engine.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return durable
    return _noting_recovery(
        create_engine(
            database_url,
            pool_size=4,
            max_overflow=4,
            hide_parameters=HIDE_PARAMETERS,
            connect_args={"options": "-c synchronous_commit=off", **_connect_timeout(url)},
        )
    )


def _connect_timeout(url: URL) -> dict[str, Any]:
    """libpq's ``connect_timeout`` unless the URL sets it (``?connect_timeout=N``): without
    one, a connection to a server that went silent waits for the kernel's TCP timeout
    (minutes), and so does every request behind it."""
    if url.get_backend_name() != "postgresql" or "connect_timeout" in url.query:
        return {}
    return {"connect_timeout": CONNECT_TIMEOUT_SECONDS}


def _noting_recovery(engine: Engine) -> Engine:
    """A new connection made is the database answering again: the outage's closing line is
    said by whichever thread reconnects first, whatever it was doing."""
    event.listen(engine, "connect", lambda _connection, _record: outages.DATABASE.answered())
    return engine


def _sqlite_engine(database_url: str) -> Engine:
    engine = create_engine(
        database_url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        hide_parameters=HIDE_PARAMETERS,
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the caller gets its receipt, even after power loss.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()
