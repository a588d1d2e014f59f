"""GetStatus answers only the message's sender and receivers, authenticated with WS-Security
like Submit, through the running hub and zeep."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
import zeep
from hubstack import HubStack, header, marriage, running_hub
from lxml import etree
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

from hub.identity import make_number
from hub.security import audit
from hub.security.credentials import CredentialStore, IssuedSecret
from hub.security.encryption import KeyRing, new_key_text
from mock_departments.people import Person
from mock_departments.pusher import PushCredentials

pytestmark = pytest.mark.slow
KEYS = new_key_text("k1")
CODES = ("MARRIAGE_REGISTRY", "SOCIAL_SECURITY", "TAX")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with running_hub(tmp_path_factory.mktemp("status"), encryption_keys=KEYS) as running:
        yield running


@pytest.fixture(scope="module")
def secrets(stack: HubStack) -> dict[str, IssuedSecret]:
    credentials = CredentialStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
    return {code: credentials.issue(code, actor="admin-wang") for code in CODES}


def client(stack: HubStack, issued: IssuedSecret | None, secret: str | None = None) -> zeep.Client:
    if issued is None:
        return zeep.Client(f"{stack.soap_url}?wsdl")
    token = UsernameToken(issued.username, secret or issued.secret, use_digest=True)
    return zeep.Client(f"{stack.soap_url}?wsdl", wsse=token)


@pytest.fixture(scope="module")
def marriage_id(stack: HubStack, secrets: dict[str, IssuedSecret]) -> str:
    """MarriageRegistered: MARRIAGE_REGISTRY to SOCIAL_SECURITY and TAX."""
    hub = client(stack, secrets["MARRIAGE_REGISTRY"])
    return str(hub.service.Submit(header=header(), message=marriage()).messageId)


@pytest.fixture(scope="module")
def enrollment_id(stack: HubStack, secrets: dict[str, IssuedSecret]) -> str:
    """InsuredPersonEnrolled: SOCIAL_SECURITY to TAX only (pushed by its clerk)."""
    issued = secrets["SOCIAL_SECURITY"]
    department = stack.mocks.social_security
    department.pusher.credentials = PushCredentials(issued.username, issued.secret)
    person = Person("Zhang San", make_number("11010519900307", "123"))
    number = department.enroll(
        person,
        scheme="110",
        employer_credit_code="91110105MA01ABCD2X",
        day=date(2024, 6, 1),
        region="110105",
    )
    found = stack.runtime.store.find_message_id("SOCIAL_SECURITY", number)
    assert found is not None
    return found


def test_the_sender_gets_the_status_of_its_message(
    stack: HubStack, secrets: dict[str, IssuedSecret], marriage_id: str
) -> None:
    status = client(stack, secrets["MARRIAGE_REGISTRY"]).service.GetStatus(marriage_id)
    assert status.sender == "MARRIAGE_REGISTRY"


def test_a_receiver_gets_the_status_of_a_message_it_receives(
    stack: HubStack, secrets: dict[str, IssuedSecret], marriage_id: str
) -> None:
    status = client(stack, secrets["TAX"]).service.GetStatus(marriage_id)
    assert {d.department for d in status.deliveries} == {"SOCIAL_SECURITY", "TAX"}


def test_a_department_that_neither_sent_nor_receives_a_message_is_not_told_its_status(
    stack: HubStack, secrets: dict[str, IssuedSecret], enrollment_id: str
) -> None:
    with pytest.raises(Fault) as refused:
        client(stack, secrets["MARRIAGE_REGISTRY"]).service.GetStatus(enrollment_id)
    # As for an unknown id (tests/test_security_status_oracle.py); the audit says why.
    assert refused.value.code.endswith("Client.NotFound")
    last = refusals(stack)[-1]
    assert (last["actor"], last["code"]) == ("MARRIAGE_REGISTRY", "Client.NotAuthorized")
    assert last["subject"] == f"GetStatus:{enrollment_id}"


def test_an_anonymous_status_request_is_refused_when_every_party_has_credentials(
    stack: HubStack, secrets: dict[str, IssuedSecret], marriage_id: str
) -> None:
    with pytest.raises(Fault) as refused:
        client(stack, None).service.GetStatus(marriage_id)
    assert refused.value.code.endswith("Client.NotFound")  # as for an unknown id
    assert refusals(stack)[-1]["code"] == "Client.NotAuthenticated"


def test_a_wrong_password_is_refused_before_the_message_is_looked_up(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    with pytest.raises(Fault) as refused:
        client(stack, secrets["TAX"], "wrong").service.GetStatus("no-such-message")
    assert refused.value.code.endswith("Client.NotAuthenticated")


def test_an_authenticated_department_asking_about_an_unknown_message_gets_not_found(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    with pytest.raises(Fault) as refused:
        client(stack, secrets["TAX"]).service.GetStatus("no-such-message")
    assert refused.value.code.endswith("Client.NotFound")


def refusals(stack: HubStack) -> list[dict[str, str]]:
    with stack.runtime.store.engine.connect() as connection:
        return [
            {"actor": e.actor, "subject": e.subject, **json.loads(e.details)}
            for e in audit.entries(connection)
            if e.action == audit.REFUSED
        ]


def test_ws_security_holds_over_soap12_as_over_soap11(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    service = client(stack, secrets["MARRIAGE_REGISTRY"]).bind("GovHub", "GovHubSoap12")
    anonymous = client(stack, None).bind("GovHub", "GovHubSoap12")

    receipt = service.Submit(header=header(), message=marriage())
    with pytest.raises(Fault) as refused:
        anonymous.Submit(header=header(), message=marriage())

    assert service.GetStatus(receipt.messageId).messageId == receipt.messageId
    assert refused.value.code.endswith(":Sender")
    assert [etree.QName(code).localname for code in refused.value.subcodes] == ["NotAuthenticated"]
