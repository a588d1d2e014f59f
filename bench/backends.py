"""PostgreSQL and RabbitMQ for the distributed runs; skipped with a clear line when absent.

URLs: GOVHUB_BENCH_DATABASE_URL (a role that may create databases) and GOVHUB_BENCH_AMQP_URL,
else the test suite's GOVHUB_TEST_* variables, else the defaults below.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import kombu
import psycopg
from sqlalchemy.engine import make_url

from hub.bus import delete_queues

DEFAULT_DATABASE_URL = "postgresql+psycopg://govhub:govhub@127.0.0.1:5432/govhub_test"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
_kombu: Any = kombu


def _env(name: str, default: str) -> str:
    return (
        os.environ.get(f"GOVHUB_BENCH_{name}") or os.environ.get(f"GOVHUB_TEST_{name}") or default
    )


def distributed_missing() -> str | None:
    """Why the distributed setup cannot run here, or None if it can."""
    missing = postgresql_missing()
    if missing:
        return missing
    try:
        with _kombu.Connection(_env("AMQP_URL", DEFAULT_AMQP_URL), connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        return f"RabbitMQ is not reachable ({exc})"
    return None


def postgresql_missing() -> str | None:
    """Why PostgreSQL cannot be used here, or None if it can."""
    admin = make_url(_env("DATABASE_URL", DEFAULT_DATABASE_URL)).set(drivername="postgresql")
    try:
        with psycopg.connect(admin.render_as_string(hide_password=False), connect_timeout=3):
            pass
    except psycopg.Error as exc:
        return f"PostgreSQL is not reachable ({str(exc).strip().splitlines()[0]})"
    return None


@contextmanager
def postgresql_database() -> Iterator[str]:
    """A new, empty database for one run, dropped afterwards."""
    base = make_url(_env("DATABASE_URL", DEFAULT_DATABASE_URL))
    name = f"govhub_bench_{uuid.uuid4().hex[:10]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def amqp_queues(departments: list[str]) -> Iterator[tuple[str, str]]:
    """The broker URL and a queue prefix of this run only; the queues are deleted afterwards."""
    url, prefix = _env("AMQP_URL", DEFAULT_AMQP_URL), f"govhub.bench.{uuid.uuid4().hex[:8]}."
    try:
        yield url, prefix
    finally:
        delete_queues(url, departments, prefix)
