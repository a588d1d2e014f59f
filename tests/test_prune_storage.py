"""Pruning: bodies of old, fully delivered messages go; hashes, metadata and anything
unsettled stay; with a metadata retention the database stays bounded under traffic."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

from backends import CANONICAL_NS, IDENTITY_NUMBER, FakeClock, new_message
from sqlalchemy import select, text, update

from hub.operations.prune import prune
from hub.operations.show import show_message
from hub.store import AttemptRecord, Store
from hub.store.models import DeliveryRow, MessageIdentityRow, MessageRow, OperatorActionRow

DAY = timedelta(days=1)

SMALL_CANONICAL = (
    f'<c:MarriageRegistered xmlns:c="{CANONICAL_NS}">'
    f"<c:identityNumber>{IDENTITY_NUMBER}</c:identityNumber></c:MarriageRegistered>"
).encode()


def delivered_message(store: Store, original: bytes = b"<JieHunDengJi/>") -> str:
    """A message whose one leg to TAX was delivered (with its payload) by a real claim."""
    # A small canonical record: the soak's sizes are calibrated on the 8 kB original alone.
    message = dataclasses.replace(new_message(), original=original, canonical=SMALL_CANONICAL)
    receipt = store.save_accepted(message, ("TAX",), lease_seconds=30)
    claimed = store.claim(receipt.deliveries[0].delivery_id, 30)
    assert claimed is not None
    store.record_attempt(
        claimed,
        AttemptRecord("delivered", store.clock(), 5, payload=b'{"ok": true}', payload_sha256="x"),
    )
    return receipt.message_id


def message_row(store: Store, message_id: str) -> MessageRow:
    with store.engine.connect() as connection:
        return connection.execute(select(MessageRow).where(MessageRow.id == message_id)).one()  # type: ignore[return-value]


def test_only_old_fully_delivered_messages_lose_their_bodies_and_keep_their_hashes(
    store: Store, clock: FakeClock
) -> None:
    old = delivered_message(store)
    pending = store.save_accepted(new_message(), ("TAX",), lease_seconds=30).message_id
    clock.advance(31 * 86400)
    recent = delivered_message(store)

    report = prune(store, bodies_older_than=30 * DAY, batch_size=1)

    assert (report.bodies_pruned, report.messages_deleted) == (1, 0)
    pruned = message_row(store, old)
    assert (pruned.original, pruned.canonical, pruned.pruned_at) == (b"", b"", clock.now)
    assert len(pruned.original_sha256) == 64
    assert show_message(store, old).legs[0].payload is None
    for kept in (pending, recent):
        assert message_row(store, kept).pruned_at is None
    assert show_message(store, recent).legs[0].payload == '{"ok": true}'


def test_a_dry_run_counts_and_changes_nothing(store: Store, clock: FakeClock) -> None:
    message_id = delivered_message(store)
    clock.advance(2 * 86400)

    report = prune(store, bodies_older_than=DAY, metadata_older_than=DAY, dry_run=True)

    assert (report.dry_run, report.bodies_pruned, report.messages_deleted) == (True, 1, 1)
    assert message_row(store, message_id).pruned_at is None


def test_the_metadata_retention_deletes_settled_messages_with_their_legs_and_records_it(
    store: Store, clock: FakeClock
) -> None:
    old = delivered_message(store)
    clock.advance(400 * 86400)

    report = prune(store, bodies_older_than=30 * DAY, metadata_older_than=365 * DAY)

    assert (report.bodies_pruned, report.messages_deleted) == (1, 1)
    with store.engine.connect() as connection:
        assert connection.scalar(select(MessageRow.id).where(MessageRow.id == old)) is None
        assert connection.execute(select(DeliveryRow)).all() == []
        assert connection.execute(select(MessageIdentityRow)).all() == []
        assert connection.scalar(select(OperatorActionRow.action)) == "prune"


def test_a_failed_message_is_never_pruned(store: Store, clock: FakeClock) -> None:
    receipt = store.save_accepted(new_message(), ("TAX",), lease_seconds=30)
    with store.engine.begin() as connection:
        connection.execute(update(DeliveryRow).values(state="failed"))
    clock.advance(400 * 86400)

    report = prune(store, bodies_older_than=DAY, metadata_older_than=DAY)

    assert (report.bodies_pruned, report.messages_deleted) == (0, 0)
    assert message_row(store, receipt.message_id).pruned_at is None


# The hash-chained audit log is append-only by design: it is kept under its own (legal)
# retention and archived with `govhub audit export`, not pruned with message bodies.


def _database_bytes(store: Store) -> int:
    """The file's size, less the pages of the audit log."""
    with store.engine.connect() as connection:
        pages = connection.execute(text("PRAGMA page_count")).scalar_one()
        size = connection.execute(text("PRAGMA page_size")).scalar_one()
        audit = connection.execute(
            text(
                "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN "
                "(SELECT name FROM sqlite_schema WHERE tbl_name IN ('audit_log', 'audit_head'))"
            )
        ).scalar_one()
    return int(pages) * int(size) - int(audit)


def _audit_bytes_per_message(store: Store, messages: int) -> float:
    with store.engine.connect() as connection:
        audit = connection.execute(
            text("SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name = 'audit_log'")
        ).scalar_one()
    return int(audit) / messages


def test_soak_the_database_stays_bounded_while_traffic_flows_with_pruning_on(
    tmp_path: Path,
) -> None:
    """40 rounds of 20 messages (8 kB bodies) a minute apart; bodies kept 5 minutes, metadata
    10 minutes. Once the retention window is full the file stops growing: freed pages are
    reused. (Unpruned, the bodies alone would take 40 * 20 * 8 kB = 6.5 MB.)"""
    clock = FakeClock()
    store = Store(f"sqlite:///{tmp_path / 'soak.db'}", clock=clock)
    store.upgrade()
    empty = _database_bytes(store)  # the schema alone: tables and indexes, one page each
    body = b"<x>" + b"a" * 8192 + b"</x>"
    sizes = []
    try:
        for _ in range(40):
            for _ in range(20):
                delivered_message(store, body)
            clock.advance(60)
            prune(
                store,
                bodies_older_than=timedelta(minutes=5),
                metadata_older_than=timedelta(minutes=10),
                batch_size=20,
            )
            sizes.append(_database_bytes(store))
        audit_per_message = _audit_bytes_per_message(store, 40 * 20)
    finally:
        store.dispose()
    settled = sizes[15]
    assert max(sizes[15:]) <= settled * 1.1, sizes
    assert sizes[-1] - empty < 40 * 20 * len(body) / 4, (empty, sizes)
    # Two chained entries a message (accepted, delivery attempt), each well under 1 kB.
    assert audit_per_message < 2 * 1024
