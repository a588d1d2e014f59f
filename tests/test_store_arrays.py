"""PostgreSQL: the rows a batch statement sends as one array per column (hub/store/arrays.py)
arrive as they were, whatever their values: each column's array is typed by the column, so
psycopg no longer looks at the values to choose how to send them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from backends import fresh_postgresql_database
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    select,
    text,
)

from hub.store.arrays import ArrayInsert, ArrayRows
from hub.store.models import UTCDateTime

pytestmark = pytest.mark.distributed

METADATA = MetaData()
ROWS = Table(
    "array_rows",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("amount", Integer),
    Column("code", String(40)),
    Column("note", Text),
    Column("at", UTCDateTime),
    Column("local_at", DateTime),  # naive: psycopg still chooses its type from the values
    Column("body", LargeBinary),
)
COLUMNS = [column.name for column in ROWS.columns]
LATE = datetime(2026, 12, 8, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5)))


@pytest.fixture
def engine() -> Iterator[Engine]:
    with fresh_postgresql_database() as url:
        engine = create_engine(url)
        METADATA.create_all(engine)
        yield engine
        engine.dispose()


def stored(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(select(ROWS).order_by(ROWS.c.id)).mappings().all()
    return [dict(row) for row in rows]


def test_rows_of_every_kind_of_value_are_stored_as_they_were_sent(engine: Engine) -> None:
    rows = [
        {
            "id": 1,
            "amount": 2_000_000_000,
            "code": 'quote " and \\ back',
            "note": "Šárka Ñúñez, 日本",
            "at": LATE,
            "local_at": datetime(2026, 1, 2, 3, 4, 5),
            "body": b"\x00\xff<xml/>",
        },
        {  # every value missing: the arrays hold a null there
            "id": 2,
            "amount": None,
            "code": None,
            "note": None,
            "at": None,
            "local_at": None,
            "body": None,
        },
        {
            "id": 3,
            "amount": -7,
            "code": "",
            "note": "",
            "at": datetime(2000, 1, 1, tzinfo=UTC),
            "local_at": None,
            "body": b"",
        },
    ]
    with engine.begin() as connection:
        ArrayInsert(ROWS, COLUMNS).execute(connection, rows)

    found = stored(engine)

    assert found == rows  # aware datetimes compare as instants
    assert found[0]["at"] == datetime(2026, 12, 9, 4, 59, 59, 999999, tzinfo=UTC)


def test_a_column_whose_values_are_all_missing_is_sent_as_its_type(engine: Engine) -> None:
    """psycopg cannot tell an array of nulls' type from its values; the column's type says."""
    rows = [{"id": n, "amount": None, "at": None, "body": None} for n in (1, 2)]
    with engine.begin() as connection:
        ArrayInsert(ROWS, ["id", "amount", "at", "body"]).execute(connection, rows)

    assert [(row["id"], row["amount"], row["at"]) for row in stored(engine)] == [
        (1, None, None),
        (2, None, None),
    ]


def test_rows_read_from_arrays_in_a_larger_statement_keep_their_types(engine: Engine) -> None:
    """``ArrayRows``: a caller's CTE reads the arrays back as typed columns."""
    rows_from = ArrayRows("r", {"n": Integer(), "label": Text(), "at": UTCDateTime()})
    sent = [{"n": 5, "label": "ğ", "at": LATE}, {"n": None, "label": None, "at": None}]
    with engine.connect() as connection:
        read = connection.execute(
            text(f"SELECT n + 1 AS next, label, at FROM ({rows_from.sql}) AS sent"),
            rows_from.parameters(sent),
        ).all()

    assert [tuple(row) for row in read] == [(6, "ğ", LATE), (None, None, None)]


def test_no_batch_writes_anything_when_one_rows_value_does_not_fit_its_column(
    engine: Engine,
) -> None:
    rows = [{"id": 1, "code": "fits"}, {"id": 2, "code": "x" * 41}]
    with pytest.raises(Exception, match="too long"), engine.begin() as connection:
        ArrayInsert(ROWS, ["id", "code"]).execute(connection, rows)

    assert stored(engine) == []
