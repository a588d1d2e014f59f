"""The delivery side's writes alone, on PostgreSQL: CPU of this process per delivery claimed
and recorded through the group writers, and per relay statement.

- ``writers``: one ``AttemptCommitter`` (batches of up to 64), ``threads`` delivery threads
  each claiming and recording its deliveries (two legs per message), after a warm-up.
- ``release``: ``Store.release_leases`` of 1 to 64 ids (a varying count, as the relay's
  failed publishes come).
- ``relay``: ``Store.due_deliveries`` of up to 64 legs with one to three held departments
  (a varying count), every leg due again at each pass.

CPU is ``time.process_time`` (the server's is not in it). Compare trees by running this
module from a folder that links this ``bench`` with ``PYTHONPATH`` on the other tree, runs
alternated (docs/performance.md, goal 1).
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bench.backends import postgresql_database
from bench.messages import stored_message
from bench.validate_map import EXAMPLES
from hub.store import AttemptRecord, Store
from hub.store.attempt_commit import AttemptCommitter

RECEIVERS = ("SOCIAL_SECURITY", "TAX")
HELD = ("SOCIAL_SECURITY", "TAX", "CIVIL_AFFAIRS")


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _legs(store: Store, messages: int) -> list[int]:
    canonical = (EXAMPLES / "MarriageRegistered.xml").read_bytes()
    batch = [(stored_message(canonical, ()), RECEIVERS) for _ in range(messages)]
    receipts = store.save_accepted_batch(batch, lease_seconds=30)
    return [d.delivery_id for r in receipts for d in r.deliveries]


def _writers(store: Store, ids: Sequence[int], threads: int) -> float:
    """ms of CPU per delivery claimed and recorded by ``threads`` threads."""
    committer = AttemptCommitter(store, lease_seconds=30, max_batch=64)

    def deliver(mine: Sequence[int]) -> None:
        for delivery_id in mine:
            taken = committer.claim(delivery_id, lease_seconds=30)
            assert taken is not None, "a leg of the benchmark was not claimable"
            attempt = AttemptRecord("delivered", store.clock(), 1, payload=b"<doc/>" * 50)
            committer.record_attempt(taken, attempt)

    workers = [threading.Thread(target=deliver, args=(ids[n::threads],)) for n in range(threads)]
    started = time.process_time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return 1000 * (time.process_time() - started) / len(ids)


def _release(store: Store, ids: Sequence[int], calls: int) -> float:
    """µs of CPU per ``release_leases`` call of 1-64 ids."""
    pick = random.Random(7)
    started = time.process_time()
    for _ in range(calls):
        store.release_leases(pick.sample(ids, pick.randint(1, 64)))
    return 1e6 * (time.process_time() - started) / calls


def _relay(store: Store, clock: _Clock, calls: int) -> float:
    """µs of CPU per relay pass (``due_deliveries`` of up to 64, 1-3 departments held)."""
    pick = random.Random(11)
    started = time.process_time()
    for _ in range(calls):
        clock.now += timedelta(seconds=31)
        store.due_deliveries(64, held=frozenset(pick.sample(HELD, pick.randint(1, 3))))
    return 1e6 * (time.process_time() - started) / calls


def measure(deliveries: int, threads: int, calls: int) -> dict[str, float]:
    with postgresql_database() as url:
        clock = _Clock()
        store = Store(url, clock=clock)
        store.upgrade()
        try:
            warm, ids = _legs(store, 50), _legs(store, deliveries // 2)
            _writers(store, warm, threads)
            writers_ms = _writers(store, ids, threads)
            spare = _legs(store, 500)
            _release(store, spare, 20)
            release_us = _release(store, spare, calls)
            _relay(store, clock, 20)
            relay_us = _relay(store, clock, calls)
        finally:
            store.dispose()
    return {
        "writers_ms_per_delivery": round(writers_ms, 3),
        "release_us_per_call": round(release_us, 1),
        "relay_us_per_pass": round(relay_us, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.attempt_writes", description=__doc__)
    parser.add_argument("--deliveries", type=int, default=1400)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--calls", type=int, default=400)
    options = parser.parse_args()
    print(json.dumps(measure(options.deliveries, options.threads, options.calls)))


if __name__ == "__main__":
    main()
