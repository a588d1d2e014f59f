"""Migrations: run programmatically, repeatable, and in step with the ORM models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from hub.store import Store
from hub.store.models import Base


def test_upgrade_creates_the_tables_and_can_run_again(store: Store) -> None:
    store.upgrade()
    tables = set(inspect(store.engine).get_table_names())
    assert {"messages", "deliveries", "attempts", "alembic_version"} <= tables


def test_the_migrations_match_the_models(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_durable_commits(tmp_path: object) -> None:
    store = Store(f"sqlite:///{tmp_path}/wal.db")
    try:
        with store.engine.connect() as connection:
            pragmas = [
                connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "synchronous")
            ]
    finally:
        store.dispose()
    assert pragmas == ["wal", 1, 2]  # synchronous=FULL: a receipt's commit survives power loss
