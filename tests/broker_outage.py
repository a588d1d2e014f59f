"""A RabbitMQ outage that only one test's hub sees.

The broker is shared (other test runs, other people), so the outage is not `stop_app`: the
test's hub gets a virtual host of its own, and the outage takes away the hub user's permission
on it and closes its connections there. The hub cannot reconnect until the permission is given
back, which happens in a `finally`, so a failing test never leaves the broker broken. Needs
`rabbitmqctl`, which talks to the node as root (or as the rabbitmq user).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

ALL = ".*"


@dataclass(frozen=True)
class PrivateVhost:
    """A virtual host made for one test, and the bus URL that reaches it."""

    name: str
    user: str
    url: str

    def outage(self, seconds: float) -> None:
        """The hub loses the broker for ``seconds``: connections closed, reconnects refused."""
        _rabbitmqctl("clear_permissions", "-p", self.name, self.user)
        try:
            _rabbitmqctl("close_all_connections", "--vhost", self.name, "chaos: broker outage")
            time.sleep(seconds)
        finally:
            _rabbitmqctl("set_permissions", "-p", self.name, self.user, ALL, ALL, ALL)


def why_no_outage() -> str | None:
    """Why this run cannot make a broker outage, or None when it can."""
    if shutil.which("rabbitmqctl") is None:
        return "rabbitmqctl is not installed"
    if os.geteuid() != 0:
        return "rabbitmqctl needs root to reach the RabbitMQ node"
    return None


@contextmanager
def private_vhost(bus_url: str) -> Iterator[PrivateVhost]:
    """A new virtual host on the broker of ``bus_url``, deleted afterwards."""
    parts = urlsplit(bus_url)
    name = f"govhub-test-{uuid.uuid4().hex[:8]}"
    user = parts.username or "guest"
    _rabbitmqctl("add_vhost", name)
    try:
        _rabbitmqctl("set_permissions", "-p", name, user, ALL, ALL, ALL)
        url = urlunsplit(parts._replace(path="/" + quote(name, safe="")))
        yield PrivateVhost(name, user, url)
    finally:
        _rabbitmqctl("delete_vhost", name)


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "--quiet", *args], check=True, capture_output=True, timeout=60)
