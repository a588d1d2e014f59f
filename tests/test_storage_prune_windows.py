"""A prune pass walks the old messages once, window by window: the settled ones in every
window lose their bodies (or go), whatever unsettled messages lie between them, and nothing
pending, failed or recent is touched."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from backends import FakeClock, new_message
from sqlalchemy import select, update

from hub.operations.prune import prune
from hub.store import Store
from hub.store.models import DeliveryRow, MessageRow

DAY = timedelta(days=1)


def old_traffic(store: Store, clock: FakeClock) -> dict[str, list[str]]:
    """Eleven old messages, every third one failed at TAX, the rest delivered; one recent."""
    made: dict[str, list[str]] = {"delivered": [], "failed": [], "recent": []}
    for number in range(11):
        message = dataclasses.replace(new_message(), original=b"<old/>")
        receipt = store.save_accepted(message, ("TAX",), lease_seconds=30)
        state = "failed" if number % 3 == 0 else "delivered"
        with store.engine.begin() as connection:
            connection.execute(
                update(DeliveryRow)
                .where(DeliveryRow.message_id == receipt.message_id)
                .values(state=state, delivered_at=clock.now if state == "delivered" else None)
            )
        made[state].append(receipt.message_id)
        clock.advance(60)
    clock.advance(31 * 86400)
    made["recent"].append(store.save_accepted(new_message(), (), 30).message_id)
    return made


def bodies(store: Store) -> dict[str, bytes]:
    with store.engine.connect() as connection:
        rows = connection.execute(select(MessageRow.id, MessageRow.original)).all()
    return {row.id: row.original for row in rows}


def test_one_pass_in_small_windows_prunes_every_settled_message_between_failed_ones(
    store: Store, clock: FakeClock
) -> None:
    made = old_traffic(store, clock)

    report = prune(store, bodies_older_than=30 * DAY, batch_size=2)

    assert report.bodies_pruned == len(made["delivered"]) == 7
    kept = bodies(store)
    assert {kept[i] for i in made["delivered"]} == {b""}
    assert {kept[i] for i in made["failed"]} == {b"<old/>"}
    assert kept[made["recent"][0]] != b""
    assert prune(store, bodies_older_than=30 * DAY, batch_size=2).bodies_pruned == 0


def test_deleting_by_window_removes_only_the_settled_old_messages(
    store: Store, clock: FakeClock
) -> None:
    made = old_traffic(store, clock)

    report = prune(store, bodies_older_than=30 * DAY, metadata_older_than=30 * DAY, batch_size=3)

    assert report.messages_deleted == 7
    assert set(bodies(store)) == {*made["failed"], *made["recent"]}
