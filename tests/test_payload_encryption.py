"""Stored bodies sealed at rest (GOVHUB_ENCRYPT_PAYLOADS): the database rows hold no identity
number in plain text, yet delivery, `messages show`, replay and key rotation work, and plain
rows written before still read. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from backends import IDENTITY_NUMBER, new_message
from hubstack import HUSBAND_ID, WIFE_ID, header, marriage, running_hub
from sqlalchemy import select

from hub.config import Settings
from hub.errors import ConfigurationError, DecryptionFailed
from hub.operations.replay import ReplayRequest, replay
from hub.operations.show import show_message
from hub.security.encryption import KeyRing, new_key_text
from hub.security.payloads import PayloadSealer, payload_sealer
from hub.store import Store
from hub.store.models import DeliveryRow, MessageRow
from hub.store.resealing import reseal_payloads

K1, K2 = new_key_text("k1"), new_key_text("k2")


def stored_bodies(store: Store) -> list[bytes]:
    with store.engine.connect() as connection:
        messages = connection.execute(select(MessageRow.original, MessageRow.canonical)).all()
        payloads = connection.execute(select(DeliveryRow.payload)).scalars().all()
    return [body for row in messages for body in row] + [p for p in payloads if p]


@pytest.mark.slow
def test_sealed_bodies_hide_identity_numbers_yet_delivery_show_and_replay_work(
    tmp_path: Path, database_url: str
) -> None:
    with running_hub(
        tmp_path, database_url=database_url, encryption_keys=K1, encrypt_payloads=True
    ) as stack:
        stack.mocks.tax.faults.apply({"fail_next": 1, "permanent": True})
        receipt = stack.client().service.Submit(header=header(), message=marriage())
        store = stack.runtime.store
        assert stack.wait_settled(receipt.messageId).state == "failed"  # TAX refused once

        bodies = stored_bodies(store)
        assert len(bodies) == 4  # original, canonical, two translated payloads
        assert all(body.startswith(b"GHE1") for body in bodies)
        assert not any(
            number.encode() in body for body in bodies for number in (HUSBAND_ID, WIFE_ID)
        )

        shown = show_message(store, receipt.messageId, reveal=True)
        assert shown.original is not None and HUSBAND_ID in shown.original
        assert shown.canonical is not None and HUSBAND_ID in shown.canonical
        assert all(leg.payload and HUSBAND_ID in leg.payload for leg in shown.legs)

        request = ReplayRequest(
            actor="ops-li", reason="TAX is back", message_ids=(receipt.messageId,)
        )
        replay(store, {"SOCIAL_SECURITY", "TAX"}, request)
        assert stack.wait_settled(receipt.messageId).state == "delivered"
        assert stack.mocks.tax.store.count() == 1


def test_plain_rows_written_before_encryption_still_read_and_reseal_seals_them(
    database_url: str,
) -> None:
    plain = Store(database_url)
    plain.upgrade()
    message = new_message()
    receipt = plain.save_accepted(message, ["TAX"], 30)
    plain.dispose()

    store = Store(database_url, sealer=PayloadSealer(KeyRing.parse(K1), encrypt=True))
    try:
        assert IDENTITY_NUMBER in (
            show_message(store, message.message_id, reveal=True).canonical or ""
        )
        assert reseal_payloads(store, actor="ops-li").messages == 1
        assert all(body.startswith(b"GHE1") for body in stored_bodies(store))
        assert reseal_payloads(store, actor="ops-li").messages == 0  # already current
        claimed = store.claim(receipt.deliveries[0].delivery_id, 30)
        assert claimed is not None and claimed.canonical == message.canonical
    finally:
        store.dispose()


def test_rotation_reseals_under_the_new_key_and_the_old_key_can_then_go(
    database_url: str,
) -> None:
    first = Store(database_url, sealer=PayloadSealer(KeyRing.parse(K1), encrypt=True))
    first.upgrade()
    message = new_message()
    first.save_accepted(message, ["TAX"], 30)
    first.dispose()

    rotated = Store(database_url, sealer=PayloadSealer(KeyRing.parse(f"{K2},{K1}"), encrypt=True))
    try:
        reseal_payloads(rotated, actor="ops-li")
    finally:
        rotated.dispose()
    only_new = Store(database_url, sealer=PayloadSealer(KeyRing.parse(K2), encrypt=True))
    try:
        detail = show_message(only_new, message.message_id, reveal=True)
        assert IDENTITY_NUMBER in (detail.canonical or "")
    finally:
        only_new.dispose()


def test_a_sealed_body_without_its_key_is_an_error_not_garbage(database_url: str) -> None:
    sealed = Store(database_url, sealer=PayloadSealer(KeyRing.parse(K1), encrypt=True))
    sealed.upgrade()
    message = new_message()
    sealed.save_accepted(message, ["TAX"], 30)
    sealed.dispose()
    keyless = Store(database_url)
    try:
        with pytest.raises(DecryptionFailed):
            show_message(keyless, message.message_id)
    finally:
        keyless.dispose()


def test_encrypting_payloads_without_keys_is_refused_at_start() -> None:
    with pytest.raises(ConfigurationError, match="GOVHUB_ENCRYPTION_KEYS"):
        payload_sealer(Settings(encrypt_payloads=True))


def test_the_setting_is_read_from_the_environment_as_a_boolean() -> None:
    assert Settings.from_env({"GOVHUB_ENCRYPT_PAYLOADS": "true"}).encrypt_payloads is True
    assert Settings.from_env({"GOVHUB_ENCRYPT_PAYLOADS": "0"}).encrypt_payloads is False
    with pytest.raises(ValueError, match="true or false"):
        Settings.from_env({"GOVHUB_ENCRYPT_PAYLOADS": "ture"})
