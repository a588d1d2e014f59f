"""The distributed setup as it runs in production: PostgreSQL, RabbitMQ, `govhub serve` and
two `govhub worker` processes as separate OS processes, driven over HTTP with zeep."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import zeep
from deployment import PROCESS_START_SECONDS, Deployment, deployed
from hubstack import HUSBAND_ID, WIFE_ID, header, marriage

from hub.polling import wait_for
from hub.store import delivery_key
from mock_departments.people import Person

pytestmark = [pytest.mark.distributed, pytest.mark.slow]


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    with deployed(tmp_path) as running:
        running.start_api()
        running.start_worker()
        running.start_worker()
        yield running


def test_every_message_reaches_every_department_once_with_serve_and_two_workers(
    deployment: Deployment,
) -> None:
    client = zeep.Client(f"{deployment.hub_url}/soap?wsdl")
    message_ids = []
    for n in range(40):
        if n == 20:  # one worker dies mid-run; the other and the relay carry on
            deployment.kill(deployment.workers[0])
        record = marriage(registrationNumber=f"J110105-20260520-{n:04d}")
        message_ids.append(client.service.Submit(header=header(), message=record).messageId)

    assert wait_for(lambda: deployment.all_delivered(message_ids), seconds=60)
    for code, store in [
        ("TAX", deployment.mocks.tax.store),
        ("SOCIAL_SECURITY", deployment.mocks.social_security.store),
    ]:
        counts = store.deliveries()
        # All arrived, each under the one key the hub gives it for this department...
        assert store.keys() == {delivery_key(m, code) for m in message_ids}, code
        # ...and none applied twice: the kill may cause repeats, which the key absorbs.
        assert counts.applied == 40, (code, counts)
        assert counts.applied_twice == 0, (code, counts)


def test_a_marriage_entered_at_the_registry_reaches_both_departments_through_the_processes(
    deployment: Deployment,
) -> None:
    number = deployment.mocks.marriage_registry.register_marriage(
        Person("张伟", HUSBAND_ID), Person("王芳", WIFE_ID), day=date(2026, 5, 20), office="110105"
    )

    message_id = wait_for(lambda: deployment.store.find_message_id("MARRIAGE_REGISTRY", number))
    assert message_id is not None
    assert wait_for(lambda: deployment.all_delivered([message_id]), seconds=PROCESS_START_SECONDS)
