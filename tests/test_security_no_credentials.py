"""A request with neither a UsernameToken nor a signature is told what would authenticate it:
either one, when the department's credentials accept either. With the verifier and a real
credential store, and through a running hub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import zeep
from hubstack import header, marriage, running_hub
from security_kit import KeyPair, make_key_pair, signed_wire, submit_envelope, write_hub_wsdl

from hub.errors import NotAuthenticated
from hub.security.credentials import CredentialStore
from hub.security.encryption import KeyRing, new_key_text
from hub.security.nonces import MemoryNonceCache
from hub.security.wsse import WsseVerifier
from hub.store import Store

SENDER = "MARRIAGE_REGISTRY"
KEYS = new_key_text("k1")
EITHER = (
    "the request carries neither a wsse:UsernameToken nor a ds:Signature; either would do: "
    "a wsse:UsernameToken or a ds:Signature over the soap:Body, in a wsse:Security header"
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> zeep.Client:
    return zeep.Client(str(write_hub_wsdl(tmp_path_factory.mktemp("wsdl") / "hub.wsdl")))


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("keys"), "registry")


@pytest.fixture
def credentials(tmp_path: Path) -> Iterator[CredentialStore]:
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.upgrade()
    yield CredentialStore(store.engine, keys=KeyRing.parse(KEYS), iterations=1000)
    store.dispose()


def give_both_kinds(credentials: CredentialStore, registry: KeyPair) -> None:
    """A secret under one username, a certificate under another: either authenticates."""
    credentials.issue(SENDER, actor="admin")
    pem = registry.certificate_pem
    credentials.set_certificate(SENDER, pem, username="MARRIAGE_REGISTRY-X509", actor="admin")


def refusal(credentials: CredentialStore, client: zeep.Client) -> str:
    verifier = WsseVerifier(credentials, MemoryNonceCache())
    with pytest.raises(NotAuthenticated) as caught:
        verifier.verify(signed_wire(submit_envelope(client)), SENDER)
    return caught.value.message


def test_a_bare_request_is_told_either_would_do_when_the_department_accepts_either(
    client: zeep.Client, credentials: CredentialStore, registry: KeyPair
) -> None:
    give_both_kinds(credentials, registry)
    assert refusal(credentials, client) == EITHER


def test_a_bare_request_is_told_both_are_needed_when_the_one_credential_holds_both(
    client: zeep.Client, credentials: CredentialStore, registry: KeyPair
) -> None:
    credentials.issue(SENDER, actor="admin")
    credentials.set_certificate(SENDER, registry.certificate_pem, actor="admin")
    assert refusal(credentials, client).endswith(
        "send a wsse:UsernameToken and a ds:Signature over the soap:Body in a wsse:Security header"
    )


@pytest.mark.slow
def test_a_running_hub_tells_a_bare_submit_that_either_would_do(
    tmp_path: Path, registry: KeyPair
) -> None:
    with running_hub(tmp_path, encryption_keys=KEYS) as stack:
        credentials = CredentialStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
        give_both_kinds(credentials, registry)
        with pytest.raises(zeep.exceptions.Fault) as fault:
            stack.client().service.Submit(header=header(), message=marriage())
    assert fault.value.code.endswith("Client.NotAuthenticated")
    assert fault.value.message == EITHER
