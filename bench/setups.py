"""The two ways the hub runs, as environments for its processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.backends import amqp_queues, postgresql_database

DEPARTMENTS = ["MARRIAGE_REGISTRY", "SOCIAL_SECURITY", "TAX"]


@contextmanager
def embedded(work: Path) -> Iterator[dict[str, str]]:
    """SQLite (WAL) in a fresh folder and the in-process memory:// bus."""
    yield {"GOVHUB_DATA_DIR": str(work / "hub-embedded"), "GOVHUB_BUS_URL": "memory://"}


@contextmanager
def distributed(work: Path) -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database and queues of this run only on RabbitMQ."""
    with postgresql_database() as database_url, amqp_queues(DEPARTMENTS) as (bus, prefix):
        env = {
            "GOVHUB_DATA_DIR": str(work / "hub-distributed"),
            "GOVHUB_DATABASE_URL": database_url,
            "GOVHUB_BUS_URL": bus,
            "GOVHUB_QUEUE_PREFIX": prefix,
        }
        subprocess.run(
            [sys.executable, "-m", "hub", "db", "upgrade"],
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )
        yield env
