"""Migrations: run programmatically, repeatable, and in step with the ORM models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from backends import FakeClock, new_message
from sqlalchemy import insert, inspect, select

from hub.store import AttemptRecord, Store, accepting, migrate
from hub.store.models import AttemptRow, Base, DeliveryRow, MessageRow


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


def test_attempts_stored_before_they_were_numbered_stay_and_later_ones_are_numbered(
    database_url: str, clock: FakeClock
) -> None:
    store = Store(database_url, clock=clock)
    try:
        migrate.upgrade(store.engine, "0025_large_bodies")
        message, now = new_message(), clock()
        with store.engine.begin() as connection:  # a leg and two attempts as before 0026
            connection.execute(insert(MessageRow), accepting.message_values(message, now))
            leg = accepting.delivery_values(message, ["TAX"], now, now)[0]
            del leg["received_at"]  # 0027_failures_newest's column
            delivery_id = connection.execute(
                insert(DeliveryRow.__table__).returning(DeliveryRow.id), leg
            ).scalar_one()
            for _ in range(2):
                connection.execute(
                    insert(AttemptRow).values(
                        delivery_id=delivery_id, started_at=clock(), duration_ms=1, outcome="retry"
                    )
                )
        store.upgrade()
        claimed = store.claim(delivery_id, lease_seconds=30)
        assert claimed is not None
        assert store.record_attempt(claimed, AttemptRecord("delivered", clock(), 1)) == "delivered"
        with store.engine.connect() as connection:
            numbers = connection.scalars(select(AttemptRow.attempt).order_by(AttemptRow.id)).all()
    finally:
        store.dispose()
    assert numbers == [None, None, 1]
