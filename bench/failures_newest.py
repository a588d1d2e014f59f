"""An experiment, not part of `python -m bench`: would a "newest failures first" index make
state filters cheap at 1,000,000 messages on PostgreSQL whatever the failures' age?

    python -m bench.failures_newest fill 1000000   # once: ~10 min on the shared machine
    python -m bench.failures_newest measure        # as often as wanted: the database is kept

``fill`` makes the database ``govhub_bench_failures_newest`` (dropped first if it exists) at
the head schema and fills it as bench/storage.py does (bench/console.py: two legs a message,
1 TAX leg in 50 failed, 1 in 200 retrying, 90 days). ``measure`` gives, per filter, the query
before 0023_storage (messages newest first, an EXISTS per message), the hub's query now
(0023's partial index, the legs read first) and the candidate: the message's arrival copied
onto the leg (``deliveries.received_at``, only in this database) with partial indexes
``(state, received_at DESC)`` and ``(state, department, received_at DESC)`` WHERE state <>
'delivered', walked newest first and stopped at the page. Two cases: failures spread evenly
(as filled) and old failures (only in the oldest 30 of the 90 days). Median of 5, ms.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import TextClause, text
from sqlalchemy.engine import make_url

from bench.backends import DEFAULT_DATABASE_URL, _env
from bench.console import fill
from bench.storage import _ms, _old_ids
from hub.operations.queries import matching_ids
from hub.operations.views import MessageFilter
from hub.store import Store

NAME = "govhub_bench_failures_newest"
REPEATS = 5
FILTERS = {
    "--state failed": MessageFilter(state="failed"),
    "--department TAX --state failed": MessageFilter(state="failed", department="TAX"),
    "--state retrying": MessageFilter(state="retrying"),
}
CANDIDATE = (
    "ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS received_at timestamptz",
    "ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS was_failed boolean",
    "UPDATE deliveries d SET received_at = m.received_at FROM messages m "
    "WHERE m.id = d.message_id AND d.state <> 'delivered' AND d.received_at IS NULL",
    "CREATE INDEX IF NOT EXISTS ix_candidate_newest ON deliveries "
    "(state, received_at DESC, message_id) WHERE state <> 'delivered'",
    "CREATE INDEX IF NOT EXISTS ix_candidate_department_newest ON deliveries "
    "(state, department, received_at DESC) WHERE state <> 'delivered'",
    "ANALYZE deliveries",
)
# Old failures: those of the newest 60 days marked delivered (and back afterwards).
MAKE_OLD = (
    "UPDATE deliveries d SET state = 'delivered', was_failed = true FROM messages m "
    "WHERE m.id = d.message_id AND d.state = 'failed' "
    "AND m.received_at > now() - interval '60 days'"
)
MAKE_SPREAD = "UPDATE deliveries SET state = 'failed', was_failed = NULL WHERE was_failed"


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
    store.upgrade()
    started = time.perf_counter()
    fill(store, count, datetime.now(UTC), spacing=timedelta(days=90) / count)
    print(f"filled {count:,} messages in {time.perf_counter() - started:.0f} s")
    store.dispose()


def measure() -> None:
    store = Store(_urls()[1])
    _run(store, CANDIDATE)
    for case, statement in (("spread", MAKE_SPREAD), ("old", MAKE_OLD)):
        _run(store, (statement, "ANALYZE deliveries"))
        for name, wanted in FILTERS.items():
            before = _ms(lambda w=wanted: _count(store, _old_ids(store, w)), REPEATS)
            now = _ms(lambda w=wanted: _count(store, matching_ids(w, store.identities)), REPEATS)
            candidate = _ms(lambda w=wanted: _count(store, *_candidate(w)), REPEATS)
            print(
                f"{case:7} {name:33} before 0023 {before:8.1f}  now {now:7.1f}  "
                f"candidate {candidate:5.1f}"
            )
    _run(store, (MAKE_SPREAD, "ANALYZE deliveries"))
    store.dispose()


def _candidate(wanted: MessageFilter) -> tuple[TextClause, dict[str, Any]]:
    """The legs newest first (a message with two such legs comes twice: the page is twice
    the limit, as a real query would read before it dropped the repeats)."""
    department = "AND d.department = :department " if wanted.department else ""
    query = text(
        "SELECT d.message_id FROM deliveries d JOIN messages m ON m.id = d.message_id "
        f"WHERE d.state <> 'delivered' AND d.state = :state {department}"
        "AND m.pruned_at IS NULL ORDER BY d.received_at DESC, d.message_id LIMIT :page"
    )
    params = {"state": wanted.state, "department": wanted.department, "page": 2 * wanted.limit}
    return query, params


def _run(store: Store, statements: tuple[str, ...]) -> None:
    with store.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def _count(store: Store, query: Any, params: dict[str, Any] | None = None) -> int:
    with store.engine.connect() as connection:
        return len(connection.execute(query, params or {}).all())


if __name__ == "__main__":
    if sys.argv[1:2] == ["fill"]:
        fill_database(int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000)
    else:
        measure()
