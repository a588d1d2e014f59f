"""PasswordText carries the secret itself: refused over plain HTTP unless a setting allows it,
and, like a digest token, it must carry a Nonce and a Created, fresh, and is accepted once.
Checked with the verifier, and through a running hub over plain HTTP (waitress) and over the
hub's own TLS (cheroot)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import zeep
from hubstack import header, marriage
from lxml import etree
from security_kit import PasswordTextToken, signed_wire, submit_envelope, write_hub_wsdl
from test_mtls import CertificateAuthority
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from hub import xmlparse
from hub.config import Settings
from hub.errors import NotAuthenticated
from hub.runtime import HubRuntime
from hub.security import audit
from hub.security.credentials import CredentialStore, IssuedSecret
from hub.security.encryption import KeyRing, new_key_text
from hub.security.nonces import MemoryNonceCache
from hub.security.tls import TlsFiles
from hub.security.wsse import Authenticated, WsseVerifier
from hub.store import Store
from hub.webserver import BackgroundServer, Server, make_server

SENDER = "MARRIAGE_REGISTRY"
ONLY_OVER_TLS = "PasswordText is accepted only over the hub's TLS"


@pytest.fixture(scope="module")
def wsdl_client(tmp_path_factory: pytest.TempPathFactory) -> zeep.Client:
    return zeep.Client(str(write_hub_wsdl(tmp_path_factory.mktemp("wsdl") / "hub.wsdl")))


@pytest.fixture
def credentials(tmp_path: Path) -> Iterator[CredentialStore]:
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.upgrade()
    yield CredentialStore(store.engine, keys=KeyRing.parse(new_key_text("k1")), iterations=1000)
    store.dispose()


@pytest.fixture
def issued(credentials: CredentialStore) -> IssuedSecret:
    return credentials.issue(SENDER, actor="admin")


def refusal(verifier: WsseVerifier, envelope: etree._Element) -> str:
    with pytest.raises(NotAuthenticated) as caught:
        verifier.verify(envelope, SENDER)
    return caught.value.message


def with_body_of(source: etree._Element, other: etree._Element) -> etree._Element:
    """``source`` (its wsse:Security header, its token) with ``other``'s soap:Body."""
    envelope = copy.deepcopy(source)
    body = envelope.find("{*}Body")
    assert body is not None
    envelope.replace(body, copy.deepcopy(other.find("{*}Body")))
    return xmlparse.parse(etree.tostring(envelope))


# --- the verifier --------------------------------------------------------------------------


def test_one_password_text_token_is_accepted_once_whatever_the_body(
    wsdl_client: zeep.Client, credentials: CredentialStore, issued: IssuedSecret
) -> None:
    verifier = WsseVerifier(credentials, MemoryNonceCache(), password_text_over_http=True)
    first = signed_wire(submit_envelope(wsdl_client), PasswordTextToken(SENDER, issued.secret))
    assert verifier.verify(first, SENDER) == Authenticated(SENDER, SENDER, "text", False)
    for _ in range(2):
        again = with_body_of(first, signed_wire(submit_envelope(wsdl_client)))
        assert etree.tostring(again) != etree.tostring(first)
        assert "replayed nonce from user MARRIAGE_REGISTRY" in refusal(verifier, again)


def test_a_password_text_token_without_nonce_and_created_is_refused(
    wsdl_client: zeep.Client, credentials: CredentialStore, issued: IssuedSecret
) -> None:
    verifier = WsseVerifier(credentials, MemoryNonceCache(), password_text_over_http=True)
    bare = signed_wire(submit_envelope(wsdl_client), UsernameToken(SENDER, issued.secret))
    assert "PasswordText needs a wsse:Nonce and a wsu:Created" in refusal(verifier, bare)


def test_a_stale_password_text_token_is_refused(
    wsdl_client: zeep.Client, credentials: CredentialStore, issued: IssuedSecret
) -> None:
    verifier = WsseVerifier(credentials, MemoryNonceCache(), password_text_over_http=True)
    created = datetime.now(UTC) - timedelta(minutes=10)
    token = PasswordTextToken(SENDER, issued.secret, created=created)
    envelope = signed_wire(submit_envelope(wsdl_client), token)
    assert "stale timestamp" in refusal(verifier, envelope)


def test_the_setting_is_read_from_the_environment() -> None:
    assert Settings().allow_password_text_over_http is False
    environ = {"GOVHUB_ALLOW_PASSWORD_TEXT_OVER_HTTP": "true"}
    assert Settings.from_env(environ).allow_password_text_over_http is True


# --- through a running hub -----------------------------------------------------------------


def running(runtime: HubRuntime, server: Server) -> Iterator[tuple[HubRuntime, Server]]:
    runtime.store.upgrade()
    server.start()
    try:
        yield runtime, server
    finally:
        server.stop()
        runtime.close()


@pytest.fixture
def plain_hub(tmp_path: Path) -> Iterator[tuple[HubRuntime, Server]]:
    runtime = HubRuntime(Settings(data_dir=tmp_path / "hub", encryption_keys=new_key_text("k1")))
    yield from running(runtime, BackgroundServer(runtime.wsgi_app(), "127.0.0.1", 0))


@pytest.fixture
def tls_hub(tmp_path: Path) -> Iterator[tuple[HubRuntime, Server]]:
    served = CertificateAuthority(tmp_path, "server-ca").issue("hub", server=True)
    settings = Settings(
        data_dir=tmp_path / "hub",
        encryption_keys=new_key_text("k1"),
        tls_cert_file=str(served.cert_file),
        tls_key_file=str(served.key_file),
    )
    runtime = HubRuntime(settings)
    files = TlsFiles.from_settings(settings)
    yield from running(runtime, make_server(runtime.wsgi_app(), "127.0.0.1", 0, files))


def issue(runtime: HubRuntime) -> IssuedSecret:
    keys = KeyRing.parse(runtime.settings.encryption_keys)
    return CredentialStore(runtime.store.engine, keys=keys).issue(SENDER, actor="admin")


def refusals(runtime: HubRuntime) -> list[dict[str, str]]:
    with runtime.store.engine.connect() as connection:
        entries = audit.entries(connection)
        return [json.loads(e.details) for e in entries if e.action == audit.REFUSED]


def test_password_text_over_plain_http_is_refused_and_the_refusal_audited(
    plain_hub: tuple[HubRuntime, Server],
) -> None:
    runtime, server = plain_hub
    issued = issue(runtime)
    hub = zeep.Client(f"{server.url}/soap?wsdl", wsse=PasswordTextToken(SENDER, issued.secret))
    with pytest.raises(zeep.exceptions.Fault) as fault:
        hub.service.Submit(header=header(), message=marriage())
    assert fault.value.code.endswith("Client.NotAuthenticated")
    assert ONLY_OVER_TLS in fault.value.message and "PasswordDigest" in fault.value.message
    assert refusals(runtime)[-1]["reason"].startswith(ONLY_OVER_TLS)


def test_password_text_over_the_hubs_tls_is_accepted_once(
    tls_hub: tuple[HubRuntime, Server], tmp_path: Path
) -> None:
    runtime, server = tls_hub
    issued = issue(runtime)
    session = requests.Session()
    session.trust_env = False
    session.verify = str(tmp_path / "server-ca.pem")
    hub = zeep.Client(
        f"{server.url}/soap?wsdl",
        transport=Transport(session=session),
        wsse=PasswordTextToken(SENDER, issued.secret),
    )
    envelope = hub.create_message(hub.service, "Submit", header=header(), message=marriage())
    envelope, _ = hub.wsse.apply(envelope, {})
    wire, content = etree.tostring(envelope), {"Content-Type": "text/xml; charset=utf-8"}

    first = session.post(f"{server.url}/soap", data=wire, headers=content, timeout=10)
    again = session.post(f"{server.url}/soap", data=wire, headers=content, timeout=10)

    assert first.status_code == 200 and b"accepted" in first.content, first.text
    assert b"Client.NotAuthenticated" in again.content and b"replayed nonce" in again.content
