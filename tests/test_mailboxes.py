"""Pull mailboxes (issue 13): departments with ``adapter = "mailbox"`` fetch their deliveries
with Receive and settle them with Ack / Nack, through the running hub's /soap and zeep, on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
from backends import fresh_postgresql_database
from hubstack import HubStack, header, marriage, running_hub
from lxml import etree
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

from hub.observability import metrics
from hub.operations.replay import ReplayRequest, replay
from hub.polling import wait_for
from hub.resources import DEFAULTS_ROOT
from hub.security import audit
from hub.security.credentials import CredentialStore, IssuedSecret
from hub.security.encryption import KeyRing, new_key_text
from hub.store import delivery_key

pytestmark = pytest.mark.slow
KEYS = new_key_text("k1")
MAILBOXES = ("SOCIAL_SECURITY", "TAX", "SUPERVISION")
CODES = ("MARRIAGE_REGISTRY", *MAILBOXES)


def mailbox_departments(folder: Path) -> Path:
    """The default departments, with social security, tax and supervision on mailboxes."""
    text = (DEFAULTS_ROOT / "departments.toml").read_text(encoding="utf-8")
    for code in MAILBOXES:
        section = re.compile(rf"(\[{code}\][^\[]*?)adapter = \"\w+\"", re.S)
        text = section.sub(r'\1adapter = "mailbox"', text)
    path = folder / "departments.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.distributed)]
)
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HubStack]:
    folder = tmp_path_factory.mktemp("mailboxes")
    departments = mailbox_departments(folder)
    # Two wait slots: the test server has its 8 threads only (govhub serve adds one a slot).
    settings = {"encryption_keys": KEYS, "departments_file": departments, "mailbox_wait_slots": 2}
    if request.param == "sqlite":
        with running_hub(folder, **settings) as running:
            yield running
        return
    with (
        fresh_postgresql_database() as url,
        running_hub(folder, database_url=url, **settings) as running,
    ):
        yield running


@pytest.fixture(scope="module")
def secrets(stack: HubStack) -> dict[str, IssuedSecret]:
    credentials = CredentialStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
    return {code: credentials.issue(code, actor="admin-wang") for code in CODES}


def hub_as(stack: HubStack, issued: IssuedSecret) -> Any:
    token = UsernameToken(issued.username, issued.secret, use_digest=True)
    return zeep.Client(f"{stack.soap_url}?wsdl", wsse=token).service


def submitted(stack: HubStack, secrets: dict[str, IssuedSecret]) -> str:
    """A marriage for SOCIAL_SECURITY and TAX, once both legs wait in their mailboxes."""
    receipt = hub_as(stack, secrets["MARRIAGE_REGISTRY"]).Submit(
        header=header(), message=marriage()
    )
    message_id = str(receipt.messageId)
    assert wait_for(
        lambda: legs(stack, message_id) == {"SOCIAL_SECURITY": "waiting", "TAX": "waiting"}, 20
    )
    return message_id


def legs(stack: HubStack, message_id: str) -> dict[str, str]:
    status = stack.runtime.store.message_status(message_id)
    return {d.department: d.state for d in status.deliveries}


def receive_all(service: Any, message_id: str) -> Any:
    """This test's message from the mailbox (others' may be there too)."""
    found = [
        m for m in service.Receive(maxMessages=100, waitSeconds=0) if m.messageId == message_id
    ]
    assert len(found) == 1
    return found[0]


def fault_code(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(Fault) as refused:
        call(*args, **kwargs)
    detail = refused.value.detail
    code = detail.find("{urn:govhub:hub:1}HubFault/{urn:govhub:hub:1}code")
    assert code is not None, etree.tostring(detail)
    return str(code.text)


def test_a_mailbox_delivery_waits_translated_until_the_department_acknowledges_it(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    message_id = submitted(stack, secrets)
    tax = hub_as(stack, secrets["TAX"])
    assert stack.runtime.store.message_status(message_id).state == "accepted"

    received = receive_all(tax, message_id)

    assert received.messageType == "MarriageRegistered"
    assert received.idempotencyKey == delivery_key(message_id, "TAX")
    assert json.loads(received.document)["eventType"] == "MARRIAGE"  # the REST mapping's JSON
    assert tax.Ack(leaseToken=[received.leaseToken]) == 1
    status = hub_as(stack, secrets["TAX"]).GetStatus(message_id)
    by_department = {d.department: d for d in status.deliveries}
    assert by_department["TAX"].state == "delivered"
    assert by_department["TAX"].attempts == 1
    assert by_department["SOCIAL_SECURITY"].state == "waiting"
    assert attempts_logged(stack, message_id, "TAX") == ["delivered"]


def test_the_native_xml_keeps_its_encoding_and_both_departments_settle_their_own(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    message_id = submitted(stack, secrets)
    social = hub_as(stack, secrets["SOCIAL_SECURITY"])
    received = receive_all(social, message_id)
    document = etree.fromstring(received.document)
    assert etree.QName(document).localname == "MaritalStatusNotice"
    assert received.encoding == "UTF-8" and b'kind="marriage"' in received.document
    tax_lease = receive_all(hub_as(stack, secrets["TAX"]), message_id).leaseToken

    assert fault_code(social.Ack, leaseToken=[tax_lease]) == "Client.UnknownLease"
    assert ("SOCIAL_SECURITY", "Ack", "Client.UnknownLease") in refusals(stack)
    bad_among_good = [received.leaseToken, "no-such-lease"]
    assert fault_code(social.Ack, leaseToken=bad_among_good) == "Client.UnknownLease"
    assert legs(stack, message_id)["SOCIAL_SECURITY"] == "waiting"  # all or none
    assert social.Ack(leaseToken=[received.leaseToken]) == 1
    assert fault_code(social.Ack, leaseToken=[received.leaseToken]) == "Client.AlreadyAcknowledged"
    assert fault_code(social.Ack, leaseToken=["no-such-lease"]) == "Client.UnknownLease"
    assert hub_as(stack, secrets["TAX"]).Ack(leaseToken=[tax_lease]) == 1
    assert stack.wait_settled(message_id).state == "delivered"


def test_a_message_not_acknowledged_within_its_lease_comes_back_and_is_delivered_once(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    message_id = submitted(stack, secrets)
    tax = hub_as(stack, secrets["TAX"])
    first = receive_all(tax, message_id)
    later(stack, seconds=61)  # the default lease is 60 s
    try:
        second = receive_all(tax, message_id)
        assert fault_code(tax.Ack, leaseToken=[first.leaseToken]) == "Client.LeaseExpired"
        assert second.leaseToken != first.leaseToken
        assert tax.Ack(leaseToken=[second.leaseToken]) == 1
    finally:
        later(stack, seconds=0)
    assert legs(stack, message_id)["TAX"] == "delivered"
    assert attempts_logged(stack, message_id, "TAX") == ["delivered"]


def test_nack_gives_a_message_back_or_fails_its_leg(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    message_id = submitted(stack, secrets)
    tax = hub_as(stack, secrets["TAX"])

    assert (
        tax.Nack(leaseToken=receive_all(tax, message_id).leaseToken, reason="busy", retry=True)
        == "waiting"
    )
    again = receive_all(tax, message_id)
    assert tax.Nack(leaseToken=again.leaseToken, reason="unknown district", retry=False) == "failed"

    status = stack.runtime.store.message_status(message_id)
    leg = next(d for d in status.deliveries if d.department == "TAX")
    assert (leg.state, leg.attempts, leg.last_error) == ("failed", 2, "Nack: unknown district")
    assert attempts_logged(stack, message_id, "TAX") == ["retry", "failed"]
    assert fault_code(tax.Ack, leaseToken=[again.leaseToken]) == "Client.AlreadyAcknowledged"
    # Failed is failed: the message is not handed out again (an operator may replay it).
    assert message_id not in [m.messageId for m in tax.Receive(maxMessages=100, waitSeconds=0)]


def test_a_failed_mailbox_leg_replays_into_the_mailbox_and_counts_as_delivered_when_acked(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    message_id = submitted(stack, secrets)
    tax = hub_as(stack, secrets["TAX"])
    tax.Nack(leaseToken=receive_all(tax, message_id).leaseToken, reason="no", retry=False)
    departments = set(stack.runtime.departments.codes())
    asked = ReplayRequest(actor="ops-wu", reason="tax fixed", message_ids=(message_id,))

    notes = [outcome.note for outcome in replay(stack.runtime.store, departments, asked).outcomes]

    assert "replayed to TAX with the current mapping" in notes
    assert "already waiting in SOCIAL_SECURITY's mailbox, skipped" in notes
    assert wait_for(lambda: legs(stack, message_id)["TAX"] == "waiting", 20)
    delivered_before = acked_count("TAX")
    assert tax.Ack(leaseToken=[receive_all(tax, message_id).leaseToken]) == 1
    assert legs(stack, message_id)["TAX"] == "delivered"
    assert acked_count("TAX") == delivered_before + 1
    assert attempts_logged(stack, message_id, "TAX") == ["failed", "delivered"]


def acked_count(department: str) -> float:
    labels = {"department": department, "outcome": "delivered"}
    return metrics.REGISTRY.get_sample_value("govhub_deliveries_total", labels) or 0.0


def test_only_a_department_with_a_mailbox_authenticated_as_itself_may_receive(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    marriage_registry = hub_as(stack, secrets["MARRIAGE_REGISTRY"])
    assert fault_code(marriage_registry.Receive, maxMessages=1, waitSeconds=0) == "Client.NoMailbox"
    anonymous = zeep.Client(f"{stack.soap_url}?wsdl").service
    assert fault_code(anonymous.Receive, maxMessages=1, waitSeconds=0) == "Client.NotAuthenticated"
    tax = hub_as(stack, secrets["TAX"])
    assert fault_code(tax.Receive, maxMessages=1, waitSeconds=31) == "Client.SchemaInvalid"
    refused = refusals(stack)
    assert ("MARRIAGE_REGISTRY", "Receive", "Client.NoMailbox") in refused
    assert ("unknown", "Receive", "Client.NotAuthenticated") in refused


def refusals(stack: HubStack) -> list[tuple[str, str, str]]:
    """The audit log's refusals: (who, what, fault code)."""
    with stack.runtime.store.engine.connect() as connection:
        return [
            (e.actor, e.subject, json.loads(e.details)["code"])
            for e in audit.entries(connection)
            if e.action == audit.REFUSED
        ]


def test_a_waiting_receive_gets_the_first_message_and_does_not_hold_up_submit(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    supervision = [hub_as(stack, secrets["SUPERVISION"]) for _ in range(3)]
    answers: list[Any] = []
    waiting = [
        threading.Thread(target=lambda s=s: answers.append(s.Receive(maxMessages=1, waitSeconds=4)))
        for s in supervision[:2]
    ]
    for thread in waiting:
        thread.start()
    assert wait_for(lambda: stack.runtime.mailbox_slots().in_use == 2, 5)

    # Both wait slots are taken: a third Receive answers at once, and Submit goes through.
    assert supervision[2].Receive(maxMessages=1, waitSeconds=4) == []
    receipt = hub_as(stack, secrets["MARRIAGE_REGISTRY"]).Submit(
        header=header(), message=marriage()
    )
    assert receipt.state == "accepted" and all(thread.is_alive() for thread in waiting)
    for thread in waiting:
        thread.join(10)
    assert answers == [[], []]


def test_the_wsdl_types_receive_ack_and_nack_with_the_hub_fault(stack: HubStack) -> None:
    wsdl = zeep.Client(f"{stack.soap_url}?wsdl").wsdl
    operations = wsdl.bindings["{urn:govhub:hub:1}GovHubSoap11"]._operations
    for name in ("Receive", "Ack", "Nack"):
        assert "HubFault" in operations[name].faults
    wait = etree.fromstring(requests.get(f"{stack.soap_url}?wsdl", timeout=10).content).find(
        ".//xs:element[@name='Receive']//xs:element[@name='waitSeconds']//xs:maxInclusive",
        {"xs": "http://www.w3.org/2001/XMLSchema"},
    )
    assert wait is not None and wait.get("value") == "30"


def later(stack: HubStack, *, seconds: float) -> None:
    """Move the store's clock (leases are the store's time); 0: back to real time."""
    store = stack.runtime.store
    real = getattr(store, "_real_clock", store.clock)
    store._real_clock = real  # type: ignore[attr-defined]
    store.clock = (lambda: real() + timedelta(seconds=seconds)) if seconds else real


def attempts_logged(stack: HubStack, message_id: str, department: str) -> list[str]:
    with stack.runtime.store.engine.connect() as connection:
        return [
            json.loads(e.details)["outcome"]
            for e in audit.entries(connection)
            if e.action == audit.DELIVERY_ATTEMPT
            and e.subject == message_id
            and json.loads(e.details)["department"] == department
        ]


def test_list_services_says_what_a_mailbox_department_fetches(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    tax = hub_as(stack, secrets["TAX"]).ListServices().allowed
    assert tax.fetches == tax.receives and "MarriageRegistered" in tax.fetches
    pushed = hub_as(stack, secrets["MARRIAGE_REGISTRY"]).ListServices().allowed
    assert pushed.receives and pushed.fetches == []  # pushed to: it fetches nothing
