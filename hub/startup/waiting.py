"""A hub process waits for its database, its schema and its bus before it starts.

Started before PostgreSQL or RabbitMQ (a reboot, a container scheduler, a restart of either), a
process that exits at once needs something else to start it again; one that waits needs
nothing. Each attempt that fails is one log line saying what is missing and when the next try
is, never a traceback; the wait backs off from half a second to 30 s.

Only the process that owns the schema migrates it: ``govhub db upgrade``, and ``govhub serve``
with its workers in the process (the embedded hub). A distributed process (``govhub worker``,
``govhub serve --no-workers``) finds a schema behind its code and waits, saying so, until
``govhub db upgrade`` has run: started beside the upgrade (a deployment that starts everything
at once) it begins as soon as the upgrade ends, and it never migrates behind an operator's back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from hub.bus import check_connection
from hub.config import Settings
from hub.errors import BusUnavailable, HubError, StoreUnavailable
from hub.observability.outages import describe
from hub.store import migrate

log = logging.getLogger("hub.startup")

FIRST_DELAY_SECONDS = 0.5
MOST_DELAY_SECONDS = 30.0
BUS_CONNECT_SECONDS = 5.0


@dataclass(frozen=True)
class Need:
    """One thing the process waits for: ``check`` raises a HubError saying why not yet."""

    name: str
    check: Callable[[], None]


def delays(first: float = FIRST_DELAY_SECONDS, most: float = MOST_DELAY_SECONDS) -> Iterator[float]:
    delay = first
    while True:
        yield delay
        delay = min(most, delay * 2)


def wait_for_needs(
    needs: list[Need],
    *,
    give_up_after: float = 0.0,
    stop: threading.Event | None = None,
    pauses: Iterator[float] | None = None,
) -> None:
    """Returns once every need is met, in order. ``give_up_after`` > 0: raise the last
    HubError after that many seconds; ``stop`` set: raise at once (a signal while waiting)."""
    stop = stop or threading.Event()
    pauses = pauses or delays()
    started = time.monotonic()
    for need in needs:
        attempt = 0
        while True:
            attempt += 1
            try:
                need.check()
            except HubError as error:
                waited = time.monotonic() - started
                if stop.is_set() or (give_up_after > 0 and waited >= give_up_after):
                    raise
                pause = next(pauses)
                log.warning(
                    "waiting for %s: %s; next try in %.1f s (attempt %d)",
                    need.name,
                    error,
                    pause,
                    attempt,
                )
                if stop.wait(pause):
                    raise
                continue
            if attempt > 1:
                log.warning("%s is ready after %d attempts", need.name, attempt)
            pauses = delays()  # the next need starts from a short wait again
            break


def startup_needs(settings: Settings, engine: Engine, *, migrates: bool) -> list[Need]:
    """The database answering, then (unless this process migrates it) its schema being the
    one this code needs, then the bus accepting a connection."""
    needs = [Need("the database", lambda: database_answers(engine))]
    if not migrates:
        needs.append(Need("the database schema", lambda: schema_current(engine)))
    needs.append(Need("the bus", lambda: bus_answers(settings.bus_url)))
    return needs


def database_answers(engine: Engine) -> None:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        where = make_url(str(engine.url)).render_as_string(hide_password=True)
        raise StoreUnavailable(f"{where} does not answer ({describe(exc)})") from exc


def schema_current(engine: Engine) -> None:
    behind = migrate.schema_behind(engine)
    if behind is not None:
        raise StoreUnavailable(f"{behind}: run `govhub db upgrade`")


def bus_answers(bus_url: str) -> None:
    try:
        check_connection(bus_url, BUS_CONNECT_SECONDS)
    except BusUnavailable as error:
        raise BusUnavailable(f"{_without_password(bus_url)} does not answer ({error})") from error


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
