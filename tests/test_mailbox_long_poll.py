"""Waiting Receives cost the server's loop nothing (issue 13): while they wait their
connections are out of waitress's dispatcher (hub/api/parked_connections.py), and each is
still answered, on the same kept-alive connection, the moment its mail is parked."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hubstack import HubStack, header, marriage, running_hub
from test_mailboxes import KEYS, hub_as, mailbox_departments
from waitress.channel import HTTPChannel

from hub.polling import wait_for
from hub.security.credentials import CredentialStore
from hub.security.encryption import KeyRing

pytestmark = pytest.mark.slow
WAITERS = 3
WAIT_SECONDS = 12


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[HubStack]:
    settings = {
        "encryption_keys": KEYS,
        "departments_file": mailbox_departments(tmp_path),
        "mailbox_wait_slots": WAITERS,
    }
    with running_hub(tmp_path, **settings) as running:
        yield running


def open_connections(stack: HubStack) -> int:
    """Client connections the server's dispatcher walks on each pass of its loop."""
    server: Any = stack.server._server
    return sum(isinstance(channel, HTTPChannel) for channel in list(server._map.values()))


def test_waiting_receives_leave_the_server_loop_and_are_answered_when_mail_arrives(
    stack: HubStack,
) -> None:
    credentials = CredentialStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
    issued = credentials.issue("TAX", actor="admin-wang")
    tax = [hub_as(stack, issued) for _ in range(WAITERS)]  # three nodes of one department
    registry = hub_as(stack, credentials.issue("MARRIAGE_REGISTRY", actor="admin-wang"))
    answers: list[tuple[float, list[Any]]] = []

    def receive(service: Any) -> None:
        started = time.monotonic()
        found = service.Receive(maxMessages=1, waitSeconds=WAIT_SECONDS)
        answers.append((time.monotonic() - started, list(found)))

    idle = open_connections(stack)  # each client's kept-alive connection (it fetched the WSDL)
    waiting = [threading.Thread(target=receive, args=(service,)) for service in tax]
    for thread in waiting:
        thread.start()
    assert wait_for(lambda: stack.runtime.mailbox_slots().in_use == WAITERS, 10)
    assert wait_for(lambda: open_connections(stack) == idle - WAITERS, 5), (
        idle,
        open_connections(stack),
    )

    registry.Submit(header=header(), message=marriage())  # the loop still serves the rest
    assert wait_for(lambda: any(found for _, found in answers), WAIT_SECONDS)
    seconds, (message,) = next((seconds, found) for seconds, found in answers if found)
    assert seconds < WAIT_SECONDS - 2  # woken by the bell, not by its wait running out
    assert message.messageType == "MarriageRegistered"

    for thread in waiting:
        thread.join(WAIT_SECONDS + 5)
    assert len(answers) == WAITERS
    assert [bool(found) for _, found in answers].count(True) == 1  # one message, one taker
    # Each connection came back to the loop: the same clients ask again on it and are answered.
    assert all(service.Receive(maxMessages=1, waitSeconds=0) == [] for service in tax[1:])
    assert tax[0].Ack(leaseToken=[message.leaseToken]) == 1
