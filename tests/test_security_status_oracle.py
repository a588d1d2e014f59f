"""No existence oracle: GetStatus answers a message the caller may not see exactly as one that
does not exist, and a Submit reusing a message id is refused alike whoever's message holds
it; the refusals are still audited with their real reason. Through the running hub and zeep."""

from __future__ import annotations

import json
import uuid
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
    with running_hub(tmp_path_factory.mktemp("oracle"), encryption_keys=KEYS) as running:
        yield running


@pytest.fixture(scope="module")
def secrets(stack: HubStack) -> dict[str, IssuedSecret]:
    credentials = CredentialStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
    return {code: credentials.issue(code, actor="admin-wang") for code in CODES}


def client(stack: HubStack, issued: IssuedSecret | None) -> zeep.Client:
    if issued is None:
        return zeep.Client(f"{stack.soap_url}?wsdl")
    token = UsernameToken(issued.username, issued.secret, use_digest=True)
    return zeep.Client(f"{stack.soap_url}?wsdl", wsse=token)


@pytest.fixture(scope="module")
def marriage_id(stack: HubStack, secrets: dict[str, IssuedSecret]) -> str:
    """MarriageRegistered: MARRIAGE_REGISTRY to SOCIAL_SECURITY and TAX."""
    hub = client(stack, secrets["MARRIAGE_REGISTRY"])
    return str(hub.service.Submit(header=header(), message=marriage()).messageId)


@pytest.fixture(scope="module")
def enrollment_id(stack: HubStack, secrets: dict[str, IssuedSecret]) -> str:
    """InsuredPersonEnrolled: SOCIAL_SECURITY to TAX only; MARRIAGE_REGISTRY is no party."""
    issued = secrets["SOCIAL_SECURITY"]
    department = stack.mocks.social_security
    department.pusher.credentials = PushCredentials(issued.username, issued.secret)
    number = department.enroll(
        Person("Zhang San", make_number("11010519900307", "123")),
        scheme="110",
        employer_credit_code="91110105MA01ABCD2X",
        day=date(2024, 6, 1),
        region="110105",
    )
    found = stack.runtime.store.find_message_id("SOCIAL_SECURITY", number)
    assert found is not None
    return found


def answer(call: object, message_id: str) -> tuple[str, str, object]:
    """The fault a call raises, with the message id it was asked about taken out."""
    with pytest.raises(Fault) as refused:
        call(message_id)  # type: ignore[operator]
    fault = refused.value
    detail = etree.tostring(fault.detail, encoding="unicode").replace(message_id, "ID")
    return fault.code, fault.message.replace(message_id, "ID"), detail


def refusals(stack: HubStack) -> list[dict[str, str]]:
    with stack.runtime.store.engine.connect() as connection:
        return [
            {"actor": e.actor, "subject": e.subject, **json.loads(e.details)}
            for e in audit.entries(connection)
            if e.action == audit.REFUSED
        ]


def test_a_message_a_department_may_not_see_is_answered_as_one_that_does_not_exist(
    stack: HubStack, secrets: dict[str, IssuedSecret], enrollment_id: str
) -> None:
    get_status = client(stack, secrets["MARRIAGE_REGISTRY"]).service.GetStatus

    not_theirs = answer(get_status, enrollment_id)
    unknown = answer(get_status, str(uuid.uuid4()))

    assert not_theirs == unknown
    assert not_theirs[0].endswith("Client.NotFound")
    last = refusals(stack)[-1]  # only the admins learn why
    assert last["subject"] == f"GetStatus:{enrollment_id}"
    assert (last["actor"], last["code"]) == ("MARRIAGE_REGISTRY", "Client.NotAuthorized")


def test_an_anonymous_caller_learns_nothing_about_which_ids_exist(
    stack: HubStack, secrets: dict[str, IssuedSecret], marriage_id: str
) -> None:
    get_status = client(stack, None).service.GetStatus

    existing = answer(get_status, marriage_id)
    unknown = answer(get_status, str(uuid.uuid4()))

    assert existing == unknown
    assert existing[0].endswith("Client.NotFound")
    last = refusals(stack)[-1]
    assert (last["subject"], last["code"]) == (
        f"GetStatus:{marriage_id}",
        "Client.NotAuthenticated",
    )


def test_the_sender_and_a_receiver_still_see_the_message(
    stack: HubStack, secrets: dict[str, IssuedSecret], enrollment_id: str
) -> None:
    for code in ("SOCIAL_SECURITY", "TAX"):
        status = client(stack, secrets[code]).service.GetStatus(enrollment_id)
        assert status.messageId == enrollment_id


def test_a_submit_reusing_a_message_id_is_refused_alike_whoever_holds_it(
    stack: HubStack, secrets: dict[str, IssuedSecret], marriage_id: str, enrollment_id: str
) -> None:
    hub = client(stack, secrets["MARRIAGE_REGISTRY"])

    def submit(message_id: str) -> None:
        hub.service.Submit(header=header(messageId=message_id), message=marriage())

    own = answer(submit, marriage_id)  # its own message, under a new key
    others = answer(submit, enrollment_id)  # SOCIAL_SECURITY's message

    assert own == others
    assert own[0].endswith("Client.MessageIdTaken")
    assert "SOCIAL_SECURITY" not in others[1]
    last = refusals(stack)[-1]
    assert (last["actor"], last["code"]) == ("MARRIAGE_REGISTRY", "Client.MessageIdTaken")
