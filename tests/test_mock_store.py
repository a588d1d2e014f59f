"""The mock departments' own SQLite store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.errors import NotFound
from hub.identity import make_number
from mock_departments.store import PENDING, PUSHED, DeliveryCounts, MockStore, store_path

ZHANG = make_number("11010519900307", "123")
LI = make_number("11010519920611", "124")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MockStore]:
    store = MockStore(store_path(tmp_path, "TAX"), reference_prefix="TAX-")
    yield store
    store.close()


def keep(store: MockStore, key: str, kind: str = "marital-event", *numbers: str) -> bool:
    _, is_new = store.record(key=key, kind=kind, payload=key, encoding="UTF-8", id_numbers=numbers)
    return is_new


def test_store_lives_under_the_data_dir_by_department_code(tmp_path: Path) -> None:
    assert store_path(tmp_path, "TAX") == tmp_path / "mock_departments" / "TAX.db"


def test_store_ignores_a_repeated_idempotency_key(store: MockStore) -> None:
    assert keep(store, "k1") is True
    assert keep(store, "k1") is False
    assert store.count() == 1


def test_store_counts_the_repeats_it_ignored(store: MockStore) -> None:
    keep(store, "k1")
    keep(store, "k1")
    keep(store, "k1")
    keep(store, "k2")

    assert store.repeats() == 2


def test_store_counts_every_delivery_it_received_kept_or_repeated(store: MockStore) -> None:
    keep(store, "k1")
    keep(store, "k1")
    keep(store, "k2")

    assert store.deliveries() == DeliveryCounts(received=3, applied=2, repeated=1, applied_twice=0)
    assert store.deliveries_of("k1") == 2


def test_store_sees_one_record_applied_twice_under_two_keys(store: MockStore) -> None:
    store.record(key="k1", kind="marital-event", payload='{"n": 1}', encoding="UTF-8")
    store.record(key="k2", kind="marital-event", payload='{"n": 1}', encoding="UTF-8")
    store.record(key="k3", kind="marital-event", payload='{"n": 2}', encoding="UTF-8")

    assert store.deliveries().applied_twice == 1
    assert store.count() == 3  # the key alone cannot see it


def test_store_answers_a_repeat_with_the_first_reference(store: MockStore) -> None:
    first, _ = store.record(key="k1", kind="a", payload="one", encoding="UTF-8")
    again, _ = store.record(key="k1", kind="a", payload="two", encoding="UTF-8")
    assert again.reference == first.reference == "TAX-00000001"
    assert store.get("k1").payload == "one"


def test_store_counts_records_per_kind(store: MockStore) -> None:
    for n in range(3):
        keep(store, f"m{n}", "marital-event")
    keep(store, "e1", "insurance-enrollment")
    assert store.count() == 4
    assert store.count("marital-event") == 3
    assert store.count_by_kind() == {"insurance-enrollment": 1, "marital-event": 3}


def test_store_lists_received_records_a_page_at_a_time(store: MockStore) -> None:
    for n in range(5):
        keep(store, f"k{n}")
    page = store.received(limit=2, offset=2)
    assert [r.idempotency_key for r in page] == ["k2", "k3"]
    assert store.keys() == {f"k{n}" for n in range(5)}


def test_store_finds_records_by_identity_number(store: MockStore) -> None:
    keep(store, "k1", "marital-event", ZHANG, LI)
    keep(store, "k2", "insurance-enrollment", LI)
    assert [r.idempotency_key for r in store.received_for(LI)] == ["k1", "k2"]
    assert [r.idempotency_key for r in store.received_for(ZHANG)] == ["k1"]


def test_store_says_not_found_for_an_unknown_key(store: MockStore) -> None:
    with pytest.raises(NotFound):
        store.get("nope")


def test_store_takes_concurrent_deliveries_from_many_threads(store: MockStore) -> None:
    def deliver(offset: int) -> None:
        for n in range(50):
            keep(store, f"k{(offset + n) % 120}")  # overlapping keys: repeats must be ignored

    threads = [threading.Thread(target=deliver, args=(i * 30,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.count() == len(store.keys()) == 120


def test_store_keeps_what_it_received_across_a_restart(tmp_path: Path) -> None:
    path = store_path(tmp_path, "TAX")
    first = MockStore(path)
    keep(first, "k1")
    first.close()
    again = MockStore(path)
    assert again.count() == 1
    again.close()


def test_outbox_records_each_push_attempt(store: MockStore) -> None:
    entry_id = store.add_outbox(
        key="ADDR-1", kind="address-change", path="/native/TAX", content_type="a/b", body=b"{}"
    )
    store.mark(entry_id, PENDING, "hub unreachable")
    store.mark(entry_id, PUSHED)
    entry = store.outbox_entry("ADDR-1")
    assert (entry.status, entry.attempts, entry.last_error) == (PUSHED, 2, None)
    assert store.count_outbox() == {PUSHED: 1}
    assert store.outbox(status=PENDING) == []
