"""Planner statistics: SQLite keeps none until ``ANALYZE`` runs, and without them picks the
wrong index for a state filter (12 s at 200,000 messages; 21 ms after). PostgreSQL's
autovacuum analyses on its own; SQLite is analysed after every migration and by the worker
service's pruning pass (hub/operations/prune.py)."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

# Rows read per index: approximate statistics in milliseconds, however large the database.
ANALYSIS_LIMIT = 1000


def refresh(engine: Engine) -> None:
    """Analyse a SQLite database (sampled); nothing on other databases."""
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as connection:
        refresh_on(connection)


def analysed(connection: Connection) -> bool:
    """Whether SQLite has statistics (other databases: always)."""
    if connection.dialect.name != "sqlite":
        return True
    found = connection.scalar(
        text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
    )
    return bool(found)


def refresh_on(connection: Connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    connection.execute(text(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}"))
    connection.execute(text("ANALYZE"))
