"""Newest failures first: a state filter walks the legs newest first and stops at the page, and
still lists what it listed before, in the same order (newest message first, then by id),
across `messages list --limit` and the console's pages, a message with two matching legs
once; migration 0027 gives the legs already stored their message's arrival. On SQLite and
PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from backends import FakeClock, new_message
from sqlalchemy import insert, select, update

from hub.console.browse import page
from hub.operations.queries import list_messages
from hub.operations.views import MessageFilter
from hub.store import Store, accepting, migrate
from hub.store.models import DeliveryRow, MessageRow

DEPARTMENTS = ("TAX", "SOCIAL_SECURITY")
# Per message, oldest first: its legs' states (TAX, SOCIAL_SECURITY), and whether the next
# one arrives in the same instant (a tie, ordered by id).
TRAFFIC = (
    (("failed", "failed"), False),
    (("delivered", "delivered"), False),
    (("failed", "delivered"), True),
    (("delivered", "failed"), False),
    (("retrying", "failed"), False),
    (("delivered", "delivered"), True),
    (("failed", "failed"), True),
    (("failed", "retrying"), False),
    (("delivered", "failed"), False),
    (("failed", "failed"), False),
)


@dataclasses.dataclass(frozen=True)
class Stored:
    message_id: str
    received_at: datetime
    states: dict[str, str]
    message_type: str


def stored_traffic(store: Store, clock: FakeClock) -> list[Stored]:
    """TRAFFIC accepted through the store, then its legs moved to their states."""
    made = []
    for number, (states, tie) in enumerate(TRAFFIC):
        message_type = "MarriageRegistered" if number % 3 else "DivorceRegistered"
        message = dataclasses.replace(new_message(), message_type=message_type)
        receipt = store.save_accepted(message, DEPARTMENTS, lease_seconds=30)
        legs = dict(zip(DEPARTMENTS, states, strict=True))
        with store.engine.begin() as connection:
            for department, state in legs.items():
                connection.execute(
                    update(DeliveryRow)
                    .where(
                        DeliveryRow.message_id == receipt.message_id,
                        DeliveryRow.department == department,
                    )
                    .values(state=state)
                )
        made.append(Stored(receipt.message_id, clock.now, legs, message_type))
        if not tie:
            clock.advance(60)
    return made


def expected(made: list[Stored], state: str, department: str | None = None) -> list[str]:
    """The list's promise: newest first, then by id; each message once."""
    legs = [department] if department else DEPARTMENTS
    matching = [m for m in made if any(m.states[d] == state for d in legs)]
    matching.sort(key=lambda m: m.message_id)
    matching.sort(key=lambda m: m.received_at, reverse=True)
    return [m.message_id for m in matching]


def listed(store: Store, **wanted: object) -> list[str]:
    return [m.message_id for m in list_messages(store, MessageFilter(**wanted))]  # type: ignore[arg-type]


def paged(store: Store, wanted: MessageFilter) -> list[list[str]]:
    """Every page of the console's list, following each page's link to the next."""
    pages, cursor = [], None
    while True:
        shown = page(store, wanted, cursor)
        pages.append([m.message_id for m in shown.messages])
        if shown.next_cursor is None:
            return pages
        cursor = shown.next_cursor


@pytest.mark.parametrize(
    ("state", "department"),
    [("failed", None), ("failed", "TAX"), ("failed", "SOCIAL_SECURITY"), ("retrying", None)],
)
def test_a_state_filter_lists_each_message_once_newest_first_at_every_limit(
    store: Store, clock: FakeClock, state: str, department: str | None
) -> None:
    made = stored_traffic(store, clock)
    everything = expected(made, state, department)
    assert len(everything) >= 2

    for limit in range(1, len(everything) + 2):
        found = listed(store, state=state, department=department, limit=limit)
        assert found == everything[:limit]


@pytest.mark.parametrize("size", [1, 2, 3])
def test_the_consoles_pages_of_a_state_filter_follow_on_without_a_gap_or_a_repeat(
    store: Store, clock: FakeClock, size: int
) -> None:
    made = stored_traffic(store, clock)
    everything = expected(made, "failed")

    pages = paged(store, MessageFilter(state="failed", limit=size))

    assert [m for shown in pages for m in shown] == everything
    assert all(len(shown) == size for shown in pages[:-1])


def test_a_state_filter_keeps_the_messages_own_filters(store: Store, clock: FakeClock) -> None:
    made = stored_traffic(store, clock)
    failed = expected(made, "failed")
    types = {m.message_id: m.message_type for m in made}
    divorces = [i for i in failed if types[i] == "DivorceRegistered"]
    arrivals = {m.message_id: m.received_at for m in made}
    since, until = arrivals[failed[-2]], arrivals[failed[1]]

    assert listed(store, state="failed", message_type="DivorceRegistered") == divorces
    assert listed(store, state="failed", since=since, until=until) == [
        i for i in failed if since <= arrivals[i] < until
    ]
    assert listed(store, state="failed", sender="NOBODY") == []


def test_the_migration_gives_every_stored_leg_its_messages_arrival(database_url: str) -> None:
    """Delivered legs too (a replay brings them back among the legs a state filter reads),
    and legs far apart by id (the fill goes by batches of ids)."""
    store = Store(database_url)
    arrivals = [datetime(2024, 5, 1, tzinfo=UTC) + timedelta(hours=n) for n in range(3)]
    leg_ids = [1, 2, 50_000, 50_001, 120_001, 120_002]
    try:
        migrate.upgrade(store.engine, "0026_attempt_numbers")
        with store.engine.begin() as connection:  # as the hub before 0027 wrote them
            for n, arrival in enumerate(arrivals):
                message = new_message()
                connection.execute(insert(MessageRow), accepting.message_values(message, arrival))
                for offset, (department, state) in enumerate(
                    zip(DEPARTMENTS, ("delivered", "failed"), strict=True)
                ):
                    row = accepting.delivery_values(message, [department], arrival, arrival)[0]
                    del row["received_at"]
                    row.update(id=leg_ids[2 * n + offset], state=state)
                    connection.execute(insert(DeliveryRow.__table__), row)
        store.upgrade()
        with store.engine.connect() as connection:
            legs = connection.execute(
                select(DeliveryRow.id, DeliveryRow.received_at, MessageRow.received_at)
                .join(MessageRow, MessageRow.id == DeliveryRow.message_id)
                .order_by(DeliveryRow.id)
            ).all()
    finally:
        store.dispose()
    assert [leg_id for leg_id, _, _ in legs] == leg_ids
    assert all(leg == message for _, leg, message in legs)
    assert sorted({leg for _, leg, _ in legs}) == arrivals
