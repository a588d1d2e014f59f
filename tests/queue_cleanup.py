"""The RabbitMQ queues and exchanges a test session made, removed when it ends.

Every test prefix comes from ``session_queue_prefix()``: ``govhub.test.<session>.<own>.``,
where ``<session>`` is drawn once per process. A pytest-xdist worker is a process of its own,
so each worker sweeps only what it made; another session's (another run beside this one, an
engineer's own) never starts with this session's mark, and is left alone.

AMQP cannot list queues: the sweep asks ``rabbitmqctl`` (a broker on this machine, run as
root, as in CI) for the names and deletes the session's over AMQP. Without it there is
nothing to list, and the per-test deletions (conftest.py's ``queue_prefix``) are all there is.

A pytest plugin (tests/conftest.py loads it) that conftest.py imports first, so it opts out of
assertion rewriting (it asserts nothing): PYTEST_DONT_REWRITE.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import kombu

SESSION_MARK = f"govhub.test.{uuid.uuid4().hex[:8]}."
_broker_url: str | None = None  # set once a test of this session reached RabbitMQ


def session_queue_prefix(own: str = "") -> str:
    """A queue prefix of this session's: ``own``, or a fresh one, under the session's mark."""
    return f"{SESSION_MARK}{own or uuid.uuid4().hex[:8]}."


def broker_used(url: str) -> None:
    """Called by backends.amqp_url: this session has something to sweep on ``url``."""
    global _broker_url
    _broker_url = url


def sweep(url: str, mark: str = SESSION_MARK) -> list[str]:
    """Delete every queue and exchange whose name starts with ``mark``; their names."""
    queues = [name for name in _listed("list_queues") if name.startswith(mark)]
    exchanges = [name for name in _listed("list_exchanges") if name.startswith(mark)]
    if queues or exchanges:
        with kombu.Connection(url) as connection:
            channel = connection.default_channel
            for queue in queues:
                channel.queue_delete(queue)
            for exchange in exchanges:
                channel.exchange_delete(exchange)
    return queues + exchanges


def sweep_session() -> None:
    """At the session's end: what this session made, if it reached RabbitMQ at all."""
    if _broker_url is not None and can_list():
        sweep(_broker_url)


def can_list() -> bool:
    return shutil.which("rabbitmqctl") is not None and os.geteuid() == 0


def _listed(what: str) -> list[str]:
    done = subprocess.run(
        ["rabbitmqctl", "--quiet", what, "name"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


def pytest_sessionfinish() -> None:
    """This module is a pytest plugin (tests/conftest.py loads it): the sweep at the end."""
    sweep_session()
