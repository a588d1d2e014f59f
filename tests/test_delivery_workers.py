"""The worker service end to end: bus, relay and one consumer per department, all real."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from backends import departments, gated_adapters, new_message, real_mappings, wait_for

from adapters.base import Adapter, DeliveryResult, OutboundDelivery
from hub.bus import Publisher
from hub.config import Settings
from hub.errors import RetryableDeliveryError
from hub.store import Store
from hub.workers import WorkerService

RECEIVERS = ("SOCIAL_SECURITY", "TAX")


def settings(bus_url: str, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "bus_url": bus_url,
        "lease_seconds": 30.0,
        "relay_interval_seconds": 0.05,
        "retry_base_seconds": 0.05,
        "retry_max_seconds": 0.2,
        "max_attempts": 5,
    }
    return Settings(**{**values, **changes})


@contextmanager
def running(service: WorkerService) -> Iterator[WorkerService]:
    service.start()
    try:
        assert service.wait_ready(20)
        yield service
    finally:
        service.stop()


def states(store: Store, message_id: str) -> dict[str, str]:
    return {d.department: d.state for d in store.message_status(message_id).deliveries}


def test_a_message_published_after_commit_reaches_every_subscribed_department(
    live_store: Store, bus_url: str, queue_prefix: str
) -> None:
    made, adapter_for = gated_adapters(closed=set())
    service = WorkerService(
        settings(bus_url),
        live_store,
        real_mappings(),
        departments(),
        adapter_for,
        queue_prefix=queue_prefix,
    )
    with running(service):
        receipt = live_store.save_accepted(new_message(), RECEIVERS, lease_seconds=30)
        for queued in receipt.deliveries:
            service.publisher.publish_quietly(*_publish_args(queued))
        assert wait_for(lambda: live_store.message_status(receipt.message_id).state == "delivered")
    assert [c.message_id for c in made["TAX"].calls] == [receipt.message_id]
    assert [c.message_id for c in made["SOCIAL_SECURITY"].calls] == [receipt.message_id]


def test_one_department_down_does_not_delay_another(
    live_store: Store, bus_url: str, queue_prefix: str
) -> None:
    made, adapter_for = gated_adapters(closed={"SOCIAL_SECURITY"})
    publisher = Publisher(bus_url, queue_prefix=queue_prefix)
    service = WorkerService(
        settings(bus_url),
        live_store,
        real_mappings(),
        departments(),
        adapter_for,
        publisher=publisher,
        queue_prefix=queue_prefix,
    )
    with running(service):
        receipts = [
            live_store.save_accepted(new_message(), RECEIVERS, lease_seconds=30) for _ in range(3)
        ]
        for receipt in receipts:
            for queued in receipt.deliveries:
                publisher.publish(*_publish_args(queued))
        # Social security's worker is stuck inside its first delivery...
        social_security_stuck = wait_for(
            lambda: (
                "SOCIAL_SECURITY" in made
                and states(live_store, receipts[0].message_id)["SOCIAL_SECURITY"] == "delivering"
            )
        )
        # ...while every tax delivery completes.
        tax_done = wait_for(
            lambda: all(states(live_store, r.message_id)["TAX"] == "delivered" for r in receipts)
        )
        still_stuck = states(live_store, receipts[0].message_id)["SOCIAL_SECURITY"]
        made["SOCIAL_SECURITY"].gate.set()
        assert social_security_stuck and tax_done and still_stuck == "delivering"
        assert wait_for(
            lambda: all(
                live_store.message_status(r.message_id).state == "delivered" for r in receipts
            )
        )
    publisher.close()


def test_a_commit_whose_publish_was_lost_is_delivered_by_the_relay(
    live_store: Store, bus_url: str, queue_prefix: str
) -> None:
    made, adapter_for = gated_adapters(closed=set())
    service = WorkerService(
        settings(bus_url),
        live_store,
        real_mappings(),
        departments(),
        adapter_for,
        queue_prefix=queue_prefix,
    )
    with running(service):
        receipt = live_store.save_accepted(new_message(), RECEIVERS, lease_seconds=0.2)
        assert wait_for(lambda: live_store.message_status(receipt.message_id).state == "delivered")
    assert len(made["TAX"].calls) == 1


def _publish_args(queued: Any) -> tuple[str, int, str]:
    return queued.department, queued.delivery_id, queued.idempotency_key


class FlakyAdapter(Adapter):
    """Down for its first two attempts, then takes the record."""

    name = "test-flaky"
    failures = 0

    def deliver(self, delivery: OutboundDelivery) -> DeliveryResult:
        FlakyAdapter.failures += 1
        if FlakyAdapter.failures <= 2:
            raise RetryableDeliveryError("503 Service Unavailable")
        return DeliveryResult("accepted")


def test_a_department_that_comes_back_gets_the_record_through_the_relay_retries(
    live_store: Store, bus_url: str, queue_prefix: str
) -> None:
    FlakyAdapter.failures = 0
    service = WorkerService(
        settings(bus_url),
        live_store,
        real_mappings(),
        departments(),
        FlakyAdapter,
        queue_prefix=queue_prefix,
    )
    with running(service):
        receipt = live_store.save_accepted(new_message(), ("TAX",), lease_seconds=30)
        service.publisher.publish(*_publish_args(receipt.deliveries[0]))
        assert wait_for(lambda: live_store.message_status(receipt.message_id).state == "delivered")
    delivery = live_store.message_status(receipt.message_id).deliveries[0]
    assert (delivery.attempts, delivery.last_error) == (3, None)
