"""Nonces checked at the same moment share one transaction, and a replay is still refused:
a nonce sent twice at once is taken once, whether the two land in one batch or two."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from hub.security.nonces import DatabaseNonceCache
from hub.store import Store

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def test_each_nonce_sent_twice_at_once_is_taken_once(store: Store) -> None:
    nonces = DatabaseNonceCache(store.engine)
    sent = [f"nonce-{n}".encode() for n in range(12)] * 2  # every nonce twice, all at once
    start = threading.Barrier(len(sent))

    def remember(nonce: bytes) -> tuple[bytes, bool]:
        start.wait()
        return nonce, nonces.remember("hub-320102", nonce, NOW + timedelta(minutes=5), NOW)

    with ThreadPoolExecutor(len(sent)) as pool:
        answers = list(pool.map(remember, sent))

    taken = {nonce: [ok for n, ok in answers if n == nonce] for nonce in set(sent)}
    assert all(sorted(oks) == [False, True] for oks in taken.values()), taken
    # Another user's same nonce is no replay; an expired one may be used again.
    assert nonces.remember("hub-320000", b"nonce-0", NOW + timedelta(minutes=5), NOW)
    later = NOW + timedelta(minutes=6)
    assert nonces.remember("hub-320102", b"nonce-0", later + timedelta(minutes=5), later)
    assert not nonces.remember("hub-320102", b"nonce-0", later + timedelta(minutes=5), later)
