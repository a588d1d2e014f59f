"""A sender's idempotency key names one record: the same record again is a duplicate, a
different record under the same key is refused (Client.IdempotencyConflict), never dropped as
a repeat. On SQLite and PostgreSQL, alone, inside one group-commit batch, and concurrently."""

from __future__ import annotations

import threading
from copy import deepcopy
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from backends import canonical_xml, new_message
from lxml import etree
from sqlalchemy import func, select

from hub.errors import IdempotencyConflict, MessageIdTaken
from hub.identity import make_number
from hub.security.encryption import KeyRing, new_key_text
from hub.security.payloads import PayloadSealer
from hub.store import NewMessage, Receipt, Store
from hub.store.group_commit import GroupCommitter, _Pending
from hub.store.models import MessageRow
from hub.store.pruning import prune_bodies

RECEIVERS = ("SOCIAL_SECURITY", "TAX")
OTHER_PERSON = make_number("11010819920815", "242")


def other_record(message: NewMessage) -> NewMessage:
    """A new message under the same key, naming another person."""
    return replace(new_message(message.idempotency_key), canonical=canonical_xml(OTHER_PERSON))


def reserialized(message: NewMessage) -> NewMessage:
    """The same record as another client writes it: other prefixes, declarations it does not
    use, indentation (what lxml keeps of a different SOAP envelope)."""
    record = etree.fromstring(message.canonical)
    namespace = etree.QName(record).namespace
    nsmap = {"c": namespace, "s": "urn:soap", "w": "urn:wsse"}
    rewritten = etree.Element(record.tag, nsmap=nsmap)
    rewritten.extend(deepcopy(child) for child in record)
    canonical = etree.tostring(rewritten, encoding="UTF-8", pretty_print=True)
    assert canonical != message.canonical
    return replace(new_message(message.idempotency_key), canonical=canonical)


def stored_messages(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(MessageRow)) or 0)


def test_a_different_record_under_a_used_key_is_refused_naming_the_first_message(
    store: Store,
) -> None:
    first = new_message("key-1")
    store.save_accepted(first, RECEIVERS, lease_seconds=30)

    with pytest.raises(IdempotencyConflict) as refused:
        store.save_accepted(other_record(first), RECEIVERS, lease_seconds=30)

    assert refused.value.code == "Client.IdempotencyConflict"
    assert refused.value.first_message_id == first.message_id
    assert "key-1" in refused.value.message and first.message_id in refused.value.message
    assert stored_messages(store) == 1
    assert store.message_status(first.message_id).deliveries  # the first one is untouched


def test_the_same_record_written_by_another_client_is_still_a_duplicate(store: Store) -> None:
    first = new_message("key-1")
    store.save_accepted(first, RECEIVERS, lease_seconds=30)

    again = store.save_accepted(reserialized(first), RECEIVERS, lease_seconds=30)

    assert (again.message_id, again.duplicate) == (first.message_id, True)
    assert stored_messages(store) == 1


def test_a_key_holding_an_identity_number_is_named_masked(store: Store) -> None:
    first = new_message(f"marriage-{OTHER_PERSON}")
    store.save_accepted(first, RECEIVERS, lease_seconds=30)

    with pytest.raises(IdempotencyConflict) as refused:
        store.save_accepted(other_record(first), RECEIVERS, lease_seconds=30)

    assert OTHER_PERSON not in str(refused.value)
    assert OTHER_PERSON not in refused.value.idempotency_key
    assert refused.value.idempotency_key.startswith("marriage-")


def test_sealed_records_are_compared_as_plain_records(database_url: str) -> None:
    sealer = PayloadSealer(KeyRing.parse(new_key_text("k1")), encrypt=True)
    store = Store(database_url, sealer=sealer)
    store.upgrade()
    try:
        first = new_message("key-1")
        store.save_accepted(first, RECEIVERS, lease_seconds=30)
        assert store.save_accepted(reserialized(first), RECEIVERS, lease_seconds=30).duplicate
        with pytest.raises(IdempotencyConflict):
            store.save_accepted(other_record(first), RECEIVERS, lease_seconds=30)
    finally:
        store.dispose()


def test_once_the_first_body_is_pruned_its_hash_still_tells_a_different_record(
    store: Store,
) -> None:
    first = new_message("key-1")
    store.save_accepted(first, (), lease_seconds=30)  # no receivers: delivered, prunable
    now = store.clock()
    with store.engine.begin() as connection:
        assert prune_bodies(connection, now + timedelta(seconds=1), now, limit=10) == 1

    assert store.save_accepted(new_message("key-1"), (), lease_seconds=30).duplicate
    with pytest.raises(IdempotencyConflict):
        store.save_accepted(other_record(first), (), lease_seconds=30)


def test_two_records_with_one_key_in_one_batch_one_is_stored_the_other_refused(
    store: Store,
) -> None:
    committer = GroupCommitter(store, lease_seconds=30)
    first = new_message("key-1")
    batch = [
        _Pending(first, RECEIVERS),
        _Pending(other_record(first), RECEIVERS),
        _Pending(reserialized(first), RECEIVERS),
        _Pending(new_message(), RECEIVERS),
    ]

    committer._write(batch)

    assert batch[0].receipt is not None and not batch[0].receipt.duplicate
    assert isinstance(batch[1].error, IdempotencyConflict)
    assert batch[1].error.first_message_id == first.message_id
    assert batch[2].receipt is not None and batch[2].receipt.duplicate
    assert batch[3].receipt is not None and not batch[3].receipt.duplicate
    assert stored_messages(store) == 2


def test_concurrent_different_records_under_one_key_store_one_and_refuse_the_rest(
    live_store: Store,
) -> None:
    committer = GroupCommitter(live_store, lease_seconds=30)
    numbers = [make_number("11010519900307", f"{n:03d}") for n in range(100, 108)]
    messages = [replace(new_message("one-key"), canonical=canonical_xml(n)) for n in numbers]
    answers: dict[str, Receipt | BaseException] = {}
    start = threading.Barrier(len(messages))

    def accept(message: NewMessage) -> None:
        start.wait(10)
        try:
            answers[message.message_id] = committer.save_accepted(message, RECEIVERS)
        except Exception as exc:
            answers[message.message_id] = exc

    threads = [threading.Thread(target=accept, args=(m,)) for m in messages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    stored = [a for a in answers.values() if isinstance(a, Receipt)]
    refused: list[Any] = [a for a in answers.values() if not isinstance(a, Receipt)]
    assert len(answers) == len(messages)
    assert len(stored) == 1 and not stored[0].duplicate
    assert all(isinstance(error, IdempotencyConflict) for error in refused), refused
    assert {error.first_message_id for error in refused} == {stored[0].message_id}
    assert stored_messages(live_store) == 1


def test_a_taken_message_id_gets_the_same_answer_whoever_took_it(store: Store) -> None:
    mine = new_message()
    theirs = replace(new_message(), sender="TAX")
    store.save_accepted(mine, RECEIVERS, lease_seconds=30)
    store.save_accepted(theirs, RECEIVERS, lease_seconds=30)

    answers = []
    for taken in (mine, theirs):
        reuse = replace(new_message(message_id=taken.message_id), idempotency_key="fresh")
        with pytest.raises(MessageIdTaken) as refused:
            store.save_accepted(reuse, RECEIVERS, lease_seconds=30)
        text = refused.value.message.replace(taken.message_id, "ID")
        answers.append((refused.value.code, text, refused.value.detail))

    assert answers[0] == answers[1]
    assert answers[0][0] == "Client.MessageIdTaken"
    assert "TAX" not in answers[1][1]
