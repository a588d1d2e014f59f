"""A record batch whose COMMIT reached the server but whose answer was lost (the connection
dropped on the way back) is retried item by item; each retried record must be recognised as
already stored, so no attempt row and no audit entry is written twice. A claim batch lost the
same way is not taken again by its retry either (its deliveries wait for the lease).

The loss is made on the real engine: its dialect's commit runs, then the client's connection
is closed and the driver's own error raised, as when the server's answer never arrives.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from backends import FakeClock, new_message
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError

from hub.polling import wait_for
from hub.security import audit
from hub.security.tables import audit_log
from hub.store import AttemptRecord, ClaimedDelivery, Store
from hub.store.attempt_commit import AttemptCommitter
from hub.store.models import AttemptRow, DeliveryRow

RECEIVERS = ("SOCIAL_SECURITY", "TAX")


def claimed_legs(store: Store, messages: int) -> list[ClaimedDelivery]:
    legs = []
    for _ in range(messages):
        receipt = store.save_accepted(new_message(), RECEIVERS, lease_seconds=30)
        for delivery in receipt.deliveries:
            taken = store.claim(delivery.delivery_id, lease_seconds=30)
            assert taken is not None
            legs.append(taken)
    return legs


def writers_engine(store: Store) -> Engine:
    """The engine the claim and record writers commit on (the relaxed one on PostgreSQL)."""
    return store._relaxed


@contextmanager
def commits(
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    before: Callable[[int], bool],
    *,
    reaching_the_server: bool = True,
) -> Iterator[None]:
    """Each commit on ``engine`` (numbered from 1) goes to the server; if ``before(number)``
    says so, the client then loses its connection and sees the driver's disconnect error
    (or, not ``reaching_the_server``, loses it before the commit is sent)."""
    dialect = engine.dialect
    real_commit = dialect.do_commit
    numbers = iter(range(1, 1_000_000))

    def commit(connection: Any) -> None:
        lose = before(next(numbers))
        if reaching_the_server or not lose:
            real_commit(connection)
        if lose:
            connection.dbapi_connection.close()
            raise lost_connection(dialect)

    monkeypatch.setattr(dialect, "do_commit", commit)
    yield
    monkeypatch.undo()


def lost_connection(dialect: Any) -> Exception:
    """What the driver raises when its connection is gone (as each dialect recognises it)."""
    driver = dialect.loaded_dbapi
    if dialect.name == "sqlite":
        return driver.ProgrammingError("Cannot operate on a closed database.")  # type: ignore[no-any-return]
    return driver.OperationalError("server closed the connection unexpectedly")  # type: ignore[no-any-return]


def lost_once(number: int) -> bool:
    return number == 1


def attempt_rows(store: Store) -> list[tuple[int, str]]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(AttemptRow.delivery_id, AttemptRow.outcome).order_by(AttemptRow.id)
        )
        return [(row.delivery_id, row.outcome) for row in rows]


def audited_attempts(store: Store) -> list[str]:
    with store.engine.connect() as connection:
        query = select(audit_log.c.subject).where(audit_log.c.action == audit.DELIVERY_ATTEMPT)
        return list(connection.scalars(query))


def assert_chain_holds(store: Store, entries: int) -> None:
    with store.engine.connect() as connection:
        report = audit.verify(connection)
    assert report.ok, report.reason
    assert report.head_seq == entries


def test_a_record_batch_whose_commit_answer_was_lost_is_retried_without_writing_twice(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivered_leg, retried_leg = claimed_legs(store, 1)
    now = clock()
    retry_at = now + timedelta(seconds=5)
    batch = [
        (delivered_leg, AttemptRecord("delivered", now, 3)),
        (retried_leg, AttemptRecord("retry", now, 3, retry_at=retry_at, error_class="Down")),
    ]
    with commits(writers_engine(store), monkeypatch, before=lost_once):
        with pytest.raises(DBAPIError):
            store.record_attempts(batch)
        # What the group writer does after a batch failed: each record again, alone.
        assert store.record_attempts(batch[:1]) == ["delivered"]
        assert store.record_attempts(batch[1:]) == ["retrying"]
    assert attempt_rows(store) == [
        (delivered_leg.delivery_id, "delivered"),
        (retried_leg.delivery_id, "retry"),
    ]
    assert len(audited_attempts(store)) == 2
    assert_chain_holds(store, entries=1 + 2)  # the accept, one entry per attempt
    with store.engine.connect() as connection:
        leg = connection.execute(
            select(DeliveryRow.state, DeliveryRow.attempts, DeliveryRow.next_attempt_at).where(
                DeliveryRow.id == retried_leg.delivery_id
            )
        ).one()
    assert tuple(leg) == ("retrying", 1, retry_at)


def test_a_record_repeated_after_its_leg_moved_on_answers_the_legs_state_and_writes_nothing(
    store: Store, clock: FakeClock
) -> None:
    leg = claimed_legs(store, 1)[0]
    now = clock()
    record = (leg, AttemptRecord("retry", now, 3, retry_at=now + timedelta(seconds=5)))
    assert store.record_attempts([record]) == ["retrying"]
    clock.advance(10)
    again = store.claim(leg.delivery_id, lease_seconds=30)
    assert again is not None and again.attempt == 2
    assert store.record_attempts([record]) == ["delivering"]  # the first attempt's again
    assert attempt_rows(store) == [(leg.delivery_id, "retry")]
    assert_chain_holds(store, entries=1 + 1)


def test_the_group_writer_retrying_a_batch_whose_commit_answer_was_lost_records_each_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    legs = claimed_legs(store, 2)[:3]
    committer = AttemptCommitter(store, lease_seconds=30, max_batch=8)
    holding, release = threading.Event(), threading.Event()

    def before(number: int) -> bool:
        if number == 1:  # the first record, alone: holds the writer while the others queue
            holding.set()
            assert release.wait(30), "never released"
        return number == 2  # the other two, batched together: their answer is lost

    states: dict[int, str] = {}

    def record(leg: ClaimedDelivery) -> None:
        attempt = AttemptRecord("delivered", store.clock(), 2)
        states[leg.delivery_id] = committer.record_attempt(leg, attempt)

    threads = [threading.Thread(target=record, args=(leg,)) for leg in legs]
    with commits(writers_engine(store), monkeypatch, before=before):
        threads[0].start()
        assert holding.wait(30), "the writer never committed the first record"
        for thread in threads[1:]:
            thread.start()
        queued = committer._records._queue
        assert wait_for(lambda: queued.qsize() == 2, seconds=30), "the others never queued"
        release.set()
        for thread in threads:
            thread.join(timeout=60)
            assert not thread.is_alive(), "a record never got its answer"
    assert states == {leg.delivery_id: "delivered" for leg in legs}
    assert sorted(attempt_rows(store)) == sorted((leg.delivery_id, "delivered") for leg in legs)
    assert sorted(audited_attempts(store)) == sorted(leg.message_id for leg in legs)
    assert_chain_holds(store, entries=2 + 3)
    with store.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(AttemptRow)) == 3


@pytest.mark.parametrize("reaching_the_server", [True, False], ids=["committed", "not-sent"])
def test_a_lone_record_whose_connection_broke_at_its_commit_is_recorded_once_and_answered(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, reaching_the_server: bool
) -> None:
    # Committed or not, the record is written once on a fresh connection and the delivery
    # thread hears its state, not the error (else the leg would be sent again after its lease).
    leg = claimed_legs(store, 1)[0]
    committer = AttemptCommitter(store, lease_seconds=30)
    attempt = AttemptRecord("delivered", clock(), 2)
    with commits(
        writers_engine(store),
        monkeypatch,
        before=lost_once,
        reaching_the_server=reaching_the_server,
    ):
        assert committer.record_attempt(leg, attempt) == "delivered"
    assert attempt_rows(store) == [(leg.delivery_id, "delivered")]
    assert audited_attempts(store) == [leg.message_id]
    assert_chain_holds(store, entries=1 + 1)


def test_a_claim_batch_whose_commit_answer_was_lost_is_not_taken_again_when_retried(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = store.save_accepted(new_message(), RECEIVERS, lease_seconds=30)
    ids = [delivery.delivery_id for delivery in receipt.deliveries]
    with commits(writers_engine(store), monkeypatch, before=lost_once):
        with pytest.raises(DBAPIError):
            store.claim_sealed(ids, lease_seconds=30)
        # Retried alone, each finds its delivery held by the claim that did commit.
        assert [store.claim_sealed([i], lease_seconds=30) for i in ids] == [[None], [None]]
    with store.engine.connect() as connection:
        legs = connection.execute(select(DeliveryRow.state, DeliveryRow.attempts)).all()
    assert sorted(tuple(leg) for leg in legs) == [("delivering", 1), ("delivering", 1)]
    clock.advance(31)  # the lost claim's lease passes: the legs are claimable again
    again = [store.claim(i, lease_seconds=30) for i in ids]
    assert [leg.attempt if leg else None for leg in again] == [2, 2]
