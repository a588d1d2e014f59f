"""PostgreSQL: many rows inserted by one statement whose text never changes (``unnest``).

An ``INSERT … VALUES (…), (…), …`` of a batch has a different text for every batch size:
psycopg converts such a query again at every execution (its cache keeps short texts only;
that was a sixth of the API process's time under load) and PostgreSQL plans it again. Here
each column travels as one array parameter, so the text is the same whatever the number of
rows: converted once, prepared once by the server.

The arrays go in psycopg's binary form: its text form escapes every string of an array by a
regular expression in Python, which was the largest share of the accept writer's own CPU.
Each column's array is typed by the column (``typed_array``): psycopg otherwise looks for a
first element, asks for its dumper and builds an array dumper for it, for every array of
every execution, which was a tenth of a delivery worker's CPU.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

import psycopg
from psycopg import postgres, pq
from psycopg.abc import AdaptContext, Dumper
from psycopg.adapt import PyFormat
from psycopg.types.array import ListBinaryDumper
from sqlalchemy import Connection, String, Table, TextClause, TypeDecorator, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeEngine

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


class BinaryArray(list[Any]):
    """A column's values, which psycopg sends as a binary array (registered below for this
    type alone: other lists keep psycopg's defaults). The statement's CAST turns the element
    type psycopg chose (text, int2…) into the column's."""


psycopg.adapters.register_dumper(BinaryArray, ListBinaryDumper)


class _KnownElementDumper(ListBinaryDumper):
    """An array whose element dumper is fixed by its class: with ``oid`` set, psycopg's
    ``get_key`` and ``upgrade`` return at once instead of inspecting the values."""

    element: type[Dumper]
    element_type: type
    array_oid: int

    def __init__(self, cls: type, context: AdaptContext | None = None) -> None:
        super().__init__(cls, context)
        self.sub_dumper = self.element(self.element_type, context)
        self.oid = self.array_oid


def _known_elements(name: str, element_type: type, element: type[Dumper]) -> type[BinaryArray]:
    """A ``BinaryArray`` of ``element_type`` values (or None), registered with its dumper."""
    array = type(name, (BinaryArray,), {"__doc__": f"A column's {name[:-5].lower()} values."})
    array_oid = postgres.types.get(element(element_type).oid).array_oid  # type: ignore[union-attr]
    dumper = type(
        f"{name}Dumper",
        (_KnownElementDumper,),
        {"element": element, "element_type": element_type, "array_oid": array_oid},
    )
    psycopg.adapters.register_dumper(array, dumper)
    return array


def _by_oid(name: str) -> type[Dumper]:
    return psycopg.adapters.get_dumper_by_oid(postgres.types.get(name).oid, pq.Format.BINARY)  # type: ignore[union-attr]


def _by_type(python_type: type) -> type[Dumper]:
    return psycopg.adapters.get_dumper(python_type, PyFormat.BINARY)


# int8, not psycopg's int dumper: that one picks int2, int4… by each value's size.
IntArray = _known_elements("IntArray", int, _by_oid("int8"))
TextArray = _known_elements("TextArray", str, _by_type(str))
BytesArray = _known_elements("BytesArray", bytes, _by_type(bytes))
# Aware datetimes only: the hub's timestamps are UTC (UTCDateTime refuses naive ones).
TimestampArray = _known_elements("TimestampArray", datetime, _by_oid("timestamptz"))
_BY_PYTHON_TYPE: dict[type, type[BinaryArray]] = {
    int: IntArray,
    str: TextArray,
    bytes: BytesArray,
    datetime: TimestampArray,
}


def typed_array(kind: TypeEngine[Any]) -> type[BinaryArray]:
    """The array class for a column of SQL type ``kind`` (after its TypeDecorator's
    conversion): one of the typed ones above, or psycopg's inspection for any other."""
    impl = _stored_type(kind)
    try:
        python_type = impl.python_type
    except NotImplementedError:
        return BinaryArray
    if python_type is datetime and not getattr(impl, "timezone", False):
        return BinaryArray
    return _BY_PYTHON_TYPE.get(python_type, BinaryArray)


def _stored_type(kind: TypeEngine[Any]) -> TypeEngine[Any]:
    """The SQL type a value is stored as: a TypeDecorator's underlying one."""
    return kind.impl_instance if isinstance(kind, TypeDecorator) else kind


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
        f"CAST(:{prefix}{name} AS {_element_sql(kind)}[])" for name, kind in columns.items()
    )
    return f"unnest({arrays})"


def _element_sql(kind: TypeEngine[Any]) -> str:
    """The array's element type: the column's, but a bounded string's as TEXT, since a CAST
    to VARCHAR(n) cuts a longer value silently; the column's own check refuses it instead."""
    impl = _stored_type(kind)
    if isinstance(impl, String) and impl.length is not None:
        return "TEXT"
    return kind.compile(dialect=_DIALECT)


# Per column: its parameter's name, the row key it reads, the conversion its type makes
# before binding (e.g. UTCDateTime refuses naive datetimes), if any, and its array class.
# Worked out once per statement: building the arrays is on every claim, record and accept.
_Binder = tuple[str, str, Callable[[Any], Any] | None, type[BinaryArray]]


def _binders(columns: Mapping[str, TypeEngine[Any]], prefix: str) -> tuple[_Binder, ...]:
    return tuple(
        (
            prefix + name,
            name,
            partial(kind.process_bind_param, dialect=_DIALECT)
            if isinstance(kind, TypeDecorator)
            else None,
            typed_array(kind),
        )
        for name, kind in columns.items()
    )


def _bound(binders: Sequence[_Binder], rows: Sequence[Mapping[str, Any]]) -> dict[str, BinaryArray]:
    arrays = {}
    for parameter, name, convert, array in binders:
        values = [row.get(name) for row in rows]
        arrays[parameter] = array(map(convert, values) if convert else values)
    return arrays
