"""Fixtures of the audit log's CLI tests, loaded as a pytest plugin by the files that use them
(`pytest_plugins = ["audit_fixtures"]`): not in conftest.py, where `engine` and `keys` would
clash with other files' fixtures of those names (a file's own fixture still wins over these)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from hub.security.export import new_signing_key, public_pem
from hub.store import Store


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """The hub's own SQLite file in the data dir, so the CLI reads the same log."""
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.upgrade()
    yield store.engine
    store.dispose()


@pytest.fixture
def engine(sqlite_engine: Engine) -> Engine:
    """The CLI tests' database: SQLite (a file may define its own `engine` to run on more)."""
    return sqlite_engine


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, str]:
    """The settings of a hub with its audit key pair; checkpoints in the default folder."""
    (tmp_path / "audit.pub").write_bytes(public_pem(new_signing_key(tmp_path / "audit.key")))
    return {
        "GOVHUB_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "audit.key"),
        "GOVHUB_AUDIT_PUBLIC_KEY_FILE": str(tmp_path / "audit.pub"),
    }
