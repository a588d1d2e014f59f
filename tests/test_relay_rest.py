"""An idle relay rests: with nothing due it looks again when the first lease ends (or after
``rest_seconds``), not every interval, and a commit in its process that makes legs due
sooner wakes it; nothing is published later than the lease says."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from backends import drain, new_message, wait_for

from hub.bus import Publisher
from hub.relay import Relay
from hub.store import Store
from hub.store.due import DELIVERIES_DUE

INTERVAL = 0.05  # the old relay looked this often, idle or not
REST = 3600.0  # longer than any test: a relay that merely slept would fail them


@pytest.fixture
def real_time_store(store: Store, database_url: str) -> Iterator[Store]:
    """The migrated database on the wall clock: the relay's rest is real time."""
    real = Store(database_url)
    yield real
    real.dispose()


@contextmanager
def resting_relay(store: Store, publisher: Publisher, passes: list[int]) -> Iterator[Relay]:
    relay = Relay(store, publisher, interval_seconds=INTERVAL, lease_seconds=30, rest_seconds=REST)
    looks = store.due_deliveries

    def counted(*args: Any, **kwargs: Any) -> Any:
        passes.append(1)
        return looks(*args, **kwargs)

    store.due_deliveries = counted  # type: ignore[method-assign]
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield relay
    finally:
        stop.set()
        DELIVERIES_DUE.ring()
        thread.join(10)
    assert not thread.is_alive(), "the resting relay did not see stop"


def test_an_idle_relay_rests_until_the_first_lease_ends_and_publishes_it_then(
    real_time_store: Store, bus_url: str, queue_prefix: str
) -> None:
    # Its publish was lost after the commit: the relay must send it when its lease ends.
    receipt = real_time_store.save_accepted(new_message(), ("TAX",), lease_seconds=1.5)
    publisher = Publisher(bus_url, queue_prefix=queue_prefix)
    passes: list[int] = []
    try:
        with resting_relay(real_time_store, publisher, passes):
            got = drain(bus_url, "TAX", queue_prefix, 1)
    finally:
        publisher.close()
    assert [t.delivery_id for t in got] == [receipt.deliveries[0].delivery_id]
    # Looking every interval would have been ~30 passes before the lease ended.
    assert len(passes) <= 4, len(passes)


def test_a_commit_that_makes_legs_due_wakes_a_resting_relay(
    real_time_store: Store, bus_url: str, queue_prefix: str
) -> None:
    publisher = Publisher(bus_url, queue_prefix=queue_prefix)
    passes: list[int] = []
    try:
        with resting_relay(real_time_store, publisher, passes):
            assert wait_for(lambda: passes)  # it looked, found nothing, and rests
            receipt = real_time_store.save_accepted(new_message(), ("TAX",), lease_seconds=600)
            delivery_id = receipt.deliveries[0].delivery_id
            # A publish that failed hands the leg back (as Publisher's on_unpublished does).
            real_time_store.release_leases([delivery_id])
            got = drain(bus_url, "TAX", queue_prefix, 1)
    finally:
        publisher.close()
    assert [t.delivery_id for t in got] == [delivery_id]
