"""The hub's readiness checks: its database, its bus, its configuration."""

from __future__ import annotations

from sqlalchemy import Engine, text

from hub import bus
from hub.configuration.live import LiveConfiguration
from hub.errors import ConfigurationError
from hub.observability.readiness import Check


def database(engine: Engine) -> Check:
    """A connection, and the schema's version table read through it: a database that
    accepts connections but lost or never got the hub's tables is not usable."""

    def probe() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT version_num FROM alembic_version")).all()

    return Check("database", probe)


def bus_connection(url: str, timeout_seconds: float) -> Check:
    return Check("bus", lambda: bus.check_connection(url, timeout_seconds))


def configuration(live: LiveConfiguration) -> Check:
    """The configuration in use, and the newest one stored loaded without error (a failed
    reload leaves the hub on an older configuration than the operators made)."""

    def probe() -> None:
        failure = live.failure
        if failure is not None:
            raise ConfigurationError(failure)

    return Check("configuration", probe)
