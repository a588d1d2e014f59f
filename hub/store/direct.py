"""PostgreSQL: the writers' hottest statements sent straight to psycopg.

A delivery worker claims and records hundreds of times a second, the API accepts as often;
SQLAlchemy's execution around each statement (an execution context, the parameters processed
one by one, a result object) cost as much CPU as psycopg's own work. A ``DirectStatement`` is
compiled once with its constant parameters bound, and runs on the psycopg connection beneath
the caller's SQLAlchemy ``Connection``, inside its transaction: the commit and the rollback
stay SQLAlchemy's. A driver error is raised as SQLAlchemy raises it (a ``DBAPIError``
subclass, the connection invalidated when it was lost), so callers handle one kind of error.
Statement events (``before_cursor_execute``) do not see these statements.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from hub.store.arrays import BinaryArray

_DIALECT = psycopg_dialect()  # type: ignore[no-untyped-call]


class DirectStatement:
    """Thread-safe once built (the compiled text and constants are only read)."""

    def __init__(self, statement: ClauseElement) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=_DIALECT))
        self.sql = compiled.string
        self._constants: dict[str, Any] = {}  # the statement's literals, bound once
        self._processors: dict[str, Callable[[Any], Any]] = {}  # the caller's, per value
        for bind, name in compiled.bind_names.items():
            processor = bind.type.bind_processor(_DIALECT)
            if bind.required:
                if processor is not None:
                    self._processors[name] = processor
            else:
                value = bind.effective_value
                self._constants[name] = processor(value) if processor else value

    def rows(self, connection: Connection, parameters: Mapping[str, Any]) -> list[Any]:
        """The statement's rows (named tuples; none for a statement that returns none)."""
        bound = {**self._constants, **parameters}
        for name, processor in self._processors.items():
            # An array from hub/store/arrays.py is psycopg's to dump as it is (typed).
            if name in parameters and not isinstance(parameters[name], BinaryArray):
                bound[name] = processor(parameters[name])
        driver = connection.connection.driver_connection
        kept = _KEPT_CURSOR in connection.info
        cursor = connection.info.get(_KEPT_CURSOR)
        if cursor is None:
            cursor = driver.cursor(row_factory=namedtuple_row)  # type: ignore[union-attr]
            if kept:
                connection.info[_KEPT_CURSOR] = cursor
        try:
            cursor.execute(self.sql, bound)
            return cursor.fetchall() if _has_rows(cursor.pgresult) else []
        except psycopg.Error as error:
            drop_cursor(connection)
            lost = bool(connection.dialect.is_disconnect(error, driver, cursor))  # type: ignore[arg-type]
            if lost:
                connection.invalidate(error)
            raise DBAPIError.instance(
                self.sql, bound, error, psycopg.Error, connection_invalidated=lost
            ) from error
        finally:
            if not kept:
                cursor.close()


# A writer's kept connection (hub/store/held_connection.py) runs its direct statements on one
# cursor: a new cursor per statement sets up its adapters and result loaders afresh, about a
# sixth of a claim's CPU. The cursor holds its last result until the next statement, so it is
# kept only while the writer holds the connection (in the pool's record of it: dropped first).
_KEPT_CURSOR = "govhub.direct.kept_cursor"


def keep_cursor(connection: Connection) -> None:
    """Direct statements on ``connection`` share one cursor until ``drop_cursor``."""
    connection.info[_KEPT_CURSOR] = None


def drop_cursor(connection: Connection) -> None:
    """Close the shared cursor (and its last result); statements take their own again."""
    cursor = connection.info.pop(_KEPT_CURSOR, None)
    if cursor is not None:
        cursor.close()


def _has_rows(result: psycopg.pq.abc.PGresult | None) -> bool:
    """Whether the statement answered rows (zero or more). ``cursor.description`` tells the
    same by building a column object per column, a fifth of a claim's CPU."""
    return result is not None and result.status == psycopg.pq.ExecStatus.TUPLES_OK
