"""WS-Security through the running hub, as a department uses it with zeep's own wsse helpers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import zeep
from hubstack import HubStack, header, marriage, running_hub
from lxml import etree
from zeep.wsse.username import UsernameToken

from hub.security import audit
from hub.security.credentials import CredentialStore, IssuedSecret
from hub.security.encryption import KeyRing, new_key_text

pytestmark = pytest.mark.slow
KEYS = new_key_text("k1")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    folder = tmp_path_factory.mktemp("wsse")
    with running_hub(folder, encryption_keys=KEYS, authentication="required") as running:
        yield running


@pytest.fixture(scope="module")
def registry_secret(stack: HubStack) -> IssuedSecret:
    credentials = CredentialStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
    return credentials.issue("MARRIAGE_REGISTRY", actor="admin-wang")


@pytest.fixture(scope="module")
def social_security_secret(stack: HubStack) -> IssuedSecret:
    credentials = CredentialStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
    return credentials.issue("SOCIAL_SECURITY", actor="admin-wang")


def client(stack: HubStack, username: str, secret: str) -> zeep.Client:
    token = UsernameToken(username, secret, use_digest=True)
    return zeep.Client(f"{stack.soap_url}?wsdl", wsse=token)


def refusals(stack: HubStack) -> list[dict[str, str]]:
    with stack.runtime.store.engine.connect() as connection:
        return [
            {"actor": e.actor, **json.loads(e.details)}
            for e in audit.entries(connection)
            if e.action == audit.REFUSED
        ]


def test_a_department_with_a_digest_token_from_zeep_is_accepted(
    stack: HubStack, registry_secret: IssuedSecret
) -> None:
    hub = client(stack, registry_secret.username, registry_secret.secret)

    receipt = hub.service.Submit(header=header(), message=marriage())

    assert receipt.state == "accepted"


def test_a_request_without_a_token_is_refused_and_the_refusal_audited(
    stack: HubStack, registry_secret: IssuedSecret
) -> None:
    with pytest.raises(zeep.exceptions.Fault) as fault:
        stack.client().service.Submit(header=header(), message=marriage())

    assert fault.value.code.endswith("Client.NotAuthenticated")
    assert any(
        r["actor"] == "MARRIAGE_REGISTRY" and r["code"] == "Client.NotAuthenticated"
        for r in refusals(stack)
    )


def test_a_wrong_password_is_refused(stack: HubStack, registry_secret: IssuedSecret) -> None:
    hub = client(stack, registry_secret.username, registry_secret.secret + "x")

    with pytest.raises(zeep.exceptions.Fault) as fault:
        hub.service.Submit(header=header(), message=marriage())

    assert fault.value.code.endswith("Client.NotAuthenticated")


def test_a_replayed_request_with_the_same_nonce_is_refused(
    stack: HubStack, registry_secret: IssuedSecret
) -> None:
    hub = client(stack, registry_secret.username, registry_secret.secret)
    envelope = hub.create_message(hub.service, "Submit", header=header(), message=marriage())
    envelope, _ = hub.wsse.apply(envelope, {})
    body = etree.tostring(envelope)
    headers = {"Content-Type": "text/xml; charset=utf-8"}

    first = requests.post(stack.soap_url, data=body, headers=headers)
    again = requests.post(stack.soap_url, data=body, headers=headers)

    assert b"messageId" in first.content
    assert b"Client.NotAuthenticated" in again.content and b"nonce" in again.content.lower()


def test_an_authenticated_department_may_still_not_send_what_its_route_does_not_allow(
    stack: HubStack, social_security_secret: IssuedSecret
) -> None:
    hub = client(stack, social_security_secret.username, social_security_secret.secret)

    with pytest.raises(zeep.exceptions.Fault) as fault:
        hub.service.Submit(header=header(sender="SOCIAL_SECURITY"), message=marriage())

    assert fault.value.code.endswith("Client.NotAuthorized")
    assert "SOCIAL_SECURITY may not send MarriageRegistered" in fault.value.message


def test_a_token_of_one_department_cannot_speak_for_another(
    stack: HubStack, social_security_secret: IssuedSecret
) -> None:
    hub = client(stack, social_security_secret.username, social_security_secret.secret)

    with pytest.raises(zeep.exceptions.Fault) as fault:
        hub.service.Submit(header=header(sender="MARRIAGE_REGISTRY"), message=marriage())

    assert fault.value.code.endswith("Client.NotAuthenticated")


def test_revoking_a_departments_last_credential_locks_it_out_instead_of_opening_it_up(
    tmp_path: Path,
) -> None:
    with running_hub(tmp_path, encryption_keys=KEYS) as open_stack:  # "registered" mode
        credentials = CredentialStore(open_stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
        accepted_before = open_stack.client().service.Submit(header=header(), message=marriage())
        issued = credentials.issue("MARRIAGE_REGISTRY", actor="admin-wang")
        credentials.revoke(issued.username, actor="admin-wang")

        with pytest.raises(zeep.exceptions.Fault) as fault:
            open_stack.client().service.Submit(header=header(), message=marriage())

    assert accepted_before.state == "accepted"  # no credentials yet: "registered" lets it in
    assert fault.value.code.endswith("Client.NotAuthenticated")
