"""Routing table: message type -> the departments that may send it and those that receive it.

A table is built from route entries (one department, one role, one message type); entries
come from the routes file, from registered department packages and from admins
(``govhub routes add``). A receiver may carry a content condition (hub/conditions.py).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lxml import etree

from hub.conditions import Condition, parse_condition
from hub.errors import ConditionFailed, ConfigurationError, NotAuthorized, UnknownMessageType
from hub.federation.addressing import field_address_problem, is_field_address, resolved_address

Role = Literal["sends", "receives"]
ROLES: tuple[Role, ...] = ("sends", "receives")


@dataclass(frozen=True)
class RouteEntry:
    message_type: str
    department: str
    role: Role
    condition: Condition | None = None
    origin: str = "file"  # file | package | admin

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.message_type, self.department, self.role)


@dataclass(frozen=True)
class Route:
    message_type: str
    senders: tuple[str, ...]
    receivers: tuple[str, ...]
    conditions: Mapping[str, Condition] = field(default_factory=dict)


@dataclass(frozen=True)
class Routed:
    """Where one message goes: its receivers, and those skipped because their condition
    failed on it (department, why)."""

    receivers: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...] = ()


class RoutingTable:
    def __init__(self, routes: Mapping[str, Route]) -> None:
        self._routes = dict(routes)

    @classmethod
    def from_entries(cls, entries: Iterable[RouteEntry]) -> RoutingTable:
        senders: dict[str, list[str]] = {}
        receivers: dict[str, list[str]] = {}
        conditions: dict[str, dict[str, Condition]] = {}
        for entry in entries:
            senders.setdefault(entry.message_type, [])
            receivers.setdefault(entry.message_type, [])
            listed = senders if entry.role == "sends" else receivers
            if entry.department not in listed[entry.message_type]:
                listed[entry.message_type].append(entry.department)
            if entry.role == "receives" and entry.condition is not None:
                conditions.setdefault(entry.message_type, {})[entry.department] = entry.condition
        return cls(
            {
                message_type: Route(
                    message_type,
                    tuple(senders[message_type]),
                    tuple(receivers[message_type]),
                    conditions.get(message_type, {}),
                )
                for message_type in senders
            }
        )

    @classmethod
    def from_file(cls, path: Path) -> RoutingTable:
        return cls.from_entries(read_route_file(path))

    def replace_with(self, other: RoutingTable) -> None:
        """Take ``other``'s routes at once (a configuration reload)."""
        self._routes = other._routes

    def route(self, message_type: str) -> Route:
        try:
            return self._routes[message_type]
        except KeyError:
            known = ", ".join(sorted(self._routes))
            raise UnknownMessageType(
                f"unknown message type {message_type!r}", detail=f"known types: {known}"
            ) from None

    def receivers_for(
        self, sender: str, message_type: str, canonical: etree._Element | None = None
    ) -> tuple[str, ...]:
        """The departments a message goes to; refuses a sender the route does not list.
        Receivers with a content condition get it only when ``canonical`` matches."""
        return self.route_message(sender, message_type, canonical).receivers

    def route_message(
        self, sender: str, message_type: str, canonical: etree._Element | None = None
    ) -> Routed:
        """As ``receivers_for``, and a receiver whose condition fails on ``canonical`` is
        skipped with the reason: one bad condition never refuses the message."""
        route = self.route(message_type)
        if sender not in route.senders:
            raise NotAuthorized(f"department {sender} may not send {message_type}")
        receivers, skipped = [], []
        for code in route.receivers:
            if code == sender:
                continue
            try:
                if _wanted(route.conditions.get(code), canonical):
                    receivers.append(resolved_address(code, canonical))
            except ConditionFailed as failed:
                skipped.append((code, failed.message))
        return Routed(tuple(receivers), tuple(skipped))

    def message_types(self) -> list[str]:
        return sorted(self._routes)

    def check_against(self, department_codes: set[str]) -> None:
        """Every department a route names must exist."""
        for route in self._routes.values():
            named = set(route.senders) | set(route.receivers)
            # DIVISION/CODE is another hub's department (hub/federation): not known here.
            missing = {code for code in named if "/" not in code} - department_codes
            for address in filter(is_field_address, named):
                problem = field_address_problem(address)
                if problem:
                    raise ConfigurationError(
                        f"route {route.message_type}: receiver {address}: {problem}"
                    )
            if missing:
                raise ConfigurationError(
                    f"route {route.message_type} names unknown department(s) "
                    + ", ".join(sorted(missing))
                )


def _wanted(condition: Condition | None, canonical: etree._Element | None) -> bool:
    return condition is None or (canonical is not None and condition.matches(canonical))


def read_route_file(path: Path) -> list[RouteEntry]:
    """The entries of a routes file (``[Type] senders = [...] receivers = [...]`` and an
    optional ``conditions = { CODE = { path = ..., prefix = ... } }``)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read routes file {path}: {exc}") from exc
    entries = []
    for message_type, table in raw.items():
        where = f"{path} [{message_type}]"
        senders, receivers = table.get("senders"), table.get("receivers")
        if not isinstance(senders, list) or not isinstance(receivers, list):
            raise ConfigurationError(f"{where}: senders and receivers must be lists of codes")
        conditions = table.get("conditions", {})
        if not isinstance(conditions, dict):
            raise ConfigurationError(f"{where}: conditions must be a table by department")
        entries += [RouteEntry(message_type, code, "sends") for code in senders]
        entries += [
            RouteEntry(
                message_type,
                code,
                "receives",
                parse_condition(conditions[code], f"{where} conditions.{code}")
                if code in conditions
                else None,
            )
            for code in receivers
        ]
    return entries
