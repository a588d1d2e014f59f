"""Engines with the settings each database needs; nothing else opens connections."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Errors quote a statement's parameters: message bodies, identity numbers. Never show them.
HIDE_PARAMETERS = True


def make_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(database_url)
    return create_engine(
        database_url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        hide_parameters=HIDE_PARAMETERS,
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
    if make_url(database_url).get_backend_name() != "postgresql":
        return durable
    return create_engine(
        database_url,
        pool_size=4,
        max_overflow=4,
        hide_parameters=HIDE_PARAMETERS,
        connect_args={"options": "-c synchronous_commit=off"},
    )


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
