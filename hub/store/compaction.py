"""Returning space to the disk after pruning: pruning empties bodies and deletes rows, and
both databases keep the freed pages for reuse instead of giving them back.

- SQLite: ``VACUUM`` rewrites the file without its free pages, then the WAL is truncated. It
  holds the write lock for the whole rewrite (readers go on, writers wait up to the busy
  timeout of 10 s and then fail), and needs free disk space as large as the database.
- PostgreSQL: ``VACUUM`` (the default) marks dead rows reusable and returns only empty pages
  at a table's end; it takes no lock that blocks reading or writing. ``VACUUM FULL``
  (``full=True``) rewrites each table compactly and returns everything, under an ACCESS
  EXCLUSIVE lock per table: Submit and the workers wait for that table's rewrite. For no
  downtime use pg_repack (an extension, outside the hub).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

# The tables that grow with traffic, largest first.
GROWING_TABLES = (
    "audit_log",
    "messages",
    "deliveries",
    "attempts",
    "message_identities",
    "operator_actions",
)


@dataclass(frozen=True)
class Compacted:
    database: str
    how: str
    bytes_before: int
    bytes_after: int


def compact(engine: Engine, *, full: bool = False) -> Compacted:
    if engine.dialect.name == "sqlite":
        return _sqlite(engine)
    return _postgresql(engine, full)


def size_on_disk(engine: Engine) -> int:
    """The database's bytes on disk (SQLite: the file and its WAL)."""
    if engine.dialect.name == "sqlite":
        path = Path(str(engine.url.database))
        wal = path.with_name(path.name + "-wal")
        return sum(p.stat().st_size for p in (path, wal) if p.exists())
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_database_size(current_database())")) or 0)


def _sqlite(engine: Engine) -> Compacted:
    before = size_on_disk(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM"))
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    return Compacted("sqlite", "VACUUM", before, size_on_disk(engine))


def _postgresql(engine: Engine, full: bool) -> Compacted:
    before = size_on_disk(engine)
    how = "VACUUM (FULL, ANALYZE)" if full else "VACUUM (ANALYZE)"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in GROWING_TABLES:  # one lock at a time, the shortest hold for each table
            connection.execute(text(f"{how} {table}"))
    return Compacted("postgresql", how, before, size_on_disk(engine))
