"""A year of traffic: a state filter walks the legs not delivered newest first, a person's
messages start from the identity index, and a prune pass from the unpruned messages; each
through its index (the plans are read with EXPLAIN on both databases) and still answering
what it answered."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from backends import IDENTITY_NUMBER, FakeClock, canonical_xml, new_message
from sqlalchemy import Select, event, text, update

from hub.identity import make_number
from hub.operations.queries import list_messages
from hub.operations.views import MessageFilter
from hub.store import Store, pruning
from hub.store.models import DeliveryRow

OTHER_PERSON = make_number("11010819920815", "242")
T = TypeVar("T")


def traffic(store: Store, clock: FakeClock, count: int = 120) -> dict[str, list[str]]:
    """``count`` messages with two legs each, all delivered but a few failed and retrying;
    one in forty names IDENTITY_NUMBER, the rest OTHER_PERSON. Analysed afterwards."""
    made: dict[str, list[str]] = {"failed": [], "retrying": [], "person": []}
    for number in range(count):
        person = IDENTITY_NUMBER if number % 40 == 0 else OTHER_PERSON
        message = dataclasses.replace(new_message(), canonical=canonical_xml(person))
        receipt = store.save_accepted(message, ("TAX", "CIVIL_AFFAIRS"), lease_seconds=30)
        state = "failed" if number % 50 == 7 else "retrying" if number % 50 == 8 else "delivered"
        if state != "delivered":
            made[state].append(receipt.message_id)
        if person == IDENTITY_NUMBER:
            made["person"].append(receipt.message_id)
        with store.engine.begin() as connection:
            connection.execute(
                update(DeliveryRow)
                .where(DeliveryRow.message_id == receipt.message_id)
                .values(state="delivered", delivered_at=clock.now)
            )
            if state != "delivered":
                connection.execute(
                    update(DeliveryRow)
                    .where(
                        DeliveryRow.message_id == receipt.message_id,
                        DeliveryRow.department == "TAX",
                    )
                    .values(state=state)
                )
        clock.advance(60)
    # As autovacuum leaves a table: analysed, and pages marked all-visible (index-only scans).
    command = "VACUUM ANALYZE" if store.engine.dialect.name == "postgresql" else "ANALYZE"
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(command))
    return made


def plan(store: Store, query: Select[Any]) -> str:
    """The plan the database chooses for ``query`` with its real parameters."""
    with store.engine.connect() as connection:
        _, sent = sent_while(store, lambda: connection.execute(query).all())
    return explain(store, *sent[0])


def sent_while(store: Store, work: Callable[[], T]) -> tuple[T, list[tuple[str, Any]]]:
    """What ``work`` returns, and the statements it sent with their parameters."""
    sent: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        sent.append((args[2], args[3]))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        return work(), sent
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def explain(store: Store, statement: str, parameters: Any, *, dear: str = "seqscan") -> str:
    """The plan of one statement as sent. PostgreSQL is told that what ``dear`` names
    (``enable_*`` settings) is dear, as reading a whole table or sorting many rows is at a
    million rows and not in a test's few."""
    postgres = store.engine.dialect.name == "postgresql"
    prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
    with store.engine.begin() as connection:
        for setting in dear.split() if postgres else ():
            connection.execute(text(f"SET LOCAL enable_{setting} = off"))
        rows = connection.exec_driver_sql(prefix + statement, parameters).all()
    return "\n".join(str(row[-1]) for row in rows)


def listed_with_plan(
    store: Store, wanted: MessageFilter, dear: str = "seqscan"
) -> tuple[list[str], str]:
    """``messages list``'s ids, and the plan of the first statement it sent (the one that
    finds them: the messages' rows and legs are read by id afterwards)."""
    summaries, sent = sent_while(store, lambda: list_messages(store, wanted))
    return [m.message_id for m in summaries], explain(store, *sent[0], dear=dear)


@pytest.mark.parametrize(
    ("state", "department", "index"),
    [
        ("failed", None, "ix_deliveries_newest"),
        ("retrying", None, "ix_deliveries_newest"),
        ("failed", "TAX", "ix_deliveries_department_newest"),
        ("retrying", "TAX", "ix_deliveries_department_newest"),
    ],
)
def test_a_state_filter_walks_the_legs_newest_first_through_their_partial_index(
    store: Store, clock: FakeClock, state: str, department: str | None, index: str
) -> None:
    made = traffic(store, clock)
    wanted = MessageFilter(state=state, department=department, limit=5)

    found, chosen = listed_with_plan(store, wanted, dear="seqscan sort")

    # Read in the page's own order, so stopped at the page: nothing to sort.
    assert index in chosen
    assert "Sort" not in chosen and "TEMP B-TREE" not in chosen
    assert found == list(reversed(made[state]))[:5]


def test_pending_legs_are_read_through_an_index_that_holds_only_legs_not_delivered(
    store: Store, clock: FakeClock
) -> None:
    made = traffic(store, clock)
    wanted = MessageFilter(state="accepted", department="TAX", limit=50)

    found, chosen = listed_with_plan(store, wanted)
    # Several states (any pending one): one of the partial indexes, or the one keyed by
    # department and state (as cheap for one department: PostgreSQL may take either).
    assert (
        "_newest" in chosen
        or "ix_deliveries_not_delivered" in chosen
        or ("ix_deliveries_department_state" in chosen and "Seq Scan on deliveries" not in chosen)
    )
    assert found == list(reversed(made["retrying"]))  # retrying: pending


def test_a_person_filter_starts_from_the_identity_index(store: Store, clock: FakeClock) -> None:
    made = traffic(store, clock)
    wanted = MessageFilter(person=IDENTITY_NUMBER, limit=50)

    found, chosen = listed_with_plan(store, wanted)
    assert "message_identities" in chosen and "ix_message_identities_identity_sha256" in chosen
    assert found == list(reversed(made["person"]))


def test_a_prune_window_reads_only_the_unpruned_messages_index(
    store: Store, clock: FakeClock
) -> None:
    traffic(store, clock, count=20)
    with store.engine.connect() as connection:
        ids, after = pruning.window(connection, clock.now, None, 5, unpruned=True)
    assert len(ids) == 5 and after is not None
    window = (
        pruning.select(pruning.MessageRow.id)
        .where(pruning.MessageRow.pruned_at.is_(None), pruning.MessageRow.received_at < clock.now)
        .where(
            pruning.tuple_(pruning.MessageRow.received_at, pruning.MessageRow.id)
            > pruning.tuple_(*after)
        )
        .order_by(pruning.MessageRow.received_at, pruning.MessageRow.id)
        .limit(5)
    )
    assert "ix_messages_unpruned" in plan(store, window)


def test_a_migrated_sqlite_database_has_planner_statistics(tmp_path: Path) -> None:
    """Without them SQLite walked every message for a state filter (12 s at 200,000)."""
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.upgrade()
    with store.engine.connect() as connection:
        analysed = connection.scalar(
            text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        )
    store.dispose()
    assert analysed == 1
