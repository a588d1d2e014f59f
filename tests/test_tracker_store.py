"""The trail on both backends (SQLite and PostgreSQL), from a store filled with rows as the
hub stores them: every message naming the person with its legs, newest first, the same
after the bodies are pruned; the citizen's view paged; an exemption marks the operator's view
and leaves the department out of the citizen's until its day, then not."""

from __future__ import annotations

from datetime import datetime, timedelta

from backends import FakeClock
from sqlalchemy import insert

from hub.identity import make_number
from hub.operations.prune import prune
from hub.store import Store
from hub.store.models import DeliveryRow, MessageIdentityRow, MessageRow
from hub.tracker import CITIZEN, Exemptions, TrackerRules, Trail

RULES = TrackerRules(frozenset(), {"TAX": frozenset({"liaison"})})
PERSON = make_number("11010519900307", "131")


def fill(store: Store, count: int, now: datetime, *, person_messages: int) -> None:
    """``count`` messages a minute apart, each delivered to SOCIAL_SECURITY and TAX, every
    ``count // person_messages``-th naming PERSON (the others someone else)."""
    person, key_id = store.identities.digest(PERSON), store.identities.key_id
    messages, legs, names = [], [], []
    for n in range(count):
        message_id, at = f"{n:08d}-0000-0000-0000-000000000000", now - timedelta(minutes=n)
        messages.append(
            {
                "id": message_id,
                "message_type": "MarriageRegistered",
                "sender": "MARRIAGE_REGISTRY",
                "idempotency_key": message_id,
                "purpose": "marriage registration",
                "sent_at": at,
                "received_at": at,
                "schema_version": "1.0",
                "original": b"<m/>",
                "original_content_type": "text/xml",
                "original_sha256": "0" * 64,
                "canonical": b"<m/>",
                "canonical_sha256": "0" * 64,
            }
        )
        for department in ("SOCIAL_SECURITY", "TAX"):
            legs.append(
                {
                    "message_id": message_id,
                    "department": department,
                    "state": "delivered",
                    "attempts": 1,
                    "lease_until": at,
                    "delivered_at": at,
                    "idempotency_key": f"{message_id}:{department}",
                }
            )
        hashed = person if n % (count // person_messages) == 0 else f"{n:064x}"
        names.append({"message_id": message_id, "identity_sha256": hashed, "key_id": key_id})
    with store.engine.begin() as connection:
        connection.execute(insert(MessageRow), messages)
        connection.execute(insert(DeliveryRow), legs)
        connection.execute(insert(MessageIdentityRow), names)


def test_the_trail_reads_every_message_naming_the_person(store: Store, clock: FakeClock) -> None:
    fill(store, 60, clock(), person_messages=6)
    trail = Trail(store, Exemptions(store, RULES))

    entries = trail.entries(PERSON)
    clock.advance(60)
    prune(store, bodies_older_than=timedelta(0))

    assert len(entries) == 6 and {e.kind for e in entries} == {"message"}
    assert all({leg.department for leg in e.legs} == {"SOCIAL_SECURITY", "TAX"} for e in entries)
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)
    pruned = trail.entries(PERSON)
    assert [e.reference for e in pruned] == [e.reference for e in entries]
    assert all(e.pruned and e.fields == entries[0].fields for e in pruned[:1])


def test_an_exemption_runs_until_its_day(store: Store, clock: FakeClock) -> None:
    fill(store, 30, clock(), person_messages=3)
    exemptions = Exemptions(store, RULES)
    trail = Trail(store, exemptions)
    exemptions.grant(PERSON, "TAX", clock() + timedelta(days=2), "case 9", actor="liaison")

    operator = trail.entries(PERSON)
    citizen = trail.page(PERSON, page=1, page_size=2, view=CITIZEN)
    clock.advance(3 * 86_400)
    later = trail.page(PERSON, page=1, page_size=2, view=CITIZEN)

    assert all(e.confidential[0].reason == "case 9" for e in operator)
    assert citizen.total == 3 and len(citizen.entries) == 2
    assert all({leg.department for leg in e.legs} == {"SOCIAL_SECURITY"} for e in citizen.entries)
    assert all("TAX" in {leg.department for leg in e.legs} for e in later.entries)


def test_a_page_is_the_same_slice_of_the_whole_trail(store: Store, clock: FakeClock) -> None:
    fill(store, 100, clock(), person_messages=10)
    trail = Trail(store, Exemptions(store, RULES))

    whole = trail.entries(PERSON)
    pages = [trail.page(PERSON, page=n, page_size=4, view=CITIZEN) for n in (1, 2, 3, 4)]

    assert [p.total for p in pages] == [10] * 4
    assert [[e.reference for e in p.entries] for p in pages] == [
        [e.reference for e in whole[start : start + 4]] for start in (0, 4, 8, 12)
    ]
    assert pages[0].entries[0].legs == whole[0].legs
