"""A whole hub for end-to-end tests: the real HTTP server, SOAP stack, store, bus and
workers, with the three mock departments as the department systems."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import zeep
from queue_cleanup import session_queue_prefix

from hub.config import Settings
from hub.identity import make_number
from hub.polling import wait_for
from hub.runtime import HubRuntime
from hub.store import MessageStatus
from hub.waitress_limits import ServerLimits
from hub.webserver import BackgroundServer
from mock_departments.runner import MockDepartments, start_mock_departments

HUSBAND_ID = make_number("11010519900307", "131")
WIFE_ID = make_number("11010819920815", "242")


@dataclass
class HubStack:
    runtime: HubRuntime
    server: BackgroundServer
    mocks: MockDepartments

    @property
    def soap_url(self) -> str:
        return f"{self.server.url}/soap"

    def client(self) -> zeep.Client:
        return zeep.Client(f"{self.soap_url}?wsdl")

    def wait_settled(self, message_id: str, seconds: float = 20.0) -> MessageStatus:
        def settled() -> MessageStatus | None:
            status = self.runtime.store.message_status(message_id)
            return status if status.state in ("delivered", "failed") else None

        return wait_for(settled, seconds) or self.runtime.store.message_status(message_id)


@contextmanager
def running_hub(
    tmp_path: Path,
    *,
    database_url: str = "",
    bus_url: str = "memory://",
    more_endpoints: str = "",  # GOVHUB_DEPARTMENT_ENDPOINTS beside the three mocks'
    **settings: Any,
) -> Iterator[HubStack]:
    mocks = start_mock_departments(
        data_dir=tmp_path / "mocks", ports={code: 0 for code in _CODES}, retry_seconds=0.2
    )
    endpoints = ",".join(
        [*(f"{code}={url}" for code, url in mocks.endpoints().items()), more_endpoints]
    )
    runtime = HubRuntime(
        Settings(
            data_dir=tmp_path / "hub",
            database_url=database_url,
            bus_url=bus_url,
            department_endpoints=endpoints,
            retry_base_seconds=0.1,
            retry_max_seconds=0.5,
            # Queues of its own: memory:// queues are process-wide, so two hubs (one test's
            # second hub, or one left from a test before) would otherwise take each other's.
            **{
                "credentials_cache_seconds": 0.0,
                "relay_interval_seconds": 0.2,
                "queue_prefix": session_queue_prefix(),
                **settings,
            },
        )
    )
    limits = ServerLimits.from_settings(runtime.settings)
    server = BackgroundServer(runtime.wsgi_app(), "127.0.0.1", 0, limits=limits)
    try:
        runtime.store.upgrade()
        runtime.start_workers()
        server.start()
        for run in mocks.running.values():
            run.department.hub_url = server.url
        yield HubStack(runtime, server, mocks)
    finally:
        # Each step even if one before failed: a hub left running would keep consuming the
        # process-wide memory:// queues of the tests after it.
        try:
            server.stop()
        finally:
            try:
                runtime.close()
            finally:
                mocks.stop()


_CODES = ("MARRIAGE_REGISTRY", "SOCIAL_SECURITY", "TAX", "SUPERVISION")


def header(
    message_type: str = "MarriageRegistered", sender: str = "MARRIAGE_REGISTRY", **extra: Any
) -> dict[str, Any]:
    return {
        "messageId": str(uuid.uuid4()),
        "sender": sender,
        "messageType": message_type,
        "schemaVersion": "1.0",
        "idempotencyKey": extra.pop("idempotencyKey", str(uuid.uuid4())),
        "purpose": "marriage registration, Marriage Registration Regulations art. 7",
        "sentAt": datetime.now(UTC),
        **extra,
    }


def marriage(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "registrationNumber": "J110105-20260520-0001",
        "registeredOn": "2026-05-20",
        "registrationOffice": "110105",
        "partyA": {
            "identityNumber": HUSBAND_ID,
            "name": "张伟",
            "sex": "1",
            "birthDate": "1990-03-07",
        },
        "partyB": {
            "identityNumber": WIFE_ID,
            "name": "王芳",
            "sex": "2",
            "birthDate": "1992-08-15",
        },
        "maritalStatus": "20",
    }
    record.update(changes)
    return {"MarriageRegistered": record}
