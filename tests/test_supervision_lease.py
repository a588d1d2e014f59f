"""The signal pass under its database lease, and each signal as a message to SUPERVISION:
two worker instances on one database never both run a pass, a dead holder's lease is taken
over when it runs out, and every signal issued or closed is stored once with exactly one
message for the supervision office, written in the same transaction."""

# ruff: noqa: F811  (each test takes the imported `hub` fixture by its name)

from __future__ import annotations

import threading
from datetime import timedelta

from lxml import etree
from sqlalchemy import func, select
from test_supervision_signals import Hub, at, hub  # noqa: F401  (the fixture: two cases)

from hub.polling import wait_for
from hub.store.models import DeliveryRow, MessageRow
from hub.supervision import load_calendar
from hub.supervision.casebook import CaseBook
from hub.supervision.lease import PassLease
from hub.supervision.notices import SignalMessages
from hub.supervision.signals import SignalIssuer


def issuer(hub: Hub, *, holder: str, lease_seconds: float = 300) -> SignalIssuer:
    book = CaseBook(hub.store.engine, hub.catalogue.current)
    messages = SignalMessages(hub.store, lambda: ("SUPERVISION",), lease_seconds=30)
    return SignalIssuer(
        hub.store.engine,
        book,
        load_calendar(),
        report_hours=24,
        lease=PassLease(hub.store.engine, lease_seconds, holder=holder),
        notice=messages,
    )


def signal_messages(hub: Hub) -> list[tuple[str, str]]:
    """(idempotency key, department of its leg) of every SupervisionSignal message."""
    query = (
        select(MessageRow.idempotency_key, DeliveryRow.department)
        .join(DeliveryRow, DeliveryRow.message_id == MessageRow.id)
        .where(MessageRow.message_type == "SupervisionSignal", MessageRow.sender == "HUB")
        .order_by(MessageRow.idempotency_key)
    )
    with hub.store.engine.connect() as connection:
        return [(key, department) for key, department in connection.execute(query)]


def test_two_instances_racing_run_one_pass_and_send_each_signal_once(hub: Hub) -> None:
    instances = [issuer(hub, holder="worker-a"), issuer(hub, holder="worker-b")]
    ran: list[str] = []
    start = threading.Barrier(len(instances))

    def race(one: SignalIssuer, name: str) -> None:
        start.wait()
        for minute in range(5):  # a pass a minute, both instances at the same moments
            if one.leased_pass(at(10, 9) + timedelta(minutes=minute)) is not None:
                ran.append(name)

    threads = [
        threading.Thread(target=race, args=(one, name))
        for one, name in zip(instances, ["worker-a", "worker-b"], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(ran) == 5 and len(set(ran)) == 1  # one holder ran every pass, the other none
    stored = instances[0].signals()
    assert sorted((s.case_number, s.rule) for s in stored) == [
        ("MZ-1", "committed-deadline-near"),
        ("MZ-1", "step-overdue:handled"),
        ("MZ-2", "committed-deadline-near"),
        ("MZ-2", "step-overdue:handled"),
    ]
    assert signal_messages(hub) == [
        ("supervision:MZ-1:committed-deadline-near:issued", "SUPERVISION"),
        ("supervision:MZ-1:step-overdue:handled:issued", "SUPERVISION"),
        ("supervision:MZ-2:committed-deadline-near:issued", "SUPERVISION"),
        ("supervision:MZ-2:step-overdue:handled:issued", "SUPERVISION"),
    ]


def test_an_expired_lease_is_taken_over_and_its_holder_does_not_issue_again(hub: Hub) -> None:
    first = issuer(hub, holder="worker-a", lease_seconds=120)
    second = issuer(hub, holder="worker-b", lease_seconds=120)
    assert first.leased_pass(at(10, 9)) is not None  # worker-a takes the lease, then dies

    refused = second.leased_pass(at(10, 9) + timedelta(seconds=119))
    taken = second.leased_pass(at(10, 12))  # the lease ran out long ago: worker-b takes over

    assert refused is None
    assert taken is not None
    assert [(s.case_number, s.rule) for s in taken.issued] == [
        ("MZ-1", "not-concluded-in-time"),
        ("MZ-2", "not-concluded-in-time"),
    ]
    a_minute_later = at(10, 12) + timedelta(minutes=1)
    assert first.leased_pass(a_minute_later) is None  # back from the dead: worker-b holds it
    assert PassLease(hub.store.engine, 120).holder_now(a_minute_later) == "worker-b"
    keys = [key for key, _ in signal_messages(hub)]
    assert len(keys) == len(set(keys)) == 4 + 2 + 4  # issued 4, then 2 red cards, 4 closed
    assert "supervision:MZ-2:committed-deadline-near:closed" in keys


def test_a_restarted_instance_issues_nothing_again(hub: Hub) -> None:
    issuer(hub, holder="worker-a").leased_pass(at(10, 9))
    restarted = issuer(hub, holder="worker-a-restarted")  # same machine, new process
    restarted_lease_free = restarted.run_once(at(10, 9, 11))  # even outside the lease

    assert restarted_lease_free.issued == []
    assert len(signal_messages(hub)) == 4


def test_concurrent_passes_without_the_lease_still_send_each_signal_once(hub: Hub) -> None:
    instances = [issuer(hub, holder=f"w{n}") for n in range(4)]
    threads = [threading.Thread(target=one.run_once, args=(at(10, 12),)) for one in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert signal_messages(hub) == [
        ("supervision:MZ-1:not-concluded-in-time:issued", "SUPERVISION"),
        ("supervision:MZ-2:not-concluded-in-time:issued", "SUPERVISION"),
    ]


def test_the_message_carries_the_signal_in_canonical_form(hub: Hub) -> None:
    one = issuer(hub, holder="worker-a")
    one.run_once(at(10, 9))
    one.run_once(at(10, 12))
    with hub.store.engine.connect() as connection:
        count = connection.scalar(
            select(func.count()).where(MessageRow.message_type == "SupervisionSignal")
        )
    closed_key = "supervision:MZ-1:step-overdue:handled:closed"
    closed = hub.store.message_status(_message_id(hub, closed_key))

    assert count == 10
    assert closed.state == "accepted"  # its leg to SUPERVISION waits for a worker
    assert [d.department for d in closed.deliveries] == ["SUPERVISION"]
    document = etree.fromstring(_canonical(hub, closed.message_id))
    text = {etree.QName(e).localname: e.text for e in document}
    assert text == {
        "kind": "yellow-card",
        "rule": "step-overdue:handled",
        "caseNumber": "MZ-1",
        "itemCode": "MZ-HYDJ-001",
        "department": "MARRIAGE_REGISTRY",
        "deadline": "2026-10-08",
        "detail": "step handled overdue (due 2026-10-08)",
        "issuedAt": "2026-10-09T10:00:00+08:00",
        "closedAt": "2026-10-12T10:00:00+08:00",
        "closedBecause": "superseded",
    }


def _message_id(hub: Hub, key: str) -> str:
    found = hub.store.find_message_id("HUB", key)
    assert found is not None, key
    return found


def _canonical(hub: Hub, message_id: str) -> bytes:
    with hub.store.engine.connect() as connection:
        stored = connection.scalar(select(MessageRow.canonical).where(MessageRow.id == message_id))
    assert isinstance(stored, bytes)
    return stored


def test_an_instance_that_stops_gives_the_lease_up_at_once(hub: Hub) -> None:
    moment = at(10, 9)
    running = SignalIssuer(
        hub.store.engine,
        CaseBook(hub.store.engine, hub.catalogue.current),
        load_calendar(),
        report_hours=24,
        interval_seconds=0.05,
        clock=lambda: moment,
        lease=PassLease(hub.store.engine, 300, holder="worker-a"),
    )
    stop = threading.Event()
    thread = threading.Thread(target=running.run, args=(stop,))
    thread.start()
    lease = PassLease(hub.store.engine, 300, holder="worker-b")
    try:
        held = wait_for(lambda: lease.holder_now(moment) == "worker-a", 30)
    finally:
        stop.set()
        thread.join(timeout=30)

    assert held
    assert lease.holder_now(moment) is None  # given up: no need to wait 300 s for it
    assert lease.take(moment)
