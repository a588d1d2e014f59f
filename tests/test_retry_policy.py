"""Per-department retry policy, the maximum age, and poison messages that do not block."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest
import responses
from backends import FakeClock, PostAdapter, departments, new_message, real_mappings, wait_for
from sqlalchemy import select

from adapters.base import Adapter, DeliveryResult, OutboundDelivery
from hub.config import Settings
from hub.delivery import DeliveryHandler
from hub.departments import DepartmentDirectory
from hub.errors import ConfigurationError
from hub.retry import RetryOverrides, RetryPolicy
from hub.store import Store
from hub.store.models import DeliveryRow
from hub.workers import WorkerService

TAX_URL = "http://tax.test/deliveries"


def write_departments(tmp_path: Path, retry: str) -> Path:
    path = tmp_path / "departments.toml"
    path.write_text(
        f'[TAX]\nname = "Tax"\nadapter = "rest"\nendpoint = "http://tax.test"\nretry = {retry}\n',
        encoding="utf-8",
    )
    return path


def test_a_department_overrides_the_hub_wide_retry_policy(tmp_path: Path) -> None:
    path = write_departments(tmp_path, "{ max_attempts = 5, max_age_seconds = 600 }")

    tax = DepartmentDirectory.from_file(path).get("TAX")
    policy = RetryPolicy(1, 300, 40, 86400).with_overrides(tax.retry)

    assert tax.retry == RetryOverrides(max_attempts=5, max_age_seconds=600.0)
    assert (policy.max_attempts, policy.max_age_seconds, policy.max_seconds) == (5, 600, 300)


@pytest.mark.parametrize("retry", ["{ tries = 3 }", "{ max_attempts = -1 }", '"often"'])
def test_a_retry_setting_the_hub_does_not_understand_is_refused(tmp_path: Path, retry: str) -> None:
    with pytest.raises(ConfigurationError, match=r"\[TAX\]: retry"):
        DepartmentDirectory.from_file(write_departments(tmp_path, retry))


@responses.activate
def test_a_delivery_older_than_its_departments_max_age_fails_instead_of_retrying(
    store: Store, clock: FakeClock
) -> None:
    directory = departments()
    tax = dataclasses.replace(directory.get("TAX"), retry=RetryOverrides(max_age_seconds=60))
    handler = DeliveryHandler(
        store,
        real_mappings(),
        DepartmentDirectory({"TAX": tax}),
        PostAdapter,
        RetryPolicy(base_seconds=10, max_seconds=20, max_attempts=40),
        lease_seconds=30,
    )
    responses.add(responses.POST, TAX_URL, status=503)
    delivery_id = store.save_accepted(new_message(), ("TAX",), 30).deliveries[0].delivery_id

    assert handler.handle(delivery_id) == "retrying"
    clock.advance(70)  # the round began 70 s ago; any retry now is past 60 s
    assert handler.handle(delivery_id) == "failed"
    status = store.message_status(_message(store, delivery_id))
    assert "older than the retry max age" in (status.deliveries[0].last_error or "")


def _message(store: Store, delivery_id: int) -> str:
    with store.engine.connect() as connection:
        return str(
            connection.scalar(select(DeliveryRow.message_id).where(DeliveryRow.id == delivery_id))
        )


class PoisonAdapter(Adapter):
    """Hangs on the first record it gets (a record that makes the department hang)."""

    name = "test-poison"
    release = threading.Event()
    seen: list[str] = []  # noqa: RUF012 (shared by the test)
    delivered: list[str] = []  # noqa: RUF012

    def deliver(self, delivery: OutboundDelivery) -> DeliveryResult:
        PoisonAdapter.seen.append(delivery.message_id)
        if len(PoisonAdapter.seen) == 1:
            PoisonAdapter.release.wait(30)
        PoisonAdapter.delivered.append(delivery.message_id)
        return DeliveryResult("accepted")


def test_a_poison_message_does_not_delay_the_departments_other_messages(
    live_store: Store, bus_url: str, queue_prefix: str
) -> None:
    PoisonAdapter.release.clear()
    PoisonAdapter.seen, PoisonAdapter.delivered = [], []
    settings = Settings(bus_url=bus_url, relay_interval_seconds=0.05, consumers_per_department=2)
    service = WorkerService(
        settings,
        live_store,
        real_mappings(),
        departments(),
        PoisonAdapter,
        queue_prefix=queue_prefix,
    )
    service.start()
    try:
        assert service.wait_ready(20)
        poison = live_store.save_accepted(new_message(), ("TAX",), 30)
        service.publisher.publish("TAX", poison.deliveries[0].delivery_id, "k")
        assert wait_for(lambda: PoisonAdapter.seen == [poison.message_id])
        others = [live_store.save_accepted(new_message(), ("TAX",), 30) for _ in range(3)]
        for receipt in others:
            service.publisher.publish("TAX", receipt.deliveries[0].delivery_id, "k")

        others_done = wait_for(
            lambda: all(
                live_store.message_status(r.message_id).state == "delivered" for r in others
            )
        )
        poison_still_hanging = live_store.message_status(poison.message_id).state == "accepted"
    finally:
        PoisonAdapter.release.set()
        service.stop()
    assert others_done and poison_still_hanging
