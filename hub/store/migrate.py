"""Run the store's Alembic migrations programmatically (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from hub.security.encryption import KeyRing
from hub.store import statistics

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_REVISION = "SELECT version_num FROM alembic_version"


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


def schema_behind(engine: Engine) -> str | None:
    """Why the database's schema is not the newest this code knows (None: it is): no hub
    tables at all, or an older revision."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = scripts.get_current_head()
    with engine.connect() as connection:  # read directly: alembic's context logs each time
        known = inspect(connection).has_table("alembic_version")
        current = connection.execute(text(_REVISION)).scalar() if known else None
    if current == head:
        return None
    if current is None:
        return f"the database has no hub tables yet (this hub needs revision {head})"
    if current not in {script.revision for script in scripts.walk_revisions()}:
        return f"the database schema is at revision {current}, newer than this hub's {head}"
    return f"the database schema is at revision {current}, this hub needs {head}"
