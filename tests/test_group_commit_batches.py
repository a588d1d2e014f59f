"""Group commit: concurrent accepts share one transaction, and each caller gets the receipt
it would have got alone (new, repeat, or refused), only after the commit."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from backends import new_message
from sqlalchemy import select

from hub.errors import ClientError, StoreUnavailable
from hub.security import audit
from hub.security.tables import audit_log
from hub.store import Receipt, Store, delivery_key
from hub.store.group_commit import GroupCommitter, _Pending
from hub.store.models import DeliveryRow, MessageIdentityRow, MessageRow

RECEIVERS = ("SOCIAL_SECURITY", "TAX")


def rows(store: Store, table: Any, message_id: str) -> list[dict[str, Any]]:
    """A message's rows of one table, without the columns that differ by nature."""
    column = table.id if table is MessageRow else table.message_id
    with store.engine.connect() as connection:
        found = connection.execute(select(table).where(column == message_id)).mappings().all()
    return [{k: v for k, v in row.items() if k not in ("id", "message_id")} for row in found]


def test_a_batch_writes_exactly_the_rows_a_single_accept_writes(store: Store) -> None:
    alone, grouped = new_message(), new_message()
    store.save_accepted(alone, RECEIVERS, lease_seconds=30)
    store.save_accepted_batch([(grouped, RECEIVERS), (new_message(), ())], lease_seconds=30)

    for table in (MessageRow, DeliveryRow, MessageIdentityRow):
        single, batched = (
            rows(store, table, alone.message_id),
            rows(store, table, grouped.message_id),
        )
        for row in (*single, *batched):  # different messages: compare what does not name them
            row.pop("idempotency_key", None)
        assert single == batched, table.__tablename__
    assert rows(store, DeliveryRow, grouped.message_id)


def test_a_batch_receipt_names_the_stored_deliveries_in_receiver_order(store: Store) -> None:
    message = new_message()
    [receipt] = store.save_accepted_batch([(message, RECEIVERS)], lease_seconds=30)
    assert (receipt.state, receipt.duplicate, receipt.receivers) == ("accepted", False, RECEIVERS)
    with store.engine.connect() as connection:
        stored = connection.execute(
            select(DeliveryRow.id, DeliveryRow.department, DeliveryRow.idempotency_key).where(
                DeliveryRow.message_id == message.message_id
            )
        ).all()
    named = [(d.delivery_id, d.department, d.idempotency_key) for d in receipt.deliveries]
    assert sorted(named) == sorted(tuple(row) for row in stored)
    assert [d.idempotency_key for d in receipt.deliveries] == [
        delivery_key(message.message_id, code) for code in RECEIVERS
    ]


def test_many_concurrent_callers_each_get_their_own_receipt_and_everything_is_stored(
    live_store: Store,
) -> None:
    committer = GroupCommitter(live_store, lease_seconds=30)
    messages = [new_message() for _ in range(60)]
    receipts: dict[str, Receipt] = {}

    def accept(chunk: list[Any]) -> None:
        for message in chunk:
            receipts[message.message_id] = committer.save_accepted(message, RECEIVERS)

    threads = [threading.Thread(target=accept, args=(messages[n::12],)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(receipts) == sorted(m.message_id for m in messages)
    for message in messages:
        receipt = receipts[message.message_id]
        assert not receipt.duplicate and len(receipt.deliveries) == 2
        status = live_store.message_status(message.message_id)
        assert [d.department for d in status.deliveries] == list(RECEIVERS)
        assert {(d.delivery_id, d.department) for d in receipt.deliveries} == stored_legs(
            live_store, message.message_id
        )
    with live_store.engine.connect() as connection:  # batches of every size chained in a line
        assert audit.verify(connection).ok
        accepted = connection.scalars(
            select(audit_log.c.subject).where(audit_log.c.action == audit.ACCEPTED)
        ).all()
    assert sorted(accepted) == sorted(m.message_id for m in messages)


def stored_legs(store: Store, message_id: str) -> set[tuple[int, str]]:
    with store.engine.connect() as connection:
        found = connection.execute(
            select(DeliveryRow.id, DeliveryRow.department).where(
                DeliveryRow.message_id == message_id
            )
        ).all()
    return {(delivery_id, department) for delivery_id, department in found}


def test_repeats_within_a_batch_and_of_stored_messages_are_answered_as_duplicates(
    store: Store,
) -> None:
    committer = GroupCommitter(store, lease_seconds=30)
    stored = new_message("stored-key")
    store.save_accepted(stored, RECEIVERS, lease_seconds=30)
    first = new_message("same-key")
    batch = [
        _Pending(first, RECEIVERS),
        _Pending(new_message("same-key"), RECEIVERS),  # the same key again, in the batch
        _Pending(new_message("stored-key"), RECEIVERS),  # repeats a stored message
        _Pending(new_message(), ()),
    ]

    committer._write(batch)

    assert [p.error for p in batch] == [None] * 4
    receipts = [p.receipt for p in batch]
    assert [r.duplicate for r in receipts if r] == [False, True, True, False]
    assert receipts[1] and receipts[1].message_id == first.message_id
    assert receipts[2] and receipts[2].message_id == stored.message_id
    assert receipts[3] and receipts[3].state == "delivered"


def test_a_reused_message_id_is_refused_for_its_caller_only(store: Store) -> None:
    committer = GroupCommitter(store, lease_seconds=30)
    taken = new_message()
    store.save_accepted(taken, RECEIVERS, lease_seconds=30)
    reused = new_message(message_id=taken.message_id)
    batch = [_Pending(new_message(), RECEIVERS), _Pending(reused, RECEIVERS)]

    committer._write(batch)

    assert batch[0].receipt is not None and not batch[0].receipt.duplicate
    assert isinstance(batch[1].error, ClientError)


def test_a_message_the_database_refuses_does_not_take_its_batch_down(store: Store) -> None:
    committer = GroupCommitter(store, lease_seconds=30)
    broken = new_message()
    object.__setattr__(broken, "message_type", None)  # NOT NULL: the batch's transaction fails
    batch = [_Pending(new_message(), RECEIVERS), _Pending(broken, RECEIVERS)]

    committer._write(batch)

    assert batch[0].receipt is not None and batch[0].error is None
    assert rows(store, MessageRow, batch[0].message.message_id)
    assert batch[1].receipt is None and batch[1].error is not None
    assert rows(store, MessageRow, broken.message_id) == []


def test_a_value_the_database_rejects_fails_only_its_own_message_as_unavailable(
    store: Store,
) -> None:
    committer = GroupCommitter(store, lease_seconds=30)
    broken = new_message()
    # Not an IntegrityError: a type the driver cannot store, on SQLite and PostgreSQL alike.
    object.__setattr__(broken, "purpose", object())
    batch = [_Pending(new_message(), RECEIVERS), _Pending(broken, RECEIVERS)]

    committer._write(batch)

    assert batch[0].receipt is not None and batch[0].error is None
    assert isinstance(batch[1].error, StoreUnavailable)
    assert "object" not in str(batch[1].error)  # the driver's text (parameters) stays out


def test_the_writer_thread_ends_when_idle_and_starts_again_on_demand(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hub.store.batching.IDLE_SECONDS", 0.05)  # the batcher's writer
    committer = GroupCommitter(store, lease_seconds=30)
    for _ in range(2):
        committer.save_accepted(new_message(uuid.uuid4().hex), RECEIVERS)
        writer = committer._batcher._writer
        assert writer is not None and writer.name == "group-commit"
        writer.join(10)
        assert committer._batcher._writer is None
