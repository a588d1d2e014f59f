"""The catalogue of the configuration a process runs with, built again only when that
configuration's generation moves (a department registered, a route added) or the
deployment's catalogue file is edited."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from hub.catalogue.services import Catalogue, build_catalogue
from hub.config import Settings
from hub.configuration.live import LiveConfiguration
from hub.configuration.loader import Configuration

_Key = tuple[int, bytes]


class LiveCatalogue:
    def __init__(
        self, configuration: Callable[[], Configuration], deployment_file: Path | None
    ) -> None:
        self._configuration = configuration
        self._deployment_file = deployment_file
        self._lock = threading.Lock()
        self._built: tuple[_Key, Catalogue] | None = None

    def __call__(self) -> Catalogue:
        configuration = self._configuration()
        key = (configuration.generation, self._edited())
        with self._lock:
            if self._built is None or self._built[0] != key:
                self._built = (key, build_catalogue(configuration, self._deployment_file))
            return self._built[1]

    def _edited(self) -> bytes:
        """The file's bytes: a small file, and unlike its mtime, no edit goes unseen."""
        try:
            return self._deployment_file.read_bytes() if self._deployment_file else b""
        except OSError:
            return b"\0gone"  # build_catalogue says why


def deployment_file(settings: Settings) -> Path | None:
    """The deployment's catalogue file (resource_catalogue_file), if it names one."""
    return Path(settings.resource_catalogue_file) if settings.resource_catalogue_file else None


def live_catalogue(settings: Settings, live: LiveConfiguration) -> LiveCatalogue:
    """The catalogue of ``live``'s configuration in use, whatever reloads it."""
    return LiveCatalogue(lambda: live.current, deployment_file(settings))
