"""One database connection a writer thread keeps between its transactions.

A delivery worker's claim and record writers commit hundreds of small transactions a second;
taking a pooled connection for each (checkout, reset on return, a new ``Connection`` object)
was 11% of their time. A transaction that fails drops the connection (it may be what broke):
the next one connects afresh, so a writer recovers from a database outage as a pooled
connection would.

A writer whose every transaction is one statement on PostgreSQL (the claims) keeps its
connection in autocommit: psycopg otherwise sends BEGIN and COMMIT as round trips of their
own, three per claim batch where one does. The statement is atomic by itself, and runs
outside a SQLAlchemy transaction (the claim's statement goes straight to psycopg,
hub/store/direct.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from sqlalchemy import Connection, Engine

from hub.store.direct import drop_cursor, keep_cursor


class Transactions(Protocol):
    """Where a store method runs its transaction: an ``Engine`` or a ``HeldConnection``."""

    def begin(self) -> AbstractContextManager[Connection]: ...


class HeldConnection:
    """Not thread-safe: used by one writer thread at a time (a Batcher's)."""

    def __init__(self, engine: Engine, *, single_statements: bool = False) -> None:
        """``single_statements``: every transaction run here is one statement (autocommit
        on PostgreSQL; other databases keep their transactions)."""
        self._engine = engine
        self._autocommit = single_statements and engine.dialect.name == "postgresql"
        self._connection: Connection | None = None

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction on the kept connection (connected first if none), committed at the
        end of the block, rolled back if it raises."""
        connection = self._connection or self._connect()
        self._connection = None
        try:
            if self._autocommit:  # each statement commits itself: SQLAlchemy's bookkeeping of
                yield connection  # a transaction around it was a tenth of a claim's CPU
            else:
                with connection.begin():
                    yield connection
        except BaseException:
            _let_go(connection)  # perhaps broken: the next transaction connects afresh
            raise
        self._connection = connection

    def _connect(self) -> Connection:
        connection = self._engine.connect()
        if self._autocommit:  # undone by the pool when the connection goes back
            connection.execution_options(isolation_level="AUTOCOMMIT")
        keep_cursor(connection)  # its direct statements share one cursor (hub/store/direct.py)
        return connection

    def release(self) -> None:
        """Give the connection back to the pool (its writer rests)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            _let_go(connection)


def _let_go(connection: Connection) -> None:
    if not connection.invalidated:  # (an invalidated one's info went with its DBAPI connection)
        drop_cursor(connection)  # before the pool has it: a pooled user takes its own cursors
    connection.close()
