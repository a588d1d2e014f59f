"""PostgreSQL: the claim, the record and the audit insert run straight on psycopg
(hub/store/direct.py); a driver error must still reach the callers as SQLAlchemy's, so the
group writers recover from a connection the server dropped, and the outage watch sees it.

The drop is real: the writer's own backend is ended with ``pg_terminate_backend`` between two
of its transactions, so the next statement it sends finds the connection gone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, cast

import psycopg
import pytest
from backends import FakeClock, fresh_postgresql_database, new_message
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from hub.observability import outages
from hub.polling import wait_for
from hub.security import audit
from hub.store import AttemptRecord, ClaimedDelivery, Store
from hub.store.attempt_commit import AttemptCommitter
from hub.store.held_connection import HeldConnection
from hub.store.models import AttemptRow

pytestmark = pytest.mark.distributed
RECEIVERS = ("SOCIAL_SECURITY", "TAX")


@pytest.fixture
def store(clock: FakeClock) -> Iterator[Store]:
    with fresh_postgresql_database() as url:
        store = Store(url, clock=clock)
        store.upgrade()
        yield store
        store.dispose()


def legs(store: Store, messages: int) -> list[int]:
    receipts = [
        store.save_accepted(new_message(), RECEIVERS, lease_seconds=30) for _ in range(messages)
    ]
    return [d.delivery_id for r in receipts for d in r.deliveries]


def kept_driver(held: HeldConnection) -> psycopg.Connection[Any]:
    """The psycopg connection a writer keeps between its transactions."""
    kept = held._connection
    assert kept is not None, "the writer holds no connection"
    return cast(psycopg.Connection[Any], kept.connection.driver_connection)


def end_backend_of(store: Store, held: HeldConnection) -> None:
    """The server ends the held connection's session, as a restart or an admin would."""
    pid = kept_driver(held).info.backend_pid
    with store.engine.connect() as connection:
        assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def test_a_record_whose_writer_connection_the_server_ended_is_stored_once_and_answered(
    store: Store, clock: FakeClock
) -> None:
    committer = AttemptCommitter(store, lease_seconds=30)
    first, second = legs(store, 1)
    claimed = [committer.claim(first, 30), committer.claim(second, 30)]
    assert all(claimed)
    one, two = (leg for leg in claimed if leg is not None)
    assert committer.record_attempt(one, AttemptRecord("delivered", clock(), 3)) == "delivered"
    end_backend_of(store, committer._recording)
    # Alone, the record meets the dropped connection, is written again on a fresh one, and
    # the delivery thread hears its state (not the driver's error).
    assert committer.record_attempt(two, AttemptRecord("delivered", clock(), 3)) == "delivered"
    with store.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(AttemptRow)) == 2
        report = audit.verify(connection)
    assert report.ok and report.head_seq == 1 + 2, report.reason


def test_a_claim_whose_writer_connection_the_server_ended_raises_a_database_outage(
    store: Store,
) -> None:
    committer = AttemptCommitter(store, lease_seconds=30)
    first, second = legs(store, 1)
    assert committer.claim(first, 30) is not None
    end_backend_of(store, committer._claiming)
    with pytest.raises(DBAPIError) as raised:
        committer.claim(second, 30)
    assert raised.value.connection_invalidated
    assert outages.is_database_outage(raised.value)
    taken = committer.claim(second, 30)  # the writer connects afresh
    assert isinstance(taken, ClaimedDelivery) and taken.delivery_id == second


def test_a_claim_is_committed_by_its_statement_and_its_connection_goes_back_transactional(
    store: Store,
) -> None:
    committer = AttemptCommitter(store, lease_seconds=30)
    first, _ = legs(store, 1)
    assert committer.claim(first, 30) is not None
    driver = kept_driver(committer._claiming)
    assert driver.autocommit  # no BEGIN and COMMIT round trips
    assert driver.info.transaction_status == TransactionStatus.IDLE
    pid = driver.info.backend_pid
    committer._claiming.release()
    # The next writer that takes this pooled connection has its transactions again.
    held = store.held_connection()
    with held.begin():
        pass
    again = kept_driver(held)
    assert again.info.backend_pid == pid
    assert not again.autocommit


def test_a_writer_that_rests_holds_no_result_and_a_pooled_user_takes_its_own_cursors(
    store: Store,
) -> None:
    """A writer's statements share one cursor while it holds its connection; the cursor holds
    the last result (a claim's canonical bodies) only until the writer rests."""
    committer = AttemptCommitter(store, lease_seconds=30)
    first, second = legs(store, 1)
    assert committer.claim(first, 30) is not None
    cursor = kept_cursor(committer._claiming)
    assert cursor is not None and cursor.pgresult is not None  # the claimed row
    assert committer.claim(second, 30) is not None
    assert kept_cursor(committer._claiming) is cursor
    pid = kept_driver(committer._claiming).info.backend_pid

    committer._claiming.release()

    assert cursor.closed
    with store.engine.connect() as connection:  # the pool's, perhaps the same backend
        taken = store.claim_sealed([first], 30, via=_ConnectionAsIs(connection))
        assert taken == [None]  # claimed already, answered all the same
        assert "govhub.direct.kept_cursor" not in connection.info
    held = store.held_connection(single_statements=True)
    with held.begin():
        pass
    assert kept_driver(held).info.backend_pid == pid  # the same connection, a fresh cursor
    assert kept_cursor(held) is None


def kept_cursor(held: HeldConnection) -> psycopg.Cursor[Any] | None:
    kept = held._connection
    assert kept is not None, "the writer holds no connection"
    return cast("psycopg.Cursor[Any] | None", kept.info.get("govhub.direct.kept_cursor"))


class _ConnectionAsIs:
    """``Transactions`` over a connection the test took from the pool."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.connection.begin():
            yield self.connection


def test_a_record_the_database_refuses_raises_sqlalchemys_error_and_writes_nothing(
    store: Store, clock: FakeClock
) -> None:
    leg = store.claim(legs(store, 1)[0], lease_seconds=30)
    assert leg is not None
    unknown = replace(leg, delivery_id=leg.delivery_id + 1000)
    with pytest.raises(IntegrityError) as raised:
        store.record_attempts([(unknown, AttemptRecord("delivered", clock(), 3))])
    assert not raised.value.connection_invalidated
    with store.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(AttemptRow)) == 0
    assert store.record_attempts([(leg, AttemptRecord("delivered", clock(), 3))]) == ["delivered"]


def test_a_record_batch_locks_its_delivery_rows_before_the_audit_head(
    store: Store, clock: FakeClock
) -> None:
    # The store's lock order (hub/store/leases.py): delivery rows first, the audit head last,
    # so a replay and a record cannot deadlock. The record's one statement must keep it: while
    # another transaction holds the head, the record waits holding its delivery row already.
    leg = store.claim(legs(store, 1)[0], lease_seconds=30)
    assert leg is not None
    answers: list[list[str]] = []
    with store.engine.connect() as holder:
        holder.execute(text("UPDATE audit_head SET seq = seq"))  # the head, held
        recording = threading.Thread(
            target=lambda: answers.append(
                store.record_attempts([(leg, AttemptRecord("delivered", clock(), 3))])
            )
        )
        recording.start()
        try:
            assert wait_for(lambda: waiting_on_a_lock(store), seconds=30), "never waited"
            with store.engine.connect() as other, pytest.raises(DBAPIError, match="lock"):
                other.execute(
                    text("SELECT id FROM deliveries WHERE id = :id FOR UPDATE NOWAIT"),
                    {"id": leg.delivery_id},
                )
        finally:
            holder.rollback()
            recording.join(timeout=30)
    assert answers == [["delivered"]]


def waiting_on_a_lock(store: Store) -> bool:
    with store.engine.connect() as connection:
        return bool(
            connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            )
        )
