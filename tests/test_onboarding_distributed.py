"""A department registered from the command line reaches separate `govhub serve` and
`govhub worker` processes through the announcement on RabbitMQ, with their own database
polls set far too slow to be what did it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import zeep
from backends import amqp_url
from deployment import Deployment, deployed
from hubstack import header, marriage
from test_runtime_onboarding import CODE, COUNTY, package_for

from hub.bus import delete_queues
from hub.polling import wait_for
from mock_departments.runner import MockDepartments

pytestmark = [pytest.mark.distributed, pytest.mark.slow]


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    with deployed(tmp_path, config_poll_seconds="300") as running:
        running.start_api()
        running.start_worker()
        try:
            yield running
        finally:
            delete_queues(amqp_url(), [CODE], running.env["GOVHUB_QUEUE_PREFIX"])


def test_a_registration_is_used_by_the_api_and_worker_processes_without_a_restart(
    tmp_path: Path, deployment: Deployment, household: MockDepartments
) -> None:
    folder = package_for(tmp_path, household.url(CODE) + "/soap")
    client = zeep.Client(f"{deployment.hub_url}/soap?wsdl")
    before = client.service.Submit(header=header(), message=marriage(registrationOffice=COUNTY))
    assert CODE not in before.receivers

    registered = subprocess.run(
        [sys.executable, "-m", "hub", "departments", "register", str(folder), "--actor", "ops"],
        env=deployment.env,
        capture_output=True,
        text=True,
    )
    assert registered.returncode == 0, registered.stderr

    def routed_to_household() -> str | None:
        receipt = client.service.Submit(
            header=header(), message=marriage(registrationOffice=COUNTY)
        )
        return receipt.messageId if CODE in receipt.receivers else None

    message_id = wait_for(routed_to_household, 10)
    assert message_id, "the API process did not pick up the registration"
    assert wait_for(lambda: deployment.all_delivered([message_id]), 30)
    assert household.household.store.count() == 1
