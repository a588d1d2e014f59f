"""The accept writer alone: CPU of this process per message stored by a group-commit batch.

``Store.save_accepted_batch`` (what the group-commit writer thread runs for every batch) on a
fresh database, batches of 1, 8 and 32 messages with two receivers and their identity rows,
one thread: the API process's share of storing an accepted message, without HTTP, parsing or
the bus. CPU is ``time.process_time`` of this process (the database server's is not in it).
The baseline in the same run is the batch of one: what a lone message costs. Compare trees by
running this module with ``PYTHONPATH`` on the other tree's checkout (docs/performance.md).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from bench.backends import postgresql_database, postgresql_missing
from bench.messages import stored_message
from bench.stats import ratio
from bench.validate_map import EXAMPLES
from hub.store import Store
from hub.store.identities import identity_numbers

BATCH_SIZES = (1, 8, 32)
RECEIVERS = ("SOCIAL_SECURITY", "TAX")


def run(options: Any) -> dict[str, Any]:
    canonical = (EXAMPLES / "MarriageRegistered.xml").read_bytes()
    rows: list[dict[str, Any]] = []
    databases: list[tuple[str, Callable[[Path], AbstractContextManager[str]]]] = [
        ("SQLite", _sqlite)
    ]
    if postgresql_missing() is None:
        databases.insert(0, ("PostgreSQL", _postgresql))
    for name, database in databases:
        with database(options.work) as url:
            store = Store(url)
            store.upgrade()
            try:
                _write(store, canonical, 1, 0.2)  # connections, prepared statements
                alone: float | None = None
                for size in BATCH_SIZES:
                    cpu_us, per_second = _write(store, canonical, size, options.seconds)
                    alone = alone or cpu_us
                    rows.append(_row(name, size, cpu_us, per_second, alone))
            finally:
                store.dispose()
    return {
        "name": "accept_writes",
        "what": "Store.save_accepted_batch alone, one thread: CPU of this process per message",
        "skipped": postgresql_missing(),
        "rows": rows,
    }


def _write(store: Store, canonical: bytes, size: int, seconds: float) -> tuple[float, float]:
    """(µs of CPU per message, messages per second) over ``seconds`` of batches."""
    numbers = identity_numbers(canonical)
    written, cpu_started, started = 0, time.process_time(), time.perf_counter()
    while time.perf_counter() - started < seconds:
        batch = [(stored_message(canonical, numbers), RECEIVERS) for _ in range(size)]
        store.save_accepted_batch(batch, lease_seconds=30)
        written += size
    cpu, wall = time.process_time() - cpu_started, time.perf_counter() - started
    return cpu * 1e6 / written, written / wall


def _row(
    database: str, size: int, cpu_us: float, per_second: float, alone: float
) -> dict[str, Any]:
    return {
        "database": database,
        "batch": size,
        "cpu_us_per_message": round(cpu_us, 1),
        "ratio_to_alone": ratio(cpu_us, alone),
        "messages_per_second": round(per_second, 1),
    }


@contextmanager
def _postgresql(_work: Path) -> Iterator[str]:
    with postgresql_database() as url:
        yield url


@contextmanager
def _sqlite(work: Path) -> Iterator[str]:
    folder = work / f"accept-writes-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    yield f"sqlite:///{folder / 'hub.db'}"
