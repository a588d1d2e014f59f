"""The configuration-announcement listener outlives a broker that closes its connection (a
graceful RabbitMQ shutdown is amqp's ConnectionForced), looks once for what it may have missed,
and hears the next announcement."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest
from backends import amqp_url
from broker_outage import PrivateVhost, private_vhost, why_no_outage
from queue_cleanup import session_queue_prefix

from hub.configuration import announce
from hub.polling import wait_for

PREFIX = session_queue_prefix("announce")


@pytest.fixture
def vhost() -> Iterator[PrivateVhost]:
    reason = why_no_outage()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot close the broker's connections: {reason}")
        pytest.skip(reason)
    with private_vhost(amqp_url()) as made:
        yield made


def test_the_listener_reconnects_after_the_broker_closed_its_connection(
    vhost: PrivateVhost,
) -> None:
    heard = threading.Event()
    stop = threading.Event()
    connected: list[bool] = []  # what the configuration's poll pace follows
    listener = threading.Thread(
        target=announce.listen,
        args=(vhost.url, PREFIX, heard.set, stop, connected.append),
        daemon=True,
    )
    listener.start()
    try:
        # Listening once an announcement is heard (the queue is declared on connect).
        assert wait_for(lambda: _announced(vhost, heard), seconds=10)
        heard.clear()

        vhost.outage(1.0)  # every connection closed by the broker, then back

        assert wait_for(lambda: _announced(vhost, heard), seconds=15), "listener gone"
        time.sleep(0.5)  # the look it takes on reconnecting has been taken
        heard.clear()
        assert wait_for(lambda: _announced(vhost, heard), seconds=10)  # and it listens
        assert listener.is_alive()
        # Heard, lost (the poll speeds up meanwhile), heard again (the poll rests).
        assert connected[0] is True and connected[-1] is True and False in connected
    finally:
        stop.set()
        listener.join(10)


def _announced(vhost: PrivateVhost, heard: threading.Event) -> bool:
    announce.announce(vhost.url, PREFIX, 1)
    return heard.wait(0.5)
