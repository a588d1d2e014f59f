"""Accepting messages: one transaction, duplicates write nothing, status derived from deliveries."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from backends import IDENTITY_NUMBER, PARTY_B_NUMBER, new_message
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from hub.errors import ClientError, NotFound
from hub.security.tables import audit_head, audit_log
from hub.store import AttemptRecord, Store, delivery_key
from hub.store.models import DeliveryRow, MessageIdentityRow, MessageRow
from hub.store.records import message_state

RECEIVERS = ("SOCIAL_SECURITY", "TAX")


def count(store: Store, table: Any) -> int:
    with store.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table)) or 0)


def test_save_accepted_returns_a_receipt_with_one_queued_delivery_per_receiver(
    store: Store,
) -> None:
    message = new_message()
    receipt = store.save_accepted(message, RECEIVERS, lease_seconds=30)
    assert (receipt.message_id, receipt.state, receipt.duplicate) == (
        message.message_id,
        "accepted",
        False,
    )
    assert receipt.receivers == RECEIVERS
    assert [d.department for d in receipt.deliveries] == list(RECEIVERS)
    assert receipt.deliveries[1].idempotency_key == delivery_key(message.message_id, "TAX")
    status = store.message_status(message.message_id)
    assert [(d.department, d.state, d.attempts) for d in status.deliveries] == [
        ("SOCIAL_SECURITY", "queued", 0),
        ("TAX", "queued", 0),
    ]


def test_an_accepted_message_is_visible_to_another_process_once_the_receipt_exists(
    store: Store, database_url: str
) -> None:
    receipt = store.save_accepted(new_message(), RECEIVERS, lease_seconds=30)
    other = Store(database_url)
    try:
        assert other.message_status(receipt.message_id).state == "accepted"
    finally:
        other.dispose()


def test_a_failure_before_commit_stores_nothing_and_gives_no_receipt(store: Store) -> None:
    # The audit entry is written last (after the message and its deliveries, which on
    # PostgreSQL are one statement): a row planted where the chain's next entry goes makes
    # that insert fail in the database, leaving them all written but uncommitted.
    with store.engine.begin() as connection:
        next_seq = connection.scalar(select(audit_head.c.seq)) + 1
        connection.execute(insert(audit_log).values(seq=next_seq, **PLANTED))
    message = new_message()
    with pytest.raises(IntegrityError):
        store.save_accepted(message, RECEIVERS, lease_seconds=30)
    with store.engine.begin() as connection:
        connection.execute(delete(audit_log).where(audit_log.c.seq == next_seq))
    assert count(store, MessageRow) == 0
    assert count(store, DeliveryRow) == 0
    assert store.save_accepted(message, RECEIVERS, lease_seconds=30).duplicate is False


PLANTED = {
    "at": datetime(2026, 1, 5, tzinfo=UTC),
    "actor": "test",
    "action": "planted",
    "subject": "-",
    "details": "{}",
    "prev_hash": "0" * 64,
    "hash": "0" * 64,
}


def test_a_repeated_idempotency_key_returns_the_first_receipt_and_writes_nothing(
    store: Store,
) -> None:
    first = store.save_accepted(new_message("key-1"), RECEIVERS, lease_seconds=30)
    repeat = new_message("key-1")
    again = store.save_accepted(repeat, ("TAX",), lease_seconds=30)
    assert (again.message_id, again.duplicate, again.deliveries) == (first.message_id, True, ())
    assert again.receivers == RECEIVERS
    assert (count(store, MessageRow), count(store, DeliveryRow)) == (1, 2)
    with pytest.raises(NotFound):
        store.message_status(repeat.message_id)


def test_the_same_key_from_two_senders_is_two_messages(store: Store) -> None:
    store.save_accepted(new_message("key-1"), RECEIVERS, lease_seconds=30)
    other = new_message("key-1")
    other = type(other)(**{**other.__dict__, "sender": "TAX"})
    assert store.save_accepted(other, ("SOCIAL_SECURITY",), lease_seconds=30).duplicate is False


def test_concurrent_repeats_of_one_key_store_one_message(store: Store) -> None:
    receipts = []
    start = threading.Barrier(4)

    def submit() -> None:
        start.wait()
        receipts.append(store.save_accepted(new_message("same"), RECEIVERS, lease_seconds=30))

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.duplicate for r in receipts) == [False, True, True, True]
    assert len({r.message_id for r in receipts}) == 1
    assert count(store, MessageRow) == 1


def test_a_message_id_reused_with_another_key_is_refused(store: Store) -> None:
    store.save_accepted(new_message("a", message_id="m-1"), RECEIVERS, lease_seconds=30)
    with pytest.raises(ClientError, match="already taken"):
        store.save_accepted(new_message("b", message_id="m-1"), RECEIVERS, lease_seconds=30)


def test_message_status_of_an_unknown_id_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.message_status("no-such-id")


def test_message_state_is_delivered_only_when_every_delivery_is(store: Store) -> None:
    receipt = store.save_accepted(new_message(), RECEIVERS, lease_seconds=30)
    for queued in receipt.deliveries:
        claimed = store.claim(queued.delivery_id, lease_seconds=30)
        assert claimed is not None
        store.record_attempt(claimed, AttemptRecord("delivered", store.clock(), 3))
        expected = "delivered" if queued == receipt.deliveries[-1] else "accepted"
        assert store.message_status(receipt.message_id).state == expected


def test_message_state_is_failed_when_one_failed_and_none_is_pending() -> None:
    assert message_state(["delivered", "failed"]) == "failed"
    assert message_state(["retrying", "failed"]) == "accepted"
    assert message_state(["delivered", "delivered"]) == "delivered"


def test_identity_numbers_handed_in_by_ingress_are_indexed_as_those_read_from_the_record(
    store: Store,
) -> None:
    read = new_message()  # numbers read from the canonical record: both parties'
    party_b = PARTY_B_NUMBER
    handed = replace(new_message(), identity_numbers=(IDENTITY_NUMBER.lower(), party_b, "  "))
    store.save_accepted(read, RECEIVERS, lease_seconds=30)
    store.save_accepted_batch([(handed, RECEIVERS)], lease_seconds=30)

    with store.engine.connect() as connection:
        rows = connection.execute(
            select(MessageIdentityRow.message_id, MessageIdentityRow.identity_sha256)
        ).all()

    indexed: dict[str, set[str]] = {}
    for message_id, digest in rows:
        indexed.setdefault(message_id, set()).add(digest)
    both = {store.identities.digest(IDENTITY_NUMBER), store.identities.digest(party_b)}
    assert indexed == {read.message_id: both, handed.message_id: both}
