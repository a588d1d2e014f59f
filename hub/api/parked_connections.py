"""A long-polling request's connection out of waitress's dispatcher while it waits.

waitress's one dispatcher thread walks every open connection on each pass of its loop,
calling two Python methods on each (wasyncore.poll), and it passes its loop once or more for
every request it reads or answers. A connection whose request is being handled is never
read or written meanwhile, yet it is still walked: with 200 Receives waiting that walk was
most of what Submit lost (0.64-0.68 of its rate). Parked, a waiting connection is out of the
dispatcher's map until its request is answered, so it costs a pass nothing.

    with parked(environ):   # in the request's own thread, around the wait
        doorbell.wait(...)

Outside waitress (cheroot with TLS, tests calling the app directly) it does nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

# waitress puts the connection's check in the environ; the method's object is the channel.
_WAITRESS_DISCONNECT_CHECK = "waitress.client_disconnected"


@contextlib.contextmanager
def parked(environ: Mapping[str, Any] | None) -> Iterator[None]:
    """While inside, the request's waitress connection is left out of the dispatcher's loop."""
    check = (environ or {}).get(_WAITRESS_DISCONNECT_CHECK)
    channel = getattr(check, "__self__", None)
    connections: dict[int, Any] | None = getattr(channel, "_map", None)
    fileno = getattr(channel, "_fileno", None)
    if connections is None or fileno is None or connections.get(fileno) is not channel:
        yield
        return
    # One dict operation each way: atomic for the dispatcher, which walks a copy of the map.
    connections.pop(fileno, None)
    try:
        yield
    finally:
        # Back before the answer is written: the dispatcher must see it to send it.
        connections[fileno] = channel


__all__ = ["parked"]
