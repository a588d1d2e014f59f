"""Encryption key ring, salted secret hashes and stored credentials."""

from __future__ import annotations

from pathlib import Path

import pytest
from security_kit import make_key_pair

from hub.errors import ConfigurationError, DecryptionFailed
from hub.security import secret_hash
from hub.security.credentials import CredentialStore
from hub.security.encryption import KeyRing, new_key_text
from hub.store import Store


def ring(text: str) -> KeyRing:
    parsed = KeyRing.parse(text)
    assert parsed is not None
    return parsed


def test_data_sealed_with_an_old_key_opens_after_rotation_and_reseals_with_the_new() -> None:
    old = new_key_text("2024")
    sealed = ring(old).encrypt(b"payload", context=b"row-1")
    rotated = ring(f"{new_key_text('2025')},{old}")
    assert rotated.decrypt(sealed, context=b"row-1") == b"payload"
    resealed = rotated.reseal(sealed, context=b"row-1")
    assert rotated.key_id_of(resealed) == "2025"


def test_sealed_data_moved_to_another_row_or_without_its_key_does_not_open() -> None:
    keys = ring(new_key_text("k1"))
    sealed = keys.encrypt(b"payload", context=b"row-1")
    with pytest.raises(DecryptionFailed, match="fails its check"):
        keys.decrypt(sealed, context=b"row-2")
    with pytest.raises(DecryptionFailed, match="no encryption key with id 'k1'"):
        ring(new_key_text("k2")).decrypt(sealed)


def test_a_bad_key_setting_is_refused_without_echoing_the_key() -> None:
    with pytest.raises(ConfigurationError) as caught:
        KeyRing.parse("k1=c2hvcnQ=")
    assert "c2hvcnQ" not in str(caught.value)


def test_a_secret_hash_is_salted_and_checks_only_the_right_secret() -> None:
    first, second = secret_hash.hash_secret("s3cret"), secret_hash.hash_secret("s3cret")
    assert first != second
    assert secret_hash.matches("s3cret", first) and not secret_hash.matches("other", first)


def test_the_store_keeps_no_plain_secret_and_no_private_key(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.upgrade()
    credentials = CredentialStore(store.engine, keys=ring(new_key_text("k1")))
    issued = credentials.issue("TAX", actor="ops")
    pair = make_key_pair(tmp_path, "tax")
    with pytest.raises(ConfigurationError, match="private key"):
        credentials.set_certificate("TAX", pair.key_file.read_bytes(), actor="ops")
    credentials.set_certificate("TAX", pair.certificate_pem, actor="ops")
    store.dispose()
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("hub.db*"))
    assert issued.secret.encode() not in raw and b"PRIVATE KEY" not in raw
    assert issued.secret not in repr(issued)
