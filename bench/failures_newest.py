"""An experiment beside `python -m bench`: state filters at 1,000,000 messages on PostgreSQL,
before and after migration 0027_failures_newest, whatever the failures' age.

    python -m bench.failures_newest fill 1000000   # once: ~10 min on the shared machine
    python -m bench.failures_newest measure        # as often as wanted: the database is kept

``fill`` makes the database ``govhub_bench_newest_0027`` (dropped first if it exists) at
0026_attempt_numbers, the schema before the legs carried their message's arrival, and fills it
as bench/storage.py does (bench/console.py: two legs a message, 1 TAX leg in 50 failed, 1 in
200 retrying, 90 days). ``measure`` first times the "before" query there (0023's: the legs not
delivered read whole, then their messages sorted), then migrates to head (timed: the column
filled for every leg, the two partial indexes built) and alternates "before" and "after"
(``page_ids``: the legs walked newest first through 0027's indexes, stopped at the page),
``ROUNDS`` times each. Two cases: failures spread evenly (as filled) and old failures (those of
the newest 60 days marked delivered), each vacuumed as autovacuum would. Each figure: median
of 5, ms, the ids of the first page (50).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.backends import DEFAULT_DATABASE_URL, _env
from bench.console import fill
from bench.storage import _ms
from hub.operations.queries import filtered, page_ids
from hub.operations.views import MessageFilter
from hub.store import Store, migrate
from hub.store.models import DeliveryRow, MessageRow

# Not the experiment's govhub_bench_failures_newest: its candidate column is in the way of 0027.
NAME = "govhub_bench_newest_0027"
BEFORE_SCHEMA = "0026_attempt_numbers"
REPEATS = 5
ROUNDS = 2
FILTERS = {
    "--state failed": MessageFilter(state="failed"),
    "--department TAX --state failed": MessageFilter(state="failed", department="TAX"),
    "--state retrying": MessageFilter(state="retrying"),
}
# Old failures: those of the newest 60 days marked delivered (and back afterwards).
MARKED = "ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS was_failed boolean"
MAKE_OLD = (
    "UPDATE deliveries d SET state = 'delivered', was_failed = true FROM messages m "
    "WHERE m.id = d.message_id AND d.state = 'failed' "
    "AND m.received_at > now() - interval '60 days'"
)
MAKE_SPREAD = "UPDATE deliveries SET state = 'failed', was_failed = NULL WHERE was_failed"
CASES = {"spread": MAKE_SPREAD, "old": MAKE_OLD}


def _urls() -> tuple[str, str]:
    base = make_url(_env("DATABASE_URL", DEFAULT_DATABASE_URL))
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    return admin, base.set(database=NAME).render_as_string(hide_password=False)


def fill_database(count: int) -> None:
    admin, url = _urls()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{NAME}"')
    store = Store(url)
    migrate.upgrade(store.engine, BEFORE_SCHEMA)
    started = time.perf_counter()
    fill(store, count, datetime.now(UTC), spacing=timedelta(days=90) / count)
    print(f"filled {count:,} messages in {time.perf_counter() - started:.0f} s")
    store.dispose()


def measure() -> None:
    store = Store(_urls()[1])
    _run(store, (MARKED,))
    if migrate.schema_behind(store.engine) is not None:
        for case in CASES:
            _report(case, "before at 0026", _times(store, case, _before))
        _migrated(store)
    for round_ in range(1, ROUNDS + 1):
        for case in CASES:
            _report(case, f"before, round {round_}", _times(store, case, _before))
            _report(case, f"after, round {round_}", _times(store, case, _after))
    _run(store, (MAKE_SPREAD,))
    _vacuumed(store)
    store.dispose()


def _migrated(store: Store) -> None:
    with store.engine.connect() as connection:
        legs = connection.scalar(select(func.count()).select_from(DeliveryRow))
    started = time.perf_counter()
    store.upgrade()
    print(f"0027_failures_newest on {legs:,} legs: {time.perf_counter() - started:.1f} s")


def _times(
    store: Store, case: str, query: Callable[[Store, MessageFilter], int]
) -> dict[str, float]:
    _run(store, (CASES[case],))
    _vacuumed(store)
    return {name: _ms(lambda w=w: query(store, w), REPEATS) for name, w in FILTERS.items()}


def _before(store: Store, wanted: MessageFilter) -> int:
    """The hub's query before 0027 (0023_storage's): ``filtered`` still builds it for a state
    beside a person."""
    query = filtered(wanted, store.identities)
    query = query.order_by(MessageRow.received_at.desc(), MessageRow.id).limit(wanted.limit)
    with store.engine.connect() as connection:
        return len(connection.execute(query).all())


def _after(store: Store, wanted: MessageFilter) -> int:
    with Session(store.engine) as session:
        return len(page_ids(session, wanted, store.identities))


def _report(case: str, what: str, times: dict[str, float]) -> None:
    figures = "  ".join(f"{name} {ms:8.1f}" for name, ms in times.items())
    print(f"{case:7} {what:22} {figures}", flush=True)


def _vacuumed(store: Store) -> None:
    """The legs as autovacuum leaves them after a change of state: the old row versions
    gone from the indexes, statistics fresh, pages all-visible (index-only scans)."""
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE deliveries"))


def _run(store: Store, statements: tuple[str, ...]) -> None:
    with store.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


if __name__ == "__main__":
    if sys.argv[1:2] == ["fill"]:
        fill_database(int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000)
    else:
        measure()
