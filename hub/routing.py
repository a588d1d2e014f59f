"""Routing table: message type -> the departments that may send it and those that receive it."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hub.errors import ConfigurationError, NotAuthorized, UnknownMessageType


@dataclass(frozen=True)
class Route:
    message_type: str
    senders: tuple[str, ...]
    receivers: tuple[str, ...]


class RoutingTable:
    def __init__(self, routes: Mapping[str, Route]) -> None:
        self._routes = dict(routes)

    @classmethod
    def from_file(cls, path: Path) -> RoutingTable:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"cannot read routes file {path}: {exc}") from exc
        routes = {}
        for message_type, table in raw.items():
            senders, receivers = table.get("senders"), table.get("receivers")
            if not isinstance(senders, list) or not isinstance(receivers, list):
                raise ConfigurationError(
                    f"{path} [{message_type}]: senders and receivers must be lists of codes"
                )
            routes[message_type] = Route(message_type, tuple(senders), tuple(receivers))
        return cls(routes)

    def route(self, message_type: str) -> Route:
        try:
            return self._routes[message_type]
        except KeyError:
            known = ", ".join(sorted(self._routes))
            raise UnknownMessageType(
                f"unknown message type {message_type!r}", detail=f"known types: {known}"
            ) from None

    def receivers_for(self, sender: str, message_type: str) -> tuple[str, ...]:
        """The departments a message goes to; refuses a sender the route does not list."""
        route = self.route(message_type)
        if sender not in route.senders:
            raise NotAuthorized(f"department {sender} may not send {message_type}")
        return tuple(code for code in route.receivers if code != sender)

    def message_types(self) -> list[str]:
        return sorted(self._routes)

    def check_against(self, department_codes: set[str]) -> None:
        """Every department a route names must exist."""
        for route in self._routes.values():
            missing = (set(route.senders) | set(route.receivers)) - department_codes
            if missing:
                raise ConfigurationError(
                    f"route {route.message_type} names unknown department(s) "
                    + ", ".join(sorted(missing))
                )
