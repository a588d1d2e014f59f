"""Fixtures parametrised over real backends: SQLite and PostgreSQL, memory:// and RabbitMQ."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import department_fakes  # noqa: F401  # `responses` fakes departments where the hub's HTTP leaves
import pytest
from backends import DEPARTMENTS, FakeClock, amqp_url, fresh_postgresql_database
from queue_cleanup import session_queue_prefix

from hub.bus import delete_queues
from hub.store import Store
from mock_departments.runner import MockDepartments, start_mock_departments

# The session's RabbitMQ queues and exchanges, swept when it ends (each xdist worker its own).
pytest_plugins = ["queue_cleanup"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.distributed)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
        return
    with fresh_postgresql_database() as url:
        yield url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(database_url: str, clock: FakeClock) -> Iterator[Store]:
    """A migrated store whose clock the test moves by hand."""
    store = Store(database_url, clock=clock)
    store.upgrade()
    yield store
    store.dispose()


@pytest.fixture
def live_store(database_url: str) -> Iterator[Store]:
    """A migrated store on the real clock, for tests with running worker threads."""
    store = Store(database_url)
    store.upgrade()
    yield store
    store.dispose()


@pytest.fixture(params=["memory", pytest.param("amqp", marks=pytest.mark.distributed)])
def bus_url(request: pytest.FixtureRequest) -> str:
    return "memory://" if request.param == "memory" else amqp_url()


@pytest.fixture
def queue_prefix(bus_url: str) -> Iterator[str]:
    """Queue names of this test only; deleted afterwards."""
    prefix = session_queue_prefix()
    yield prefix
    delete_queues(bus_url, list(DEPARTMENTS), prefix)


@pytest.fixture
def household(tmp_path: Path) -> Iterator[MockDepartments]:
    """The fourth mock department (household registration, PUBLIC_SECURITY) on a free port,
    not known to the hub until a test registers its package."""
    mocks = start_mock_departments(
        data_dir=tmp_path / "household", ports={"PUBLIC_SECURITY": 0}, codes=["PUBLIC_SECURITY"]
    )
    try:
        yield mocks
    finally:
        mocks.stop()
