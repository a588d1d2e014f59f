"""Claims, leases, attempts and the relay's query: what makes several workers safe."""

from __future__ import annotations

import threading
from datetime import timedelta

from backends import FakeClock, accepted_delivery_ids, new_message
from sqlalchemy import select

from hub.store import AttemptRecord, ClaimedDelivery, Store
from hub.store.models import AttemptRow

RECEIVERS = ("SOCIAL_SECURITY", "TAX")


def retry_at(store: Store, seconds: float) -> AttemptRecord:
    now = store.clock()
    return AttemptRecord(
        "retry", now, 5, retry_at=now + timedelta(seconds=seconds), error_class="Down"
    )


def test_claim_is_exclusive_between_two_workers(
    store: Store, database_url: str, clock: FakeClock
) -> None:
    ids = accepted_delivery_ids(store, messages=10)
    other = Store(database_url, clock=clock)
    claims: dict[str, list[ClaimedDelivery]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def work(name: str, worker_store: Store) -> None:
        start.wait()
        for delivery_id in ids:
            claimed = worker_store.claim(delivery_id, lease_seconds=30)
            if claimed is not None:
                claims[name].append(claimed)

    threads = [
        threading.Thread(target=work, args=("a", store)),
        threading.Thread(target=work, args=("b", other)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.dispose()
    taken = [c.delivery_id for c in claims["a"] + claims["b"]]
    assert sorted(taken) == sorted(ids)
    assert {c.attempt for c in claims["a"] + claims["b"]} == {1}


def test_a_claimed_delivery_carries_what_the_worker_needs(store: Store) -> None:
    receipt = store.save_accepted(new_message(), RECEIVERS, lease_seconds=30)
    claimed = store.claim(receipt.deliveries[1].delivery_id, lease_seconds=30)
    assert claimed is not None
    assert (claimed.department, claimed.message_type, claimed.attempt) == (
        "TAX",
        "MarriageRegistered",
        1,
    )
    assert claimed.idempotency_key == receipt.deliveries[1].idempotency_key
    assert claimed.canonical == new_message().canonical


def test_a_held_delivery_goes_to_the_next_worker_only_after_its_lease_ran_out(
    store: Store, clock: FakeClock
) -> None:
    delivery_id = accepted_delivery_ids(store)[0]
    first = store.claim(delivery_id, lease_seconds=30)
    assert store.claim(delivery_id, lease_seconds=30) is None
    clock.advance(31)
    second = store.claim(delivery_id, lease_seconds=30)
    assert first is not None and second is not None
    assert (second.attempt, second.idempotency_key) == (2, first.idempotency_key)


def test_a_stale_worker_cannot_reschedule_a_delivery_someone_else_holds(
    store: Store, clock: FakeClock
) -> None:
    delivery_id = accepted_delivery_ids(store)[0]
    stale = store.claim(delivery_id, lease_seconds=30)
    clock.advance(31)
    current = store.claim(delivery_id, lease_seconds=30)
    assert stale is not None and current is not None
    assert store.record_attempt(stale, retry_at(store, 60)) == "delivering"
    assert store.record_attempt(current, AttemptRecord("delivered", clock(), 4)) == "delivered"


def test_a_retrying_delivery_is_not_claimed_before_its_next_attempt(
    store: Store, clock: FakeClock
) -> None:
    delivery_id = accepted_delivery_ids(store)[0]
    claimed = store.claim(delivery_id, lease_seconds=30)
    assert claimed is not None
    assert store.record_attempt(claimed, retry_at(store, 10)) == "retrying"
    assert store.claim(delivery_id, lease_seconds=30) is None
    clock.advance(10)
    again = store.claim(delivery_id, lease_seconds=30)
    assert again is not None and again.attempt == 2


def test_a_delivered_or_failed_delivery_is_never_claimed_again(
    store: Store, clock: FakeClock
) -> None:
    delivered, failed = accepted_delivery_ids(store)
    for delivery_id, outcome in ((delivered, "delivered"), (failed, "failed")):
        claimed = store.claim(delivery_id, lease_seconds=30)
        assert claimed is not None
        store.record_attempt(claimed, AttemptRecord(outcome, clock(), 1))  # type: ignore[arg-type]
    clock.advance(3600)
    assert store.claim(delivered, lease_seconds=30) is None
    assert store.claim(failed, lease_seconds=30) is None
    assert store.due_for_relay(limit=10) == []


def test_every_attempt_is_recorded_with_a_short_response_excerpt(
    store: Store, clock: FakeClock
) -> None:
    delivery_id = accepted_delivery_ids(store)[0]
    claimed = store.claim(delivery_id, lease_seconds=30)
    assert claimed is not None
    store.record_attempt(
        claimed,
        AttemptRecord("duplicate", clock(), 7, response_excerpt="x" * 900, payload_sha256="ab"),
    )
    with store.engine.connect() as connection:
        row = connection.execute(select(AttemptRow)).one()
    assert (row.outcome, row.duration_ms, row.payload_sha256) == ("duplicate", 7, "ab")
    assert len(row.response_excerpt) == 500
    status = store.message_status(claimed.message_id).deliveries[0]
    assert (status.state, status.attempts, status.delivered_at) == ("delivered", 1, clock())


def test_due_for_relay_returns_only_deliveries_whose_lease_passed_and_bumps_it(
    store: Store, clock: FakeClock
) -> None:
    ids = accepted_delivery_ids(store)
    assert store.due_for_relay(limit=10, lease_seconds=30) == []
    clock.advance(30)
    assert store.due_for_relay(limit=10, lease_seconds=30) == [
        (ids[0], "SOCIAL_SECURITY"),
        (ids[1], "TAX"),
    ]
    assert store.due_for_relay(limit=10, lease_seconds=30) == []
    clock.advance(30)
    assert len(store.due_for_relay(limit=1, lease_seconds=30)) == 1


def test_a_delivery_whose_worker_died_is_due_again_and_claimable_at_once(
    store: Store, clock: FakeClock
) -> None:
    delivery_id = accepted_delivery_ids(store)[0]
    assert store.claim(delivery_id, lease_seconds=30) is not None  # then the worker dies
    clock.advance(31)
    assert (delivery_id, "SOCIAL_SECURITY") in store.due_for_relay(limit=10, lease_seconds=30)
    reclaimed = store.claim(delivery_id, lease_seconds=30)
    assert reclaimed is not None and reclaimed.attempt == 2
