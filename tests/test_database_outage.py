"""While PostgreSQL is unreachable, Submit answers the typed Server.Unavailable fault, and the
hub says so in one log line for the outage, not a traceback per request."""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
from backends import fresh_postgresql_database
from console_kit import chromium, logged_in
from hubstack import HubStack, header, marriage, running_hub
from tcp_cut import TcpCut, database_through_cut
from test_security_console_browser import snapshot
from zeep.wsse.username import UsernameToken

from hub.identity import make_number
from hub.observability.outages import is_database_outage
from hub.security.admins import AdminStore
from hub.security.encryption import KeyRing, new_key_text
from hub.store.engine import CONNECT_TIMEOUT_SECONDS, make_engine
from mock_departments.people import Person

pytestmark = pytest.mark.slow
# An operator's secret can be read back: WS-Security digests work.
KEYS = new_key_text("k1")


@pytest.fixture
def cut_stack(tmp_path: Path) -> Iterator[tuple[HubStack, TcpCut]]:
    with (
        fresh_postgresql_database() as database_url,
        database_through_cut(database_url) as (through_cut, cut),
        running_hub(tmp_path, database_url=through_cut, encryption_keys=KEYS) as stack,
    ):
        yield stack, cut


def test_submit_answers_unavailable_with_one_line_per_outage(
    cut_stack: tuple[HubStack, TcpCut], caplog: pytest.LogCaptureFixture
) -> None:
    stack, cut = cut_stack
    client = stack.client()
    client.service.Submit(header=header(), message=marriage())  # the pool holds connections

    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="hub"):
        cut.cut()  # after the clear: the relay's next pass may be the first to notice
        codes = []
        for _ in range(12):
            with pytest.raises(zeep.exceptions.Fault) as fault:
                client.service.Submit(header=header(), message=marriage())
            codes.append(fault.value.code.rpartition(":")[2])
        cut.mend()
        receipt = client.service.Submit(header=header(), message=marriage())

    assert codes == ["Server.Unavailable"] * 12
    assert receipt.state == "accepted"
    ours = [r for r in caplog.records if r.name.startswith("hub") and r.levelno >= logging.INFO]
    outage = [r.getMessage() for r in ours if r.name == "hub.outages"]
    assert len(outage) == 2, outage
    assert outage[0].startswith("the database is unavailable (OperationalError")
    assert outage[1].startswith("the database answers again after")
    assert not [r for r in ours if r.exc_info], "a traceback was logged"
    assert not [r for r in ours if r.levelno >= logging.ERROR], [r.getMessage() for r in ours]


def _code(call: Callable[[], Any]) -> str:
    """The fault code a call was answered with ("answered" when it was not a fault)."""
    try:
        call()
    except zeep.exceptions.Fault as fault:
        return str(fault.code).rpartition(":")[2]
    return "answered"


def test_every_operation_and_the_console_answer_unavailable_with_one_line_per_outage(
    cut_stack: tuple[HubStack, TcpCut], caplog: pytest.LogCaptureFixture
) -> None:
    stack, cut = cut_stack
    client = stack.client()
    receipt = client.service.Submit(header=header(), message=marriage())
    accounts = AdminStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
    operator = accounts.add("ops-lin", ["read"], actor="root")
    admin = zeep.Client(
        f"{stack.server.url}/admin?wsdl",
        wsse=UsernameToken(operator.username, operator.secret, use_digest=True),
    )
    console, _ = logged_in(stack, operator)
    calls: dict[str, Callable[[], Any]] = {
        "GetStatus": lambda: client.service.GetStatus(messageId=receipt.messageId),
        "ListServices": lambda: client.service.ListServices(department="TAX"),
        "GetQueryResult": lambda: client.service.GetQueryResult(queryId=str(uuid.uuid4())),
        "ListMessages": lambda: admin.service.ListMessages(filter={}),
        "ShowMessage": lambda: admin.service.ShowMessage(messageId=receipt.messageId),
    }
    before = {name: _code(call) for name, call in calls.items()}
    assert before["GetQueryResult"] == "Client.NotFound"  # an unknown query: not the outage

    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="hub"):
        cut.cut()  # after the clear: the relay's next pass may be the first to notice
        during = {name: [_code(call), _code(call)] for name, call in calls.items()}
        pages = [console.get(f"{stack.server.url}/console/messages", timeout=30) for _ in "12"]
        cut.mend()
        after = {name: _code(call) for name, call in calls.items()}
        page_after = console.get(f"{stack.server.url}/console/messages", timeout=30)

    assert during == dict.fromkeys(calls, ["Server.Unavailable"] * 2)
    assert [page.status_code for page in pages] == [503, 503]
    assert all(page.headers.get("Retry-After", "").isdigit() for page in pages)
    assert "database is unavailable now" in pages[0].text
    assert after == before
    assert page_after.status_code == 200
    ours = [r for r in caplog.records if r.name.startswith("hub") and r.levelno >= logging.INFO]
    outage = [r.getMessage() for r in ours if r.name == "hub.outages"]
    assert len(outage) == 2, outage
    assert outage[1].startswith("the database answers again after")
    assert not [r for r in ours if r.exc_info], "a traceback was logged"
    assert not [r for r in ours if r.levelno >= logging.ERROR], [r.getMessage() for r in ours]


def test_a_database_that_accepts_but_never_answers_is_an_outage_within_the_connect_timeout() -> (
    None
):
    """A server gone silent (a host that vanished behind a load balancer, a stuck proxy): the
    hub's connection gives up after the connect timeout instead of waiting for ever."""
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (the kernel does), never speaks
    port = silent.getsockname()[1]
    engine = make_engine(f"postgresql+psycopg://govhub:secret@127.0.0.1:{port}/govhub")
    errors: list[BaseException] = []

    def connect() -> None:
        try:
            engine.connect().close()
        except Exception as error:
            errors.append(error)

    attempt = threading.Thread(target=connect, daemon=True)
    try:
        attempt.start()
        attempt.join(CONNECT_TIMEOUT_SECONDS * 6)  # a bound for a busy machine, not a speed
        assert not attempt.is_alive(), "the connection attempt is still waiting"
    finally:
        silent.close()
        engine.dispose()
    assert len(errors) == 1 and is_database_outage(errors[0]), errors


def test_a_console_page_in_the_browser_says_the_database_is_away_and_comes_back(
    cut_stack: tuple[HubStack, TcpCut],
) -> None:
    stack, cut = cut_stack
    accounts = AdminStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
    session, _ = logged_in(stack, accounts.add("ops-wu", ["read"], actor="root"))
    with chromium() as driver:
        driver.get(f"{stack.server.url}/console/login")
        for kept in session.cookies:  # the operator's session, signed in as a person would
            driver.add_cookie({"name": kept.name, "value": kept.value, "path": "/console"})
        cut.cut()
        try:
            driver.get(f"{stack.server.url}/console/messages")
            away = driver.find_element("tag name", "body").text
            snapshot(driver, "database-away")
        finally:
            cut.mend()
        driver.get(f"{stack.server.url}/console/messages")
        back = driver.find_element("tag name", "body").text
    assert "503 Service Unavailable" in away
    assert "database is unavailable now" in away
    assert "Traceback" not in away
    assert "database is unavailable" not in back


def test_a_native_push_is_answered_503_with_retry_after_while_the_database_is_away(
    cut_stack: tuple[HubStack, TcpCut],
) -> None:
    stack, cut = cut_stack
    zhang = Person("Zhang San", make_number("11010519900307", "123"))

    def push(day: int) -> requests.Response:
        key = stack.mocks.tax.record_address_change(
            zhang, region_code="110105", line="朝阳路1号", effective=date(2024, 5, day)
        )
        return requests.post(
            f"{stack.server.url}/native/TAX/api/v1/address-changes",
            data=stack.mocks.tax.store.outbox_entry(key).body,
            headers={"Content-Type": "application/json; charset=utf-8"},
            timeout=30,
        )

    assert push(1).status_code == 202
    cut.cut()
    try:
        away = push(2)
    finally:
        cut.mend()
    assert push(3).status_code == 202
    assert away.status_code == 503
    assert away.headers.get("Retry-After", "").isdigit()
    assert away.json()["error"] == "Server.Unavailable"
