"""The relay's statements: held (paused) departments and released leases on both stores, and on
PostgreSQL one statement text whatever the number of ids or of held departments (arrays), so
psycopg and the server prepare it once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from backends import FakeClock, accepted_delivery_ids, fresh_postgresql_database
from sqlalchemy import event

from hub.store import Store

RECEIVERS = ("SOCIAL_SECURITY", "TAX", "CIVIL_AFFAIRS")


@contextmanager
def statements_sent(store: Store) -> Iterator[list[str]]:
    """The SQL text of every statement the store's engine sends meanwhile."""
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        sent.append(statement)

    event.listen(store.engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(store.engine, "before_cursor_execute", note)


def test_the_relay_leaves_the_legs_of_every_held_department_whatever_how_many_are_held(
    store: Store, clock: FakeClock
) -> None:
    social, tax, civil = accepted_delivery_ids(store, receivers=RECEIVERS)
    clock.advance(31)
    assert store.next_lease_end(frozenset({"SOCIAL_SECURITY", "TAX", "CIVIL_AFFAIRS"})) is None
    assert store.next_lease_end(frozenset({"TAX"})) is not None
    due = store.due_deliveries(10, held=frozenset({"SOCIAL_SECURITY", "TAX"}))
    assert [d.delivery_id for d in due] == [civil]
    due = store.due_deliveries(10, held=frozenset({"TAX"}))
    assert [d.delivery_id for d in due] == [social]
    assert [d.delivery_id for d in store.due_deliveries(10)] == [tax]


def test_released_leases_are_due_at_once_but_a_held_claim_keeps_its_lease(
    store: Store,
) -> None:
    social, tax, civil = accepted_delivery_ids(store, receivers=RECEIVERS)
    assert store.claim(tax, lease_seconds=30) is not None  # a worker holds it
    store.release_leases([social, tax, civil, social])
    assert sorted(d.delivery_id for d in store.due_deliveries(10)) == [social, civil]


@pytest.mark.distributed
def test_on_postgresql_the_relays_statements_keep_one_text_for_any_number_of_ids() -> None:
    with fresh_postgresql_database() as database_url:
        store = Store(database_url, clock=FakeClock())
        store.upgrade()
        try:
            ids = accepted_delivery_ids(store, 2, RECEIVERS)
            with statements_sent(store) as sent:
                store.release_leases(ids[:1])
                store.release_leases(ids)
                store.due_deliveries(10, held=frozenset({"TAX"}))
                store.due_deliveries(10, held=frozenset({"TAX", "SOCIAL_SECURITY"}))
                store.next_lease_end(frozenset({"TAX"}))
                store.next_lease_end(frozenset({"TAX", "SOCIAL_SECURITY"}))
        finally:
            store.dispose()
    release_one, release_all, due_one, due_two, end_one, end_two = [
        text for text in sent if text.lstrip().upper().startswith(("UPDATE", "WITH", "SELECT"))
    ]
    assert release_one == release_all
    assert due_one == due_two
    assert end_one == end_two
