"""Group commit for delivery threads: claims and attempt records of many threads in one
transaction each, the audit chain extended once per batch, every caller answered alone."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from backends import FakeClock, fresh_postgresql_database, new_message
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from tcp_cut import database_through_cut

from hub.polling import wait_for
from hub.security import audit
from hub.security.tables import audit_log
from hub.store import AttemptRecord, ClaimedDelivery, Store
from hub.store.attempt_commit import AttemptCommitter
from hub.store.batching import Batcher
from hub.store.engine import make_relaxed_engine
from hub.store.models import AttemptRow, DeliveryRow

AT = datetime(2024, 5, 20, 9, 0, tzinfo=UTC)
RECEIVERS = ("SOCIAL_SECURITY", "TAX")


def delivery_ids(store: Store, messages: int) -> list[int]:
    ids = []
    for _ in range(messages):
        receipt = store.save_accepted(new_message(), RECEIVERS, lease_seconds=30)
        ids += [d.delivery_id for d in receipt.deliveries]
    return ids


def claimed(store: Store, delivery_id: int) -> ClaimedDelivery:
    taken = store.claim(delivery_id, lease_seconds=30)
    assert taken is not None
    return taken


def chain_report(store: Store) -> audit.ChainReport:
    with store.engine.connect() as connection:
        return audit.verify(connection)


def test_entries_appended_together_form_one_chain_with_those_appended_alone(
    store: Store,
) -> None:
    with store.engine.begin() as connection:
        first = audit.append(connection, actor="a", action="x", subject="s0", at=AT)
        many = audit.append_many(
            connection, [audit.NewEntry("a", "x", f"s{n}", AT) for n in (1, 2, 3)]
        )
        last = audit.append(connection, actor="a", action="x", subject="s4", at=AT)
    assert [e.seq for e in [first, *many, last]] == [1, 2, 3, 4, 5]
    assert many[0].prev_hash == first.hash and last.prev_hash == many[-1].hash
    report = chain_report(store)
    assert report.ok and report.head_seq == 5 and report.head_hash == last.hash


def test_appending_nothing_leaves_the_chain_as_it_was(store: Store) -> None:
    with store.engine.begin() as connection:
        assert audit.append_many(connection, []) == []
    assert chain_report(store).head_seq == 0


def test_attempts_recorded_together_each_move_their_own_delivery(
    store: Store, clock: FakeClock
) -> None:
    ids = delivery_ids(store, 2)
    now = clock()
    outcomes: list[AttemptRecord] = [
        AttemptRecord("delivered", now, 3),
        AttemptRecord("retry", now, 3, retry_at=now + timedelta(seconds=5), error_class="Down"),
        AttemptRecord("failed", now, 3, error_class="PermanentDeliveryError"),
        AttemptRecord("duplicate", now, 3),
    ]
    states = store.record_attempts(
        [(claimed(store, i), outcome) for i, outcome in zip(ids, outcomes, strict=True)]
    )
    assert states == ["delivered", "retrying", "failed", "delivered"]
    with store.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(AttemptRow)) == 4
    report = chain_report(store)
    assert report.ok and report.head_seq == 2 + 4  # two accepts, four attempts


def test_a_stale_workers_record_in_a_batch_does_not_overwrite_the_current_holder(
    store: Store, clock: FakeClock
) -> None:
    delivery_id = delivery_ids(store, 1)[0]
    stale = claimed(store, delivery_id)
    clock.advance(31)
    current = claimed(store, delivery_id)
    now = clock()
    retry = AttemptRecord("retry", now, 5, retry_at=now + timedelta(seconds=60))
    states = store.record_attempts(
        [
            (stale, retry),
            (current, AttemptRecord("retry", now, 5, retry_at=now + timedelta(seconds=1))),
        ]
    )
    assert states == ["retrying", "retrying"]
    with store.engine.connect() as connection:
        row = connection.execute(
            select(DeliveryRow.attempts, DeliveryRow.next_attempt_at).where(
                DeliveryRow.id == delivery_id
            )
        ).one()
    assert (row.attempts, row.next_attempt_at) == (2, now + timedelta(seconds=1))


def test_claims_taken_together_answer_in_the_order_asked_and_skip_held_ones(
    store: Store,
) -> None:
    first, second, third, _ = delivery_ids(store, 2)
    claimed(store, second)
    answers = store.claim_sealed([third, second, first], lease_seconds=30)
    assert [a.delivery_id if a else None for a in answers] == [third, None, first]
    assert {a.attempt for a in answers if a} == {1}


def test_many_delivery_threads_through_the_committer_record_every_attempt_once(
    live_store: Store,
) -> None:
    ids = delivery_ids(live_store, 20)
    committer = AttemptCommitter(live_store, lease_seconds=30, max_batch=8)
    states: list[str] = []

    def deliver(mine: Sequence[int]) -> None:
        for delivery_id in mine:
            taken = committer.claim(delivery_id, lease_seconds=30)
            assert taken is not None
            attempt = AttemptRecord("delivered", live_store.clock(), 1, payload=b"<doc/>")
            states.append(committer.record_attempt(taken, attempt))

    threads = [threading.Thread(target=deliver, args=(ids[n::8],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert states == ["delivered"] * len(ids)
    assert all(committer.claim(i, lease_seconds=30) is None for i in ids)
    report = chain_report(live_store)
    assert report.ok and report.head_seq == 20 + len(ids)
    with live_store.engine.connect() as connection:
        actions = connection.scalars(select(audit_log.c.action)).all()
    assert actions.count(audit.DELIVERY_ATTEMPT) == len(ids)


def test_one_bad_item_in_a_batch_fails_only_its_own_caller() -> None:
    release, writing = threading.Event(), threading.Event()

    def many(items: Sequence[int]) -> list[int]:
        if any(item < 0 for item in items):
            raise RuntimeError("a bad item spoils the batch")
        return [item * 10 for item in items]

    def one(item: int) -> int:
        writing.set()
        assert release.wait(30), "never released"  # the first item holds the writer
        if item < 0:
            raise ValueError(f"bad item {item}")
        return item * 10

    batcher: Batcher[int, int] = Batcher(many, one, name="test-batch")
    answers: dict[int, object] = {}

    def submit(item: int) -> None:
        try:
            answers[item] = batcher.submit(item)
        except ValueError as exc:
            answers[item] = exc

    first = threading.Thread(target=submit, args=(1,))
    first.start()
    assert writing.wait(10), "the writer never took the first item"
    others = [threading.Thread(target=submit, args=(item,)) for item in (2, -3, 4)]
    for thread in others:
        thread.start()
    # All three wait for the next batch (only the batcher's own queue can tell).
    assert wait_for(lambda: batcher._queue.qsize() == 3, seconds=10), "they never queued"
    release.set()
    for thread in [first, *others]:
        thread.join(timeout=30)
        assert not thread.is_alive(), "a caller never got its answer"
    assert answers[1] == 10 and answers[2] == 20 and answers[4] == 40
    assert isinstance(answers[-3], ValueError)


def test_only_claims_and_records_commit_without_waiting_for_the_disk(
    store: Store, database_url: str
) -> None:
    relaxed = make_relaxed_engine(database_url, store.engine)
    if store.engine.dialect.name != "postgresql":
        assert relaxed is store.engine  # SQLite: one engine, every commit FULL
        return
    try:
        for engine, expected in ((relaxed, "off"), (store.engine, "on")):
            with engine.connect() as connection:
                assert connection.scalar(text("SHOW synchronous_commit")) == expected
    finally:
        relaxed.dispose()


@pytest.mark.distributed
def test_a_writers_kept_connection_cut_by_an_outage_fails_one_claim_then_connects_afresh() -> None:
    with (
        fresh_postgresql_database() as database_url,
        database_through_cut(database_url) as (through_cut, cut),
    ):
        store = Store(through_cut)
        store.upgrade()
        try:
            first, second = delivery_ids(store, 1)
            held = store.held_connection()
            assert store.claim_sealed([first], 30, via=held)[0] is not None  # kept after
            cut.cut()
            cut.mend()
            with pytest.raises(OperationalError):  # the kept connection died in the cut
                store.claim_sealed([second], 30, via=held)
            taken = store.claim_sealed([second], 30, via=held)[0]  # a new connection
            assert taken is not None and taken.attempt == 1  # the failed claim left no trace
            attempt = AttemptRecord("delivered", store.clock(), 1)
            assert store.record_attempts([(taken, attempt)], via=held) == ["delivered"]
            held.release()
        finally:
            store.dispose()
