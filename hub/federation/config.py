"""This hub's place in the tree: its division and its neighbour hubs, from a TOML file
(``GOVHUB_FEDERATION_FILE``, docs/federation.md) read again whenever its bytes change, so an
admin edits it without a restart. An edit that does not parse is logged and the last good
configuration stays in force.

    division = "320100"
    [parent]
    division = "320000"
    endpoint = "http://province-hub:8700/soap"
    secret = "file:/etc/govhub/link-320000"    # or env:NAME: the link's shared secret
    [[children]]
    division = "320102"
    endpoint = "http://county-hub:8700/soap"
    secret = "env:GOVHUB_LINK_320102"

Both ends of a link hold the same secret; a hub signs in at its neighbour as
``hub-<its division>`` (WS-Security UsernameToken, PasswordDigest).
"""

from __future__ import annotations

import logging
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.departments import read_reference
from hub.errors import ConfigurationError, UnknownDivision
from hub.federation.addressing import covers, is_division

log = logging.getLogger(__name__)

HUB_USER_PREFIX = "hub-"
_NEIGHBOUR_KEYS = {"division", "endpoint", "secret", "timeout_seconds"}


def hub_username(division: str) -> str:
    """The name a hub signs in with at its neighbours."""
    return HUB_USER_PREFIX + division


@dataclass(frozen=True)
class Neighbour:
    division: str
    endpoint: str
    secret: str = field(repr=False)
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class FederationConfig:
    division: str
    parent: Neighbour | None = None
    children: tuple[Neighbour, ...] = ()

    @property
    def neighbours(self) -> tuple[Neighbour, ...]:
        return ((self.parent,) if self.parent else ()) + self.children

    def neighbour(self, division: str) -> Neighbour | None:
        return next((n for n in self.neighbours if n.division == division), None)

    def next_hop(self, division: str) -> Neighbour:
        """The neighbour a message for ``division`` goes to: the child whose part of the tree
        holds it, else (when it is not under this hub) the parent."""
        if not is_division(division):
            raise UnknownDivision(f"{division!r} is not a six-digit division code (GB/T 2260)")
        if division == self.division:
            raise UnknownDivision(f"division {division} is this hub's own")
        for child in self.children:
            if covers(child.division, division):
                return child
        if covers(self.division, division) or self.parent is None:
            raise UnknownDivision(f"no hub serves division {division} (asked at {self.division})")
        return self.parent


def read_federation(path: Path) -> FederationConfig:
    """The file's configuration; ConfigurationError names the file and the setting."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read federation file {path}: {exc}") from exc
    return parse_federation(str(path), raw)


def parse_federation(where: str, raw: dict[str, Any]) -> FederationConfig:
    unknown = set(raw) - {"division", "parent", "children"}
    if unknown:
        raise ConfigurationError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    division = raw.get("division")
    if not isinstance(division, str) or not is_division(division):
        raise ConfigurationError(f"{where}: division must be a six-digit code such as 320100")
    parent = raw.get("parent")
    children = raw.get("children", [])
    if not isinstance(children, list):
        raise ConfigurationError(f"{where}: children must be a list of [[children]] tables")
    config = FederationConfig(
        division,
        None if parent is None else _neighbour(f"{where} [parent]", parent),
        tuple(_neighbour(f"{where} [[children]] {n + 1}", c) for n, c in enumerate(children)),
    )
    for child in config.children:
        if child.division == division or not covers(division, child.division):
            raise ConfigurationError(
                f"{where}: child {child.division} does not lie under division {division}"
            )
    if config.parent and covers(division, config.parent.division):
        raise ConfigurationError(f"{where}: parent {config.parent.division} lies under {division}")
    return config


def _neighbour(where: str, table: Any) -> Neighbour:
    if not isinstance(table, dict):
        raise ConfigurationError(f"{where}: expected a table")
    unknown = set(table) - _NEIGHBOUR_KEYS
    if unknown:
        raise ConfigurationError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    division, endpoint = table.get("division"), table.get("endpoint")
    if not isinstance(division, str) or not is_division(division):
        raise ConfigurationError(f"{where}: division must be a six-digit code")
    if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
        raise ConfigurationError(f"{where}: endpoint must be an http(s) URL")
    timeout = table.get("timeout_seconds", 10.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigurationError(f"{where}: timeout_seconds must be a number > 0")
    return Neighbour(division, endpoint, _secret(where, table.get("secret")), float(timeout))


def _secret(where: str, reference: Any) -> str:
    """The link's secret, read from where ``env:NAME`` or ``file:PATH`` points (the file
    itself holds no secret, so it may be shown and versioned)."""
    if not isinstance(reference, str) or not reference.startswith(("env:", "file:")):
        raise ConfigurationError(f"{where}: secret must be env:VARIABLE or file:PATH")
    text = read_reference(f"{where}: secret", reference)
    if not text.strip():
        raise ConfigurationError(f"{where}: secret {reference} is empty")
    return text.strip()


class LiveFederation:
    """The configuration in force: the file and the secrets it points to are read again at
    most once every ``recheck_seconds`` (an edit or a rotated secret is in force within it)."""

    def __init__(self, path: Path, recheck_seconds: float = 1.0) -> None:
        self.path = path
        self._recheck_seconds = recheck_seconds
        self._lock = threading.Lock()
        self._config = read_federation(path)  # a bad file at start fails the start
        self._read_at = time.monotonic()

    @property
    def current(self) -> FederationConfig:
        with self._lock:
            if time.monotonic() - self._read_at >= self._recheck_seconds:
                self._read_at = time.monotonic()
                try:
                    fresh = read_federation(self.path)
                except ConfigurationError as error:
                    log.error("federation file not taken, the last good one stays: %s", error)
                else:
                    if fresh != self._config:
                        log.info("federation configuration reloaded from %s", self.path)
                    self._config = fresh
            return self._config


def live_federation(federation_file: str) -> LiveFederation | None:
    return LiveFederation(Path(federation_file)) if federation_file else None
