"""Run the store's Alembic migrations programmatically (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from hub.security.encryption import KeyRing
from hub.store import statistics

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser treats % as interpolation; a password may contain one.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head", *, key_ring: KeyRing | None = None) -> None:
    """``alembic upgrade <revision>`` on the engine's database, in one transaction.
    ``key_ring``: for a migration that opens sealed bodies (0007 rehashes the identity index)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["key_ring"] = key_ring
        before = MigrationContext.configure(connection).get_current_heads()
        command.upgrade(config, revision)
        # The planner's view of new indexes, or of a database never analysed; not on every
        # command's start (each migrates): ANALYZE takes SQLite's write lock.
        after = MigrationContext.configure(connection).get_current_heads()
        if before != after or not statistics.analysed(connection):
            statistics.refresh_on(connection)
