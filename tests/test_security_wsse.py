"""WS-Security: requests built and signed by zeep for the hub's own WSDL, parsed with the hub's
hardened parser, checked against credentials in a real database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import zeep
from lxml import etree
from security_kit import (
    SHA256,
    KeyPair,
    PasswordTextToken,
    make_key_pair,
    signed_wire,
    submit_envelope,
    write_hub_wsdl,
)
from zeep.wsse.signature import BinarySignature, Signature
from zeep.wsse.username import UsernameToken

from hub import xmlparse
from hub.errors import NotAuthenticated
from hub.security.credentials import CredentialStore, IssuedSecret
from hub.security.encryption import KeyRing, new_key_text
from hub.security.nonces import DatabaseNonceCache, MemoryNonceCache
from hub.security.wsse import Authenticated, WsseVerifier
from hub.store import Store

SENDER = "MARRIAGE_REGISTRY"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> zeep.Client:
    return zeep.Client(str(write_hub_wsdl(tmp_path_factory.mktemp("wsdl") / "hub.wsdl")))


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KeyPair]:
    folder = tmp_path_factory.mktemp("keys")
    return {name: make_key_pair(folder, name) for name in ("registry", "intruder")}


@pytest.fixture
def credentials(tmp_path: Path) -> Iterator[CredentialStore]:
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.upgrade()
    yield CredentialStore(store.engine, keys=KeyRing.parse(new_key_text("k1")), iterations=1000)
    store.dispose()


@pytest.fixture
def verifier(credentials: CredentialStore) -> WsseVerifier:
    return WsseVerifier(credentials, MemoryNonceCache())


@pytest.fixture
def issued(credentials: CredentialStore) -> IssuedSecret:
    return credentials.issue(SENDER, actor="admin")


def digest_token(issued: IssuedSecret, **options: object) -> UsernameToken:
    return UsernameToken(issued.username, issued.secret, use_digest=True, **options)


def refused(verifier: WsseVerifier, envelope: etree._Element, sender: str = SENDER) -> str:
    with pytest.raises(NotAuthenticated) as caught:
        verifier.verify(envelope, sender)
    assert caught.value.code == "Client.NotAuthenticated"
    return caught.value.message


# --- UsernameToken ---------------------------------------------------------------------------


def test_a_zeep_password_digest_token_authenticates_the_sender(
    client: zeep.Client, verifier: WsseVerifier, issued: IssuedSecret
) -> None:
    envelope = signed_wire(submit_envelope(client), digest_token(issued))
    assert verifier.verify(envelope, SENDER) == Authenticated(SENDER, SENDER, "digest", False)


def test_a_replayed_nonce_is_refused(
    client: zeep.Client, verifier: WsseVerifier, issued: IssuedSecret
) -> None:
    wire = etree.tostring(signed_wire(submit_envelope(client), digest_token(issued)))
    verifier.verify(xmlparse.parse(wire), SENDER)
    assert "replayed nonce" in refused(verifier, xmlparse.parse(wire))


def test_a_wrong_password_digest_is_refused_without_showing_the_secret(
    client: zeep.Client, verifier: WsseVerifier, issued: IssuedSecret
) -> None:
    token = UsernameToken(issued.username, "guessed", use_digest=True)
    message = refused(verifier, signed_wire(submit_envelope(client), token))
    assert "wrong password digest" in message and issued.secret not in message


def test_an_unknown_user_is_refused(
    client: zeep.Client, verifier: WsseVerifier, issued: IssuedSecret
) -> None:
    token = UsernameToken("NOBODY", issued.secret, use_digest=True)
    assert "unknown or revoked user NOBODY" in refused(
        verifier, signed_wire(submit_envelope(client), token)
    )


@pytest.mark.parametrize("minutes", [-10, 10])
def test_a_token_created_too_long_ago_or_in_the_future_is_stale(
    client: zeep.Client, verifier: WsseVerifier, issued: IssuedSecret, minutes: int
) -> None:
    created = datetime.now(UTC) + timedelta(minutes=minutes)
    envelope = signed_wire(submit_envelope(client), digest_token(issued, created=created))
    assert "stale timestamp" in refused(verifier, envelope)


def test_a_request_without_a_token_is_refused_when_the_department_has_a_secret(
    client: zeep.Client, verifier: WsseVerifier, issued: IssuedSecret
) -> None:
    message = refused(verifier, signed_wire(submit_envelope(client)))
    assert "send a wsse:UsernameToken in a wsse:Security header" in message


def test_a_user_may_not_speak_for_another_department(
    client: zeep.Client, verifier: WsseVerifier, credentials: CredentialStore
) -> None:
    tax = credentials.issue("TAX", actor="admin")
    credentials.issue(SENDER, actor="admin")
    envelope = signed_wire(submit_envelope(client), digest_token(tax))
    assert "user TAX may not act for department MARRIAGE_REGISTRY" in refused(verifier, envelope)


def test_password_text_is_checked_against_the_salted_hash(
    client: zeep.Client, credentials: CredentialStore, issued: IssuedSecret
) -> None:
    verifier = WsseVerifier(credentials, MemoryNonceCache(), password_text_over_http=True)
    envelope = signed_wire(submit_envelope(client), PasswordTextToken(SENDER, issued.secret))
    assert verifier.verify(envelope, SENDER) == Authenticated(SENDER, SENDER, "text", False)


def test_a_rotated_secret_replaces_the_old_one_at_once(
    client: zeep.Client,
    verifier: WsseVerifier,
    credentials: CredentialStore,
    issued: IssuedSecret,
) -> None:
    rotated = credentials.rotate(SENDER, actor="admin")
    old = signed_wire(submit_envelope(client), digest_token(issued))
    assert "wrong password digest" in refused(verifier, old)
    new = signed_wire(submit_envelope(client), digest_token(rotated))
    assert verifier.verify(new, SENDER) is not None


def test_a_revoked_user_is_refused(
    client: zeep.Client,
    verifier: WsseVerifier,
    credentials: CredentialStore,
    issued: IssuedSecret,
) -> None:
    credentials.issue(SENDER, username="REGISTRY-2", actor="admin")
    credentials.revoke(SENDER, actor="admin")
    envelope = signed_wire(submit_envelope(client), digest_token(issued))
    assert "unknown or revoked user" in refused(verifier, envelope)


def test_a_department_without_credentials_passes_unless_authentication_is_required(
    client: zeep.Client, credentials: CredentialStore
) -> None:
    envelope = signed_wire(submit_envelope(client))
    assert WsseVerifier(credentials, MemoryNonceCache()).verify(envelope, SENDER) is None
    strict = WsseVerifier(credentials, MemoryNonceCache(), authentication="required")
    assert "has no active credentials" in refused(strict, envelope)


def test_api_processes_sharing_a_database_share_their_nonces(
    client: zeep.Client, database_url: str
) -> None:
    first, second = Store(database_url), Store(database_url)
    first.upgrade()
    try:
        ring = KeyRing.parse(new_key_text("k1"))
        issued = CredentialStore(first.engine, keys=ring).issue(SENDER, actor="admin")
        wire = etree.tostring(signed_wire(submit_envelope(client), digest_token(issued)))
        verifiers = [
            WsseVerifier(CredentialStore(s.engine, keys=ring), DatabaseNonceCache(s.engine))
            for s in (first, second)
        ]
        verifiers[0].verify(xmlparse.parse(wire), SENDER)
        assert "replayed nonce" in refused(verifiers[1], xmlparse.parse(wire))
    finally:
        first.dispose()
        second.dispose()


# --- X.509 signatures ------------------------------------------------------------------------


@pytest.fixture
def certified(credentials: CredentialStore, keys: dict[str, KeyPair]) -> None:
    credentials.set_certificate(SENDER, keys["registry"].certificate_pem, actor="admin")


@pytest.mark.parametrize("plugin", [Signature, BinarySignature])
def test_a_body_signed_by_zeep_with_the_registered_certificate_authenticates(
    client: zeep.Client,
    verifier: WsseVerifier,
    keys: dict[str, KeyPair],
    certified: None,
    plugin: type[Signature],
) -> None:
    pair = keys["registry"]
    envelope = signed_wire(
        submit_envelope(client), plugin(str(pair.key_file), str(pair.cert_file), **SHA256)
    )
    assert verifier.verify(envelope, SENDER) == Authenticated(SENDER, SENDER, None, True)


def test_a_body_changed_after_signing_is_a_bad_signature(
    client: zeep.Client, verifier: WsseVerifier, keys: dict[str, KeyPair], certified: None
) -> None:
    pair = keys["registry"]
    envelope = signed_wire(
        submit_envelope(client), Signature(str(pair.key_file), str(pair.cert_file), **SHA256)
    )
    wire = etree.tostring(envelope, encoding="UTF-8").replace("张伟".encode(), "李伟".encode())
    assert "李伟".encode() in wire
    assert "bad signature" in refused(verifier, xmlparse.parse(wire))


def test_a_signature_by_another_key_is_refused_even_with_its_own_certificate_inside(
    client: zeep.Client, verifier: WsseVerifier, keys: dict[str, KeyPair], certified: None
) -> None:
    pair = keys["intruder"]
    plugin = BinarySignature(str(pair.key_file), str(pair.cert_file), **SHA256)
    assert "bad signature" in refused(verifier, signed_wire(submit_envelope(client), plugin))


def test_an_unsigned_request_is_refused_when_a_certificate_is_registered(
    client: zeep.Client, verifier: WsseVerifier, certified: None
) -> None:
    message = refused(verifier, signed_wire(submit_envelope(client)))
    assert "send a ds:Signature over the soap:Body in a wsse:Security header" in message


def test_a_second_body_smuggled_beside_the_signed_one_is_refused(
    client: zeep.Client, verifier: WsseVerifier, keys: dict[str, KeyPair], certified: None
) -> None:
    pair = keys["registry"]
    envelope = signed_wire(
        submit_envelope(client), Signature(str(pair.key_file), str(pair.cert_file), **SHA256)
    )
    body = envelope[-1]
    envelope.insert(1, etree.fromstring(etree.tostring(body)))
    assert "exactly one soap:Body" in refused(verifier, envelope)


def test_a_token_and_a_signature_together_both_count(
    client: zeep.Client,
    verifier: WsseVerifier,
    keys: dict[str, KeyPair],
    issued: IssuedSecret,
    certified: None,
) -> None:
    pair = keys["registry"]
    plugins = [digest_token(issued), Signature(str(pair.key_file), str(pair.cert_file), **SHA256)]
    envelope = signed_wire(submit_envelope(client), *plugins)
    assert verifier.verify(envelope, SENDER) == Authenticated(SENDER, SENDER, "digest", True)
    unsigned = signed_wire(submit_envelope(client), digest_token(issued))
    assert "not signed" in refused(verifier, unsigned)
