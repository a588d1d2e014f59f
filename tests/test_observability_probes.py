"""GET /health and GET /ready on a real running hub: its database, bus and configuration."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import requests
from backends import fresh_postgresql_database
from hubstack import running_hub
from sqlalchemy import make_url

from hub.observability.readiness import Check, Readiness
from hub.polling import wait_for

# The bound of an answer to /ready (issue 11: "answered within 5 s").
READY_ANSWER_SECONDS = 5.0


def ready(base_url: str) -> requests.Response:
    return requests.get(f"{base_url}/ready", timeout=READY_ANSWER_SECONDS)


def test_a_running_hub_is_alive_and_ready(tmp_path: Path) -> None:
    with running_hub(tmp_path) as hub:
        health = requests.get(f"{hub.server.url}/health", timeout=5)
        answer = ready(hub.server.url)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert answer.status_code == 200
    assert answer.json() == {
        "ready": True,
        "failing": [],
        "checks": {"database": "ok", "bus": "ok", "configuration": "ok"},
    }


@pytest.mark.distributed
def test_ready_answers_503_naming_the_database_when_it_refuses_connections(
    tmp_path: Path,
) -> None:
    with (
        fresh_postgresql_database() as url,
        running_hub(tmp_path, database_url=url, ready_cache_seconds=0.0) as hub,
    ):
        assert ready(hub.server.url).status_code == 200
        with connections_refused(url):
            answer = ready(hub.server.url)
        recovered = wait_for(lambda: ready(hub.server.url).status_code == 200, 10)
    assert answer.status_code == 503
    assert answer.json()["failing"] == ["database"]
    assert answer.json()["checks"]["bus"] == "ok"
    assert recovered, "ready again once the database takes connections"


@pytest.mark.distributed
def test_ready_answers_503_naming_the_bus_when_its_url_cannot_connect(tmp_path: Path) -> None:
    bus_url = f"amqp://guest:guest@127.0.0.1:{closed_port()}//"
    with running_hub(tmp_path, bus_url=bus_url) as hub:
        answer = ready(hub.server.url)
    assert answer.status_code == 503
    assert answer.json()["failing"] == ["bus"]
    assert answer.json()["checks"]["database"] == "ok"
    assert "127.0.0.1" not in answer.text, "the detail goes to the log, not to anyone asking"


def test_ready_answers_in_time_when_the_bus_never_answers(tmp_path: Path) -> None:
    with (
        silent_server() as port,
        running_hub(
            tmp_path, bus_url=f"amqp://guest:guest@127.0.0.1:{port}//", ready_check_seconds=1.0
        ) as hub,
    ):
        answer = ready(hub.server.url)  # within its timeout: a hung bus does not hang /ready
    assert answer.status_code == 503
    assert answer.json()["checks"]["bus"] == "no answer in time"


def test_ready_keeps_its_verdict_for_the_cache_time_then_checks_again() -> None:
    now, calls = [0.0], []
    readiness = Readiness(
        [Check("database", lambda: calls.append("database"))],
        timeout_seconds=1.0,
        cache_seconds=2.0,
        clock=lambda: now[0],
    )
    readiness.verdict()
    now[0] = 1.9
    readiness.verdict()  # a flood of probes is not a flood of checks
    assert calls == ["database"]
    now[0] = 4.0
    assert readiness.verdict().ready
    assert calls == ["database", "database"]


@contextmanager
def connections_refused(url: str) -> Iterator[None]:
    """The hub's PostgreSQL database takes no connection, its open ones ended."""
    target = make_url(url)
    admin = target.set(drivername="postgresql", database="postgres")
    dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'ALTER DATABASE "{target.database}" CONNECTION LIMIT 0')
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (target.database,),
        )
    try:
        yield
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'ALTER DATABASE "{target.database}" CONNECTION LIMIT -1')


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word (a hung broker)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        for sock in held:
            sock.close()
        listener.close()
