"""The identity index keeps keyed hashes (HMAC under a key from the key ring, or the hub's
own key without one), is rehashed after a key rotation, and migration 0007 leaves no plain
SHA-256 behind."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace

import pytest
from backends import IDENTITY_NUMBER, PARTY_B_NUMBER, canonical_xml, new_message
from click.testing import CliRunner
from sqlalchemy import insert, select, update

from hub.cli import main
from hub.identity import make_number
from hub.operations.queries import list_messages
from hub.operations.trace import trace
from hub.operations.views import MessageFilter
from hub.security import audit
from hub.security.encryption import KeyRing, new_key_text
from hub.security.payloads import PayloadSealer
from hub.store import Store, accepting, migrate
from hub.store.models import MessageIdentityRow, MessageRow

RECEIVERS = ("TAX",)
OLD_KEY, NEW_KEY = new_key_text("2025"), new_key_text("2026")
OTHER_PERSON = make_number("11010519851224", "042")


def keyed_store(url: str, keys: str, *, encrypt: bool = False) -> Store:
    return Store(url, sealer=PayloadSealer(KeyRing.parse(keys), encrypt))


def stored_hashes(store: Store) -> set[tuple[str, str]]:
    with store.engine.connect() as connection:
        query = select(MessageIdentityRow.identity_sha256, MessageIdentityRow.key_id)
        return {(row.identity_sha256, row.key_id) for row in connection.execute(query)}


def plain_sha256(number: str) -> str:
    return hashlib.sha256(number.encode("ascii")).hexdigest()


def found_by_person(store: Store, number: str = IDENTITY_NUMBER) -> list[str]:
    return [m.message_id for m in list_messages(store, MessageFilter(person=number))]


@pytest.fixture
def url(database_url: str) -> str:
    store = Store(database_url)
    store.upgrade()
    store.dispose()
    return database_url


def test_the_index_holds_no_plain_sha256_of_a_number_even_without_a_key_ring(
    store: Store,
) -> None:
    store.save_accepted(new_message(), RECEIVERS, lease_seconds=30)

    with store.engine.connect() as connection:
        hashes = set(connection.scalars(select(MessageIdentityRow.identity_sha256)))

    assert len(hashes) == 2  # both parties of the marriage
    assert not hashes & {plain_sha256(IDENTITY_NUMBER), plain_sha256(PARTY_B_NUMBER)}
    assert found_by_person(store) != []


def test_without_a_key_ring_every_process_on_the_database_hashes_alike(url: str) -> None:
    first, second = Store(url), Store(url)
    try:
        assert first.identities.digest(IDENTITY_NUMBER) == second.identities.digest(IDENTITY_NUMBER)
        assert first.identities.key_id == "(database)"
    finally:
        first.dispose()
        second.dispose()


def test_with_a_key_ring_rows_are_hashed_under_its_first_key_and_its_id_kept(url: str) -> None:
    store = keyed_store(url, OLD_KEY)
    try:
        message = store.save_accepted(new_message(), RECEIVERS, lease_seconds=30)
        assert stored_hashes(store) == {
            (store.identities.digest(number), "2025")
            for number in (IDENTITY_NUMBER, PARTY_B_NUMBER)
        }
        assert store.identities.digest(IDENTITY_NUMBER) != Store(url).identities.digest(
            IDENTITY_NUMBER
        )
        assert [answer.message.message_id for answer in trace(store, IDENTITY_NUMBER)] == [
            message.message_id
        ]
    finally:
        store.dispose()


def test_after_a_rotation_old_rows_are_found_and_rehash_moves_them_to_the_new_key(
    url: str,
) -> None:
    old = keyed_store(url, OLD_KEY, encrypt=True)  # sealed bodies: rehash opens them
    kept = old.save_accepted(new_message(), RECEIVERS, lease_seconds=30).message_id
    pruned = replace(new_message(), canonical=canonical_xml(OTHER_PERSON))
    pruned_id = old.save_accepted(pruned, RECEIVERS, lease_seconds=30).message_id
    old.dispose()
    rotated = keyed_store(url, f"{NEW_KEY},{OLD_KEY}", encrypt=True)
    with rotated.engine.begin() as connection:  # retention emptied one body
        empty = update(MessageRow).where(MessageRow.id == pruned_id).values(canonical=b"")
        connection.execute(empty)
    try:
        assert found_by_person(rotated) == [kept]  # under the old key, still found

        result = CliRunner().invoke(
            main,
            ["identities", "rehash", "--actor", "ops"],
            env={"GOVHUB_DATABASE_URL": url, "GOVHUB_ENCRYPTION_KEYS": f"{NEW_KEY},{OLD_KEY}"},
        )

        assert result.exit_code == 0, result.output
        assert "1 messages under key 2026; 1 pruned" in result.output
        assert {key_id for _, key_id in stored_hashes(rotated)} == {"2026", "2025"}
        assert found_by_person(rotated) == [kept]
        assert found_by_person(rotated, OTHER_PERSON) == [pruned_id]
        with rotated.engine.connect() as connection:
            last = list(audit.entries(connection))[-1]
        assert (last.actor, last.subject) == ("ops", "identity index")
    finally:
        rotated.dispose()
    only_new = keyed_store(url, NEW_KEY)
    try:
        assert found_by_person(only_new) == [kept]  # the old key is no longer needed for it
    finally:
        only_new.dispose()


@pytest.fixture
def at_0005(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    migrate.upgrade(store.engine, "0005_configuration")
    yield store
    store.dispose()


def test_migration_0007_rehashes_plain_rows_from_the_bodies_and_drops_the_pruned_ones(
    at_0005: Store,
) -> None:
    readable, pruned = new_message(), replace(new_message(), canonical=b"")
    with at_0005.engine.begin() as connection:  # as the hub before 0007 stored them
        for message in (readable, pruned):
            row = accepting.message_values(message, at_0005.clock(), PayloadSealer())
            connection.execute(insert(MessageRow), row)
            plain = plain_sha256(IDENTITY_NUMBER)
            values = {"message_id": message.message_id, "identity_sha256": plain}
            connection.execute(insert(MessageIdentityRow.__table__), values)

    at_0005.upgrade()

    hashes = stored_hashes(at_0005)
    parties = (IDENTITY_NUMBER, PARTY_B_NUMBER)  # rebuilt from the body: both, not only A
    assert hashes == {(at_0005.identities.digest(number), "(database)") for number in parties}
    assert found_by_person(at_0005) == [readable.message_id]
