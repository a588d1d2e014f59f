"""The distributed setup as it runs in production: PostgreSQL, RabbitMQ, `govhub serve` and
two `govhub worker` processes as separate OS processes, driven over HTTP with zeep."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import requests
import zeep
from backends import amqp_url, fresh_postgresql_database
from hubstack import HUSBAND_ID, WIFE_ID, header, marriage

from hub.bus import delete_queues
from hub.polling import wait_for
from hub.store import Store
from mock_departments.people import Person
from mock_departments.runner import MockDepartments, start_mock_departments

pytestmark = [pytest.mark.distributed, pytest.mark.slow]
DEPARTMENTS = ["MARRIAGE_REGISTRY", "SOCIAL_SECURITY", "TAX"]


@dataclass
class Deployment:
    hub_url: str
    store: Store
    mocks: MockDepartments
    workers: list[subprocess.Popen[bytes]]

    def client(self) -> zeep.Client:
        return zeep.Client(f"{self.hub_url}/soap?wsdl")

    def all_delivered(self, message_ids: list[str]) -> bool | None:
        states = {self.store.message_status(m).state for m in message_ids}
        return True if states == {"delivered"} else None


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    bus = amqp_url()
    prefix = f"govhub.test.{uuid.uuid4().hex[:8]}."
    port = _free_port()
    with fresh_postgresql_database() as database_url:
        mocks = start_mock_departments(
            data_dir=tmp_path / "mocks",
            ports=dict.fromkeys(DEPARTMENTS, 0),
            hub_url=f"http://127.0.0.1:{port}",
            retry_seconds=0.2,
        )
        env = {
            **os.environ,
            "GOVHUB_DATA_DIR": str(tmp_path / "hub"),
            "GOVHUB_DATABASE_URL": database_url,
            "GOVHUB_BUS_URL": bus,
            "GOVHUB_QUEUE_PREFIX": prefix,
            "GOVHUB_DEPARTMENT_ENDPOINTS": ",".join(
                f"{c}={u}" for c, u in mocks.endpoints().items()
            ),
            "GOVHUB_RELAY_INTERVAL_SECONDS": "0.2",
            "GOVHUB_LEASE_SECONDS": "3",
            "GOVHUB_RETRY_BASE_SECONDS": "0.1",
        }
        subprocess.run([*_govhub(), "db", "upgrade"], env=env, check=True, capture_output=True)
        processes = [
            subprocess.Popen([*_govhub(), "serve", "--no-workers", "--port", str(port)], env=env),
            subprocess.Popen([*_govhub(), "worker"], env=env),
            subprocess.Popen([*_govhub(), "worker"], env=env),
        ]
        store = Store(database_url)
        try:
            assert wait_for(lambda: _healthy(port)), "govhub serve did not come up"
            yield Deployment(f"http://127.0.0.1:{port}", store, mocks, processes[1:])
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=15)
            store.dispose()
            mocks.stop()
            delete_queues(bus, DEPARTMENTS, prefix)


def test_every_message_reaches_every_department_once_with_serve_and_two_workers(
    deployment: Deployment,
) -> None:
    client = deployment.client()
    message_ids = []
    for n in range(40):
        if n == 20:  # one worker dies mid-run; the other and the relay carry on
            deployment.workers[0].send_signal(signal.SIGKILL)
        record = marriage(registrationNumber=f"J110105-20260520-{n:04d}")
        message_ids.append(client.service.Submit(header=header(), message=record).messageId)

    assert wait_for(lambda: deployment.all_delivered(message_ids), seconds=60)
    assert deployment.mocks.tax.store.count() == 40
    assert deployment.mocks.social_security.store.count() == 40


def test_a_marriage_entered_at_the_registry_reaches_both_departments_through_the_processes(
    deployment: Deployment,
) -> None:
    number = deployment.mocks.marriage_registry.register_marriage(
        Person("张伟", HUSBAND_ID), Person("王芳", WIFE_ID), day=date(2026, 5, 20), office="110105"
    )

    message_id = wait_for(lambda: deployment.store.find_message_id("MARRIAGE_REGISTRY", number))
    assert message_id is not None
    assert wait_for(lambda: deployment.all_delivered([message_id]), seconds=30)


def _govhub() -> list[str]:
    return [sys.executable, "-m", "hub"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(port: int) -> bool | None:
    try:
        return requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok or None
    except requests.ConnectionError:
        return None
