"""The relay: nothing is lost when a process dies between commit and publish, or mid-delivery."""

from __future__ import annotations

import socket
from datetime import timedelta

from backends import FakeClock, drain, new_message
from sqlalchemy import text

from hub.bus import DeliveryTask, Publisher
from hub.relay import Relay
from hub.store import AttemptRecord, Store, leases

RECEIVERS = ("SOCIAL_SECURITY", "TAX")


def relay(store: Store, publisher: Publisher) -> Relay:
    return Relay(store, publisher, interval_seconds=0.05, lease_seconds=30)


def test_relay_republishes_a_delivery_whose_publish_was_lost_after_commit(
    store: Store, clock: FakeClock, bus_url: str, queue_prefix: str
) -> None:
    # The ingress committed, then died before publishing anything.
    receipt = store.save_accepted(new_message(), RECEIVERS, lease_seconds=30)
    publisher = Publisher(bus_url, queue_prefix=queue_prefix)
    try:
        assert relay(store, publisher).run_once() == 0  # still within the first lease
        clock.advance(30)
        assert relay(store, publisher).run_once() == 2
    finally:
        publisher.close()
    tax = receipt.deliveries[1]
    got = drain(bus_url, "TAX", queue_prefix, 1)
    assert [(t.delivery_id, t.idempotency_key) for t in got] == [
        (tax.delivery_id, tax.idempotency_key)
    ]
    assert store.claim(tax.delivery_id, lease_seconds=30) is not None


def test_relay_republishes_a_delivery_whose_worker_died_mid_delivery(
    store: Store, clock: FakeClock, bus_url: str, queue_prefix: str
) -> None:
    receipt = store.save_accepted(new_message(), ("TAX",), lease_seconds=30)
    delivery_id = receipt.deliveries[0].delivery_id
    assert store.claim(delivery_id, lease_seconds=30) is not None  # then the worker dies
    publisher = Publisher(bus_url, queue_prefix=queue_prefix)
    try:
        clock.advance(29)
        assert relay(store, publisher).run_once() == 0
        clock.advance(2)
        assert relay(store, publisher).run_once() == 1
    finally:
        publisher.close()
    assert [t.delivery_id for t in drain(bus_url, "TAX", queue_prefix, 1)] == [delivery_id]
    second = store.claim(delivery_id, lease_seconds=30)
    assert second is not None and second.attempt == 2
    store.record_attempt(second, AttemptRecord("delivered", clock(), 3))
    assert store.message_status(receipt.message_id).state == "delivered"


def test_relay_publishes_a_due_delivery_once_per_lease(
    store: Store, clock: FakeClock, bus_url: str, queue_prefix: str
) -> None:
    store.save_accepted(new_message(), RECEIVERS, lease_seconds=0)
    publisher = Publisher(bus_url, queue_prefix=queue_prefix)
    try:
        assert relay(store, publisher).run_once() == 2
        assert relay(store, publisher).run_once() == 0
    finally:
        publisher.close()


def test_two_relays_share_the_due_deliveries_without_overlap(
    store: Store, clock: FakeClock, database_url: str, bus_url: str, queue_prefix: str
) -> None:
    for _ in range(5):
        store.save_accepted(new_message(), RECEIVERS, lease_seconds=0)
    other = Store(database_url, clock=clock)
    first = store.due_for_relay(limit=4)
    second = other.due_for_relay(limit=100)
    other.dispose()
    assert len(first) == 4 and len(second) == 6
    assert not set(first) & set(second)


def test_a_relay_skips_deliveries_another_relay_holds_instead_of_waiting_for_them(
    store: Store, clock: FakeClock, database_url: str
) -> None:
    # PostgreSQL: row locks, skipped by the second relay. SQLite: one writer at a time, each
    # claim one statement that moves the leases at once; either way no overlap and no wait.
    postgresql = database_url.startswith("postgresql")
    for _ in range(5):
        store.save_accepted(new_message(), RECEIVERS, lease_seconds=0)
    now = clock()
    until = now + timedelta(seconds=30)
    with store.engine.connect() as holder, holder.begin():
        first = leases.due_for_relay(holder, 4, now, until)  # locked, not yet committed
        with store.engine.connect() as other, other.begin():
            if postgresql:  # waiting for the held rows would end in an error, not a slow pass
                other.execute(text("SET LOCAL lock_timeout = '2s'"))
            second = leases.due_for_relay(other, 100, now, until)

    assert len(first) == 4 and len(second) == 6
    assert not set(first) & set(second)


def test_the_relay_does_not_publish_a_backlog_again_while_its_first_tasks_still_wait(
    store: Store, clock: FakeClock, bus_url: str, queue_prefix: str
) -> None:
    store.save_accepted(new_message(), RECEIVERS, lease_seconds=0)
    publisher = Publisher(bus_url, queue_prefix=queue_prefix)
    try:
        assert relay(store, publisher).run_once() == 2
        clock.advance(31)  # no worker took them within the lease: the tasks still wait
        assert relay(store, publisher).run_once() == 0
        assert len(drain(bus_url, "TAX", queue_prefix, 1)) == 1
        assert len(drain(bus_url, "SOCIAL_SECURITY", queue_prefix, 1)) == 1
        clock.advance(31)  # the queues are empty now: what is still pending goes out again
        assert relay(store, publisher).run_once() == 2
    finally:
        publisher.close()


def test_a_retry_is_published_even_while_its_department_has_a_backlog(
    store: Store, clock: FakeClock, bus_url: str, queue_prefix: str
) -> None:
    failed = store.save_accepted(new_message(), ("TAX",), lease_seconds=30)
    claimed = store.claim(failed.deliveries[0].delivery_id, 30)
    assert claimed is not None
    retry_at = clock() + timedelta(seconds=5)
    store.record_attempt(
        claimed,
        AttemptRecord(outcome="retry", started_at=clock(), duration_ms=1, retry_at=retry_at),
    )
    store.save_accepted(new_message(), ("TAX",), lease_seconds=0)  # the backlog's first task
    publisher = Publisher(bus_url, queue_prefix=queue_prefix)
    try:
        assert relay(store, publisher).run_once() == 1  # the new one, from the ingress' side
        clock.advance(31)  # the backlog still waits, and the retry is due
        assert relay(store, publisher).run_once() == 1  # the retry only
        tasks = drain(bus_url, "TAX", queue_prefix, 2)
        assert failed.deliveries[0].delivery_id in [task.delivery_id for task in tasks]
    finally:
        publisher.close()


def _unreachable_bus(store: Store, queue_prefix: str) -> Publisher:
    """A publisher whose broker is down (nothing listens on its port), wired as the hub
    wires it: what it fails to publish goes back to the relay."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return Publisher(
        f"amqp://guest:guest@127.0.0.1:{port}//",
        queue_prefix=queue_prefix,
        on_unpublished=store.release_leases,
    )


def test_a_publish_that_failed_after_commit_goes_at_the_relays_next_pass(
    store: Store, clock: FakeClock, bus_url: str, queue_prefix: str
) -> None:
    receipt = store.save_accepted(new_message(), RECEIVERS, lease_seconds=30)
    down = _unreachable_bus(store, queue_prefix)
    tasks = [
        DeliveryTask(d.delivery_id, d.department, d.idempotency_key) for d in receipt.deliveries
    ]
    try:
        assert down.publish_all_quietly(tasks) is False  # the ingress's publish, bus down
    finally:
        down.close()
    publisher = Publisher(bus_url, queue_prefix=queue_prefix)
    try:  # the bus is back; the lease (30 s) has not ended
        assert relay(store, publisher).run_once() == 2
    finally:
        publisher.close()
    tax = receipt.deliveries[1]
    assert [t.delivery_id for t in drain(bus_url, "TAX", queue_prefix, 1)] == [tax.delivery_id]


def test_a_relay_pass_that_could_not_publish_is_tried_again_at_the_next_pass(
    store: Store, clock: FakeClock, bus_url: str, queue_prefix: str
) -> None:
    store.save_accepted(new_message(), RECEIVERS, lease_seconds=0)
    down = _unreachable_bus(store, queue_prefix)
    try:
        assert relay(store, down).run_once() == 0
    finally:
        down.close()
    publisher = Publisher(bus_url, queue_prefix=queue_prefix)
    try:
        assert relay(store, publisher).run_once() == 2  # not 30 s later
    finally:
        publisher.close()
