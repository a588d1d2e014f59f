"""The configuration a running process uses, reloaded without a restart.

Ingress, the delivery handler and the workers hold the same directory, routing table and
mapping registry objects for their whole life; a reload swaps what is inside them, mappings
first, then departments, then routes, so that a route never names a department or mapping
that is not there yet. A watcher thread reloads when the generation in the database moves:
at once when a change is announced on the bus, otherwise at the next poll.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable

from hub.configuration.loader import Configuration, ConfigurationLoader
from hub.errors import HubError

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 2.0

Listener = Callable[[Configuration], None]


class LiveConfiguration:
    def __init__(self, loader: ConfigurationLoader, first: Configuration | None = None) -> None:
        self.loader = loader
        self.current = first or loader.load()
        self.departments = self.current.departments
        self.routes = self.current.routes
        self.mappings = self.current.mappings
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._announced = False  # announcements are heard: the poll is only a safety net
        self._failed_generation: int | None = None
        self._failure: str | None = None

    @property
    def failure(self) -> str | None:
        """Why the newest stored configuration is not the one in use, or None."""
        return self._failure

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def wake(self) -> None:
        """Check the database now (a change was announced)."""
        self._wake.set()

    def reload(self) -> bool:
        """Load the configuration again; True if it changed. On failure (say a package
        needs an adapter this host lacks) the running configuration stays as it was."""
        with self._lock:
            fresh = self.loader.load()
            if fresh.generation == self.current.generation:
                return False
            self.mappings.replace_with(fresh.mappings)
            self.departments.replace_with(fresh.departments)
            self.routes.replace_with(fresh.routes)
            self.current = dataclasses.replace(
                fresh, departments=self.departments, routes=self.routes, mappings=self.mappings
            )
        log.info("configuration generation %s in use", fresh.generation)
        for listener in self._listeners:
            listener(self.current)
        return True

    def announcements(self, heard: bool) -> None:
        """Whether changes are announced to this process now (hub/configuration/announce.py):
        while they are, ``watch`` polls at its slower ``announced_poll_seconds``."""
        self._announced = heard
        if not heard:
            self._wake.set()  # look now, and poll at the faster pace from here on

    def watch(
        self,
        stop: threading.Event,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        announced_poll_seconds: float | None = None,
    ) -> None:
        """Thread body: reload whenever the generation moves, until ``stop`` is set."""
        while not stop.is_set():
            rest = announced_poll_seconds if self._announced else None
            self._wake.wait(max(poll_seconds, rest or 0.0))
            self._wake.clear()
            if stop.is_set():
                return
            self._check()

    def _check(self) -> None:
        try:
            generation = self.loader.generation()
            if generation == self.current.generation:
                return
            self.reload()
            self._failed_generation = self._failure = None
        except HubError as exc:
            self._failure = f"configuration generation {generation} not loaded: {exc}"
            if generation != self._failed_generation:  # say it once, not every poll
                log.error("%s", self._failure)
                self._failed_generation = generation
        except Exception as exc:  # the database is away: try again at the next poll
            log.warning("configuration check failed (%s); the running configuration stays", exc)
