"""A department's secret never reaches the database: a PasswordText Submit or native push is
stored as received less its wsse:Password text, through the running hub (SQLite file)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import requests
from hubstack import HubStack, header, marriage, running_hub
from lxml import etree
from sqlalchemy import select

from hub import xmlparse
from hub.identity import make_number
from hub.security.credentials import CredentialStore, IssuedSecret
from hub.security.encryption import KeyRing, new_key_text
from hub.security.native_client import username_token
from hub.security.wsse import PASSWORD_TEXT, WSSE
from hub.store.models import MessageRow
from mock_departments.people import Person

pytestmark = pytest.mark.slow
KEYS = new_key_text("k1")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    folder = tmp_path_factory.mktemp("scrub")
    settings = {"encryption_keys": KEYS, "allow_password_text_over_http": True}
    with running_hub(folder, authentication="required", **settings) as running:
        yield running


@pytest.fixture(scope="module")
def secret(stack: HubStack) -> IssuedSecret:
    credentials = CredentialStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
    return credentials.issue("MARRIAGE_REGISTRY", actor="admin-wang")


def with_password_text(envelope: bytes, issued: IssuedSecret) -> bytes:
    """The envelope with a PasswordText UsernameToken (Nonce and Created too), in its own
    encoding."""
    root = xmlparse.parse(envelope)
    security = username_token(issued.username, issued.secret)
    password = security.find(f"{{{WSSE}}}UsernameToken/{{{WSSE}}}Password")
    assert password is not None
    password.set("Type", PASSWORD_TEXT)
    password.text = issued.secret
    soap = etree.QName(root).namespace
    found = root.find(f"{{{soap}}}Header")
    if found is None:
        found = etree.Element(f"{{{soap}}}Header")
        root.insert(0, found)
    found.append(security)
    encoding = root.getroottree().docinfo.encoding or "UTF-8"
    return etree.tostring(root, xml_declaration=True, encoding=encoding)


def database_bytes(stack: HubStack) -> bytes:
    """Every byte of the hub's SQLite database: the file, its WAL and any journal."""
    folder = stack.runtime.settings.data_dir
    files = sorted(folder.glob("hub.db*"))
    assert files, f"no database file in {folder}"
    return b"".join(path.read_bytes() for path in files)


def secret_in_database(stack: HubStack, issued: IssuedSecret) -> bool:
    return issued.secret.encode() in database_bytes(stack)


def stored_original(stack: HubStack, message_id: str) -> bytes:
    with stack.runtime.store.engine.connect() as connection:
        original = connection.scalar(select(MessageRow.original).where(MessageRow.id == message_id))
    assert isinstance(original, bytes)
    return original


def test_a_password_text_submit_leaves_no_trace_of_the_secret_in_the_database_file(
    stack: HubStack, secret: IssuedSecret
) -> None:
    client = stack.client()
    envelope = client.create_message(client.service, "Submit", header=header(), message=marriage())
    sent = with_password_text(etree.tostring(envelope, encoding="UTF-8"), secret)
    answer = requests.post(
        stack.soap_url, data=sent, headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    message_id = xmlparse.parse(answer.content).findtext(".//{*}messageId")
    assert message_id and stack.wait_settled(message_id).state == "delivered"

    assert not secret_in_database(stack, secret)
    # Kept as received otherwise, byte for byte: only the Password's text is gone.
    assert stored_original(stack, message_id) == sent.replace(secret.secret.encode(), b"")


def test_a_password_text_native_push_in_gb18030_is_stored_without_the_secret(
    stack: HubStack, secret: IssuedSecret
) -> None:
    registry = stack.mocks.marriage_registry
    # The clerk's own push goes without credentials and is refused; we push the record ourselves.
    stack.mocks.running["MARRIAGE_REGISTRY"].department.pusher.credentials = None
    number = registry.register_marriage(
        Person("Zhang San", make_number("11010519900307", "123")),
        Person("Li Si", make_number("11010519920611", "124")),
        day=date(2024, 5, 20),
        office="110105",
    )
    sent = with_password_text(registry.store.outbox_entry(number).body, secret)
    assert sent.startswith(b"<?xml version='1.0' encoding='GB18030'?>")
    answer = requests.post(
        stack.server.url + "/native/MARRIAGE_REGISTRY",
        data=sent,
        headers={"Content-Type": "text/xml; charset=GB18030"},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text

    assert not secret_in_database(stack, secret)
    stored = stored_original(stack, answer.json()["messageId"])
    assert stored == sent.replace(secret.secret.encode(), b"")
