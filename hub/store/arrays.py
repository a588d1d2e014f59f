"""PostgreSQL: many rows inserted by one statement whose text never changes (``unnest``).

An ``INSERT … VALUES (…), (…), …`` of a batch has a different text for every batch size:
psycopg converts such a query again at every execution (its cache keeps short texts only;
that was a sixth of the API process's time under load) and PostgreSQL plans it again. Here
each column travels as one array parameter, so the text is the same whatever the number of
rows: converted once, prepared once by the server.

The arrays go in psycopg's binary form: its text form escapes every string of an array by a
regular expression in Python, which was the largest share of the accept writer's own CPU.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import psycopg
from psycopg.types.array import ListBinaryDumper
from sqlalchemy import Connection, Table, TextClause, TypeDecorator, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeEngine

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


class BinaryArray(list[Any]):
    """A column's values, which psycopg sends as a binary array (registered below for this
    type alone: other lists keep psycopg's defaults). The statement's CAST turns the element
    type psycopg chose (text, int2…) into the column's."""


psycopg.adapters.register_dumper(BinaryArray, ListBinaryDumper)


class ArrayRows:
    """``SELECT * FROM unnest(:column::type[], …) AS alias(names)``: rows from one array per
    column, for a caller's larger statement (a CTE read by an UPDATE … FROM, say).

    ``columns`` maps each name to its SQL type (a column's, so the CAST turns the element type
    psycopg chose into it); ``prefix`` goes before each parameter's name."""

    def __init__(
        self, alias: str, columns: Mapping[str, TypeEngine[Any]], *, prefix: str = ""
    ) -> None:
        self.prefix = prefix
        self.columns = dict(columns)
        names = ", ".join(self.columns)
        self.sql = f"SELECT * FROM {_unnest(self.columns, prefix)} AS {alias}({names})"
        self._binders = _binders(self.columns, prefix)

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, BinaryArray]:
        """One list per column, in row order; each value as its type binds it."""
        return _bound(self._binders, rows)


class ArrayInsert:
    """``INSERT INTO table (columns) SELECT * FROM unnest(:column::type[], …)``, built once.

    ``returning`` names columns the statement returns (one row per inserted row); ``prefix``
    goes before each parameter's name (several inserts in one statement: CTEs);
    ``skip_conflicts_on`` names a unique index's columns: a row that would repeat a stored
    key is left out (``ON CONFLICT … DO NOTHING``) and not returned."""

    def __init__(
        self,
        table: Table,
        columns: Sequence[str],
        *,
        returning: Sequence[str] = (),
        prefix: str = "",
        skip_conflicts_on: Sequence[str] = (),
    ) -> None:
        self.table = table
        self.prefix = prefix
        self.columns = tuple(table.c[name] for name in columns)
        self.sql = self._sql(returning, skip_conflicts_on)  # for a caller's larger statement
        self.statement: TextClause = text(self.sql)
        self._binders = _binders({c.name: c.type for c in self.columns}, prefix)

    def _sql(self, returning: Sequence[str], skip_conflicts_on: Sequence[str]) -> str:
        names = ", ".join(column.name for column in self.columns)
        arrays = _unnest({column.name: column.type for column in self.columns}, self.prefix)
        sql = f"INSERT INTO {self.table.name} ({names}) SELECT * FROM {arrays}"
        if skip_conflicts_on:
            sql += f" ON CONFLICT ({', '.join(skip_conflicts_on)}) DO NOTHING"
        if returning:
            sql += " RETURNING " + ", ".join(returning)
        return sql

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, BinaryArray]:
        """One list per column, in row order; each value as its column type binds it."""
        return _bound(self._binders, rows)

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> Any:
        return connection.execute(self.statement, self.parameters(rows))


def _unnest(columns: Mapping[str, TypeEngine[Any]], prefix: str) -> str:
    arrays = ", ".join(
        f"CAST(:{prefix}{name} AS {kind.compile(dialect=_DIALECT)}[])"
        for name, kind in columns.items()
    )
    return f"unnest({arrays})"


# Per column: its parameter's name, the row key it reads, and the conversion its type makes
# before binding (e.g. UTCDateTime refuses naive datetimes), if any. Worked out once per
# statement: building the arrays is on every claim, record and accept batch.
_Binder = tuple[str, str, Callable[[Any], Any] | None]


def _binders(columns: Mapping[str, TypeEngine[Any]], prefix: str) -> tuple[_Binder, ...]:
    return tuple(
        (prefix + name, name, partial(kind.process_bind_param, dialect=_DIALECT))
        if isinstance(kind, TypeDecorator)
        else (prefix + name, name, None)
        for name, kind in columns.items()
    )


def _bound(binders: Sequence[_Binder], rows: Sequence[Mapping[str, Any]]) -> dict[str, BinaryArray]:
    arrays = {}
    for parameter, name, convert in binders:
        values = [row.get(name) for row in rows]
        arrays[parameter] = BinaryArray(map(convert, values) if convert else values)
    return arrays
