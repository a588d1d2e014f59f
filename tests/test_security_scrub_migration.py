"""Migration 0006_scrub_credentials: originals stored with a wsse:Password before ingress
removed it lose it, plain or sealed at rest (with the key ring); sealed rows the migration
cannot open are scrubbed by `govhub payloads reseal`. On SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from backends import new_message
from sqlalchemy import insert, select, text

from hub.operations.show import show_message
from hub.security.encryption import KeyRing, new_key_text
from hub.security.payloads import PayloadSealer
from hub.store import NewMessage, Store, accepting, migrate
from hub.store.models import MessageRow
from hub.store.resealing import reseal_payloads

SECRET = "Zq9-the-department-secret-7Yx"
KEYS = KeyRing.parse(new_key_text("k1"))
ENVELOPE = f"""<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">
 <soap:Header><wsse:Security><wsse:UsernameToken>
  <wsse:Username>MARRIAGE_REGISTRY</wsse:Username>
  <wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">{SECRET}</wsse:Password>
 </wsse:UsernameToken></wsse:Security></soap:Header>
 <soap:Body><JieHunDengJi/></soap:Body>
</soap:Envelope>""".encode()


def stored_at_0005(database_url: str, *, sealed: bool) -> NewMessage:
    """A message stored as the hub stored it before 0006: the envelope, password and all."""
    sealer = PayloadSealer(KEYS, encrypt=True) if sealed else PayloadSealer()
    store = Store(database_url, sealer=sealer)
    try:
        migrate.upgrade(store.engine, "0005_configuration")
        message = replace(new_message(), original=ENVELOPE, original_content_type="text/xml")
        with store.engine.begin() as connection:  # as the hub before 0006 wrote it
            row = accepting.message_values(message, datetime.now(UTC), sealer)
            connection.execute(insert(MessageRow), row)
    finally:
        store.dispose()
    return message


def raw_original(store: Store, message: NewMessage) -> bytes:
    with store.engine.connect() as connection:
        found = connection.scalar(
            select(MessageRow.original).where(MessageRow.id == message.message_id)
        )
    assert isinstance(found, bytes)
    return found


def shown_original(store: Store, message: NewMessage) -> str:
    original = show_message(store, message.message_id, reveal=True).original
    assert original is not None
    return original


def revision(store: Store) -> str | None:
    with store.engine.connect() as connection:
        found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if found is None else str(found)


def test_the_migration_empties_stored_passwords_in_plain_and_sealed_originals(
    database_url: str,
) -> None:
    plain = stored_at_0005(database_url, sealed=False)
    sealed = stored_at_0005(database_url, sealed=True)
    store = Store(database_url, sealer=PayloadSealer(KEYS, encrypt=True))
    try:
        store.upgrade()
        assert revision(store) >= "0006_scrub_credentials"
        assert raw_original(store, plain) == ENVELOPE.replace(SECRET.encode(), b"")
        assert raw_original(store, sealed).startswith(b"GHE1")  # still sealed at rest
        for message in (plain, sealed):
            shown = shown_original(store, message)
            assert SECRET not in shown
            assert "<wsse:Username>MARRIAGE_REGISTRY</wsse:Username>" in shown
    finally:
        store.dispose()


def test_sealed_originals_the_migration_cannot_open_are_scrubbed_by_payloads_reseal(
    database_url: str,
) -> None:
    sealed = stored_at_0005(database_url, sealed=True)
    without_keys = Store(database_url)
    try:
        without_keys.upgrade()
        assert revision(without_keys) >= "0006_scrub_credentials"
    finally:
        without_keys.dispose()
    store = Store(database_url, sealer=PayloadSealer(KEYS, encrypt=True))
    try:
        assert SECRET in shown_original(store, sealed)  # not opened, so not scrubbed
        assert reseal_payloads(store, actor="ops-li").messages == 1
        assert SECRET not in shown_original(store, sealed)
        assert raw_original(store, sealed).startswith(b"GHE1")
    finally:
        store.dispose()
