"""13. Storage: a year of traffic. Operator queries before and after migration 0023_storage,
a prune pass per batch, `audit verify` (whole, from a checkpoint, across an archive), and the
size on disk per 1,000,000 messages with the ingest benchmark's size mix, before and after
pruning and after `govhub db compact`; on SQLite and on PostgreSQL when it is reachable.

The store is bulk-filled as the console benchmark fills it (bench/console.py: two legs, 1 TAX
leg in 50 failed, 1 in 200 retrying), spread over 90 days; 200,000 messages (--quick 5,000,
--storage-messages N). "Before" is the schema at 0016_batches, the queries as they were (a
leg condition as EXISTS per message) and, on SQLite, no planner statistics; "after" is head,
the queries of hub/operations/queries.py and the statistics `db upgrade` now gathers. Sizes
come from a sample of 2,000 messages (--quick 300) scaled to 1,000,000.
"""

from __future__ import annotations

import math
import statistics as stats
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, exists, func, select, text
from sqlalchemy.orm import Session

from bench.backends import postgresql_database, postgresql_missing
from bench.console import PERSON, fill
from bench.messages import mixed
from bench.stats import ratio
from hub.operations.prune import prune
from hub.operations.queries import leg_condition, message_conditions, page_ids
from hub.operations.views import MessageFilter
from hub.security import audit
from hub.security.archive import archive_segment, verify_everything, verify_from_checkpoint
from hub.security.checkpoints import Checkpoint
from hub.security.export import load_signing_key, new_signing_key
from hub.security.tables import audit_log
from hub.store import Store, migrate
from hub.store.compaction import compact, size_on_disk
from hub.store.models import DeliveryRow, MessageRow

FULL_MESSAGES, QUICK_MESSAGES = 200_000, 5_000
FULL_SAMPLE, QUICK_SAMPLE = 2_000, 300
SPAN = timedelta(days=90)
PRUNE_BATCH = 500
AUDIT_PER_MESSAGE = 3.5
PER_MILLION = 1_000_000
FILTERS = (
    ("--state failed", MessageFilter(state="failed")),
    ("--state retrying", MessageFilter(state="retrying")),
    ("--department TAX --state failed", MessageFilter(state="failed", department="TAX")),
    ("--person", MessageFilter(person=PERSON)),
)


def run(options: Any) -> dict[str, Any]:
    count = options.storage_messages or (QUICK_MESSAGES if options.quick else FULL_MESSAGES)
    sample = QUICK_SAMPLE if options.quick else FULL_SAMPLE
    rows: list[dict[str, Any]] = []
    for backend, url in _databases(options, "year"):
        rows += _year(backend, url, count, options.work)
    for backend, url in _databases(options, "sizes"):
        rows += _sizes(backend, url, sample)
    return {
        "name": "storage",
        "what": f"{count:,} messages over 90 days: operator queries, prune, audit verify (ms); "
        "size on disk per 1,000,000 messages (MB, size mix)",
        "rows": rows,
    }


@contextmanager
def _one(options: Any, backend: str, name: str) -> Iterator[str]:
    if backend == "PostgreSQL":
        with postgresql_database() as url:
            yield url
        return
    folder = options.work / f"storage-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    yield f"sqlite:///{(folder / 'hub.db').resolve()}"


def _databases(options: Any, name: str) -> Iterator[tuple[str, str]]:
    backends = [] if options.no_embedded else ["SQLite"]
    if not options.no_distributed and postgresql_missing() is None:
        backends.append("PostgreSQL")
    for backend in backends:
        with _one(options, backend, name) as url:
            yield backend, url


def _year(backend: str, url: str, count: int, work: Path) -> list[dict[str, Any]]:
    store = Store(url)
    migrate.upgrade(store.engine, "0016_batches")
    fill(store, count, datetime.now(UTC), spacing=SPAN / count)
    _forget_statistics(store)
    before = {name: _ms(lambda w=w: _ids(store, _old_ids(store, w))) for name, w in FILTERS}
    store.upgrade()  # 0023_storage, 0027_failures_newest, and SQLite's statistics
    after = {name: _ms(lambda w=w: _page(store, w)) for name, w in FILTERS}
    rows = [
        _row(backend, f"messages list {name}", before[name], after[name]) for name, _ in FILTERS
    ]
    rows.append(_prune_row(backend, store))
    rows += _audit_rows(backend, store, round(count * AUDIT_PER_MESSAGE), work)
    store.dispose()
    return rows


def _old_ids(store: Store, wanted: MessageFilter) -> Select[Any]:
    """The query before 0023_storage: each message newest first, its legs probed by EXISTS."""
    query = select(MessageRow.id).where(*message_conditions(wanted, store.identities))
    legs = leg_condition(wanted)
    if legs:
        query = query.where(exists().where(DeliveryRow.message_id == MessageRow.id, *legs))
    return query.order_by(MessageRow.received_at.desc(), MessageRow.id).limit(wanted.limit)


def _page(store: Store, wanted: MessageFilter) -> int:
    """The hub's own query: the ids of `messages list`'s page."""
    with Session(store.engine) as session:
        return len(page_ids(session, wanted, store.identities))


def _ids(store: Store, query: Select[Any]) -> int:
    with store.engine.connect() as connection:
        return len(connection.execute(query).all())


def _forget_statistics(store: Store) -> None:
    """SQLite as a hub left it before: never analysed. PostgreSQL: as autovacuum leaves it."""
    with store.engine.begin() as connection:
        if store.engine.dialect.name == "sqlite":
            connection.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))
        else:
            connection.execute(text("ANALYZE"))
    store.engine.dispose()  # new connections: SQLite reads its statistics when it opens


def _prune_row(backend: str, store: Store) -> dict[str, Any]:
    cutoff = store.clock() - timedelta(days=30)
    with store.engine.connect() as connection:
        old = connection.scalar(
            select(func.count()).select_from(MessageRow).where(MessageRow.received_at < cutoff)
        )
    batches = max(1, math.ceil(int(old or 0) / PRUNE_BATCH))
    started = time.perf_counter()
    report = prune(store, bodies_older_than=timedelta(days=30), batch_size=PRUNE_BATCH)
    per_batch = (time.perf_counter() - started) * 1000 / batches
    note = f"{report.bodies_pruned:,} bodies in {batches:,} batches of {PRUNE_BATCH}"
    return {
        "backend": backend,
        "measure": "prune, per batch",
        "after": round(per_batch, 1),
        "note": note,
    }


def _audit_rows(backend: str, store: Store, entries: int, work: Path) -> list[dict[str, Any]]:
    start = datetime.now(UTC) - SPAN
    step = SPAN / entries
    for first in range(0, entries, 5_000):
        chunk = [
            audit.NewEntry("TAX", audit.ACCEPTED, f"m{n}", start + step * n, {"n": n})
            for n in range(first, min(first + 5_000, entries))
        ]
        with store.engine.begin() as connection:
            audit.append_many(connection, chunk)
    with store.engine.connect() as connection:
        whole = _ms(lambda: audit.verify(connection), repeats=1)
        seq, _ = audit.head(connection)
        mark = max(1, seq - entries // 100)
        recent = Checkpoint(mark, _hash(connection, mark), datetime.now(UTC))
        since = _ms(lambda: verify_from_checkpoint(connection, recent), repeats=1)
    key_file = work / f"audit-{backend}.key"
    if not key_file.exists():
        new_signing_key(key_file)
    key = load_signing_key(key_file)
    archives = work / f"archive-{backend}"
    started = time.perf_counter()
    segment = archive_segment(
        store.engine,
        archives,
        key,
        before=datetime.now(UTC) - timedelta(days=30),
        checkpoint_dir=work / f"checkpoints-{backend}",
    )
    archived_ms = (time.perf_counter() - started) * 1000
    with store.engine.connect() as connection:
        across = _ms(lambda: verify_everything(connection, archives, key.public_key()), repeats=1)
        live = _ms(lambda: audit.verify(connection), repeats=1)
    moved = segment.entries if segment else 0
    return [
        {
            "backend": backend,
            "measure": f"audit verify, {entries:,} entries",
            "before": whole,
            "after": live,
            "ratio": ratio(live, whole),
            "note": f"after: the live table once {moved:,} were archived",
        },
        {
            "backend": backend,
            "measure": "audit verify --from-checkpoint (last 1%)",
            "after": since,
            "ratio": ratio(since, whole),
        },
        {
            "backend": backend,
            "measure": "audit verify --full (archive + live)",
            "after": across,
            "ratio": ratio(across, whole),
        },
        {
            "backend": backend,
            "measure": f"audit archive, {moved:,} entries",
            "after": round(archived_ms, 1),
        },
    ]


def _hash(connection: Any, seq: int) -> str:
    return str(connection.scalar(select(audit_log.c.hash).where(audit_log.c.seq == seq)))


def _sizes(backend: str, url: str, sample: int) -> list[dict[str, Any]]:
    store = Store(url)
    store.upgrade()
    empty = size_on_disk(store.engine)
    bodies = mixed(sample)
    fill(store, sample, datetime.now(UTC), spacing=SPAN / sample, body=lambda n: bodies[n])
    full = size_on_disk(store.engine)
    prune(store, bodies_older_than=timedelta(days=30), batch_size=PRUNE_BATCH)
    pruned = size_on_disk(store.engine)
    compacted = compact(store.engine, full=True)
    store.dispose()

    def per_million(size: int) -> float:
        return round((size - empty) * PER_MILLION / sample / 1e6, 1)

    note = f"sample of {sample:,} scaled; bodies kept 30 days of 90"
    return [
        {
            "backend": backend,
            "measure": "MB per 1,000,000 messages, filled",
            "after": per_million(full),
            "note": note,
        },
        {
            "backend": backend,
            "measure": "MB per 1,000,000, after prune",
            "after": per_million(pruned),
        },
        {
            "backend": backend,
            "measure": f"MB per 1,000,000, after db compact ({compacted.how})",
            "after": per_million(compacted.bytes_after),
        },
    ]


def _row(backend: str, measure: str, before: float, after: float) -> dict[str, Any]:
    return {
        "backend": backend,
        "measure": measure,
        "before": before,
        "after": after,
        "ratio": ratio(after, before),
    }


def _ms(work: Callable[[], object], repeats: int = 3) -> float:
    spent = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        spent.append((time.perf_counter() - started) * 1000)
    return round(stats.median(spent), 2)
