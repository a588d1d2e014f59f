"""Configuration changes announced on the bus: a fanout exchange that every hub process
listens to, so that a change is used within a moment instead of at the next poll.

The announcement only says "look now"; the database stays the truth, so a lost announcement
costs at most one poll interval. memory:// is per process: there the poll does the work.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

import kombu
from kombu.exceptions import KombuError

log = logging.getLogger(__name__)
_kombu: Any = kombu  # kombu has no type hints

RECONNECT_SECONDS = 2.0


def exchange(queue_prefix: str) -> Any:
    # Named after the hub's queue prefix: hubs sharing one broker do not hear each other.
    return _kombu.Exchange(queue_prefix.rstrip(".") + ".config", type="fanout", durable=False)


def broadcasts(bus_url: str) -> bool:
    return not bus_url.startswith("memory")


def announce(bus_url: str, queue_prefix: str, generation: int) -> None:
    """Tell every process that the configuration moved to ``generation`` (best effort)."""
    if not broadcasts(bus_url):
        return
    target = exchange(queue_prefix)
    try:
        with _kombu.Connection(bus_url, connect_timeout=2) as connection:
            connection.Producer().publish(
                {"generation": generation},
                exchange=target,
                declare=[target],
                retry=True,
                retry_policy={"max_retries": 2},
            )
    except (KombuError, OSError) as exc:
        log.warning("could not announce configuration %s (%s); processes poll", generation, exc)


def listen(
    bus_url: str,
    queue_prefix: str,
    heard: Callable[[], None],
    stop: threading.Event,
    connected: Callable[[bool], None] = lambda _: None,
) -> None:
    """Thread body: call ``heard`` on every announcement until ``stop`` is set; ``connected``
    is told when announcements are heard (True) and when they are lost (False)."""
    target = exchange(queue_prefix)
    queue = _kombu.Queue(
        f"{target.name}.{uuid.uuid4().hex}", target, exclusive=True, auto_delete=True
    )
    while not stop.is_set():
        connection = _kombu.Connection(bus_url, connect_timeout=2)
        # A broker's graceful shutdown is amqp's ConnectionForced, neither a KombuError nor
        # an OSError: the transport's own error classes name every way a connection ends.
        lost = (KombuError, OSError, *connection.connection_errors, *connection.channel_errors)
        try:
            _consume(connection, queue, heard, stop, connected)
        except lost as exc:
            log.info("configuration announcements lost (%s); reconnecting, polling meanwhile", exc)
            stop.wait(RECONNECT_SECONDS)
        except Exception:  # never let a surprise end the listener: it would not come back
            log.exception("configuration announcement listener failed; starting again")
            stop.wait(RECONNECT_SECONDS)
        finally:
            connected(False)
            connection.release()


def _consume(
    connection: Any,
    queue: Any,
    heard: Callable[[], None],
    stop: threading.Event,
    connected: Callable[[bool], None],
) -> None:
    with connection.Consumer(queue, callbacks=[lambda _b, m: _ack(m, heard)]):
        connected(True)
        # Announcements made before this queue existed (while the process started, or the
        # broker was away) were not heard: look once now.
        heard()
        while not stop.is_set():
            try:
                connection.drain_events(timeout=1)
            except TimeoutError:
                continue


def _ack(message: Any, heard: Callable[[], None]) -> None:
    message.ack()
    heard()
