"""The catalogue of services: every routed message type with its schema, senders, receivers
and resource metadata, from one configuration; and what one department may do with them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hub.catalogue.metadata import (
    DEFAULT_FILE,
    FILE_IN_PACKAGE,
    Fields,
    ResourceMetadata,
    read_layer,
    resolved,
)
from hub.catalogue.schemas import schema_name
from hub.conditions import Condition
from hub.configuration.loader import Configuration
from hub.errors import UnknownSender
from hub.mailbox import MAILBOX_ADAPTER
from hub.resources import CANONICAL_NAMESPACE
from hub.versions import BASE_VERSION, default_versions
from hub.versions.views import Received, received_versions

HUB_PROVIDER = "GovHub"


@dataclass(frozen=True)
class Receiver:
    department: str
    condition: str = ""  # the content condition it receives under, as written; "": all
    version: str = BASE_VERSION  # the canonical version it receives (hub/versions)
    lossy: tuple[str, ...] = ()  # what a record sent in a newer version loses on the way


@dataclass(frozen=True)
class Service:
    message_type: str
    schema: str  # under xsd/; GetSchema gives it whole
    namespace: str
    senders: tuple[str, ...]
    receivers: tuple[Receiver, ...]
    resource: ResourceMetadata
    versions: tuple[str, ...] = (BASE_VERSION,)  # every canonical version accepted (not retired)


@dataclass(frozen=True)
class Allowed:
    """What one department may do (X-Road's allowedMethods): send a type (Submit), receive
    it, and read the status (GetStatus) of the messages it sends or receives. ``fetches``:
    those of its received types that wait in its mailbox for Receive (``adapter =
    "mailbox"``), all of them or none."""

    department: str
    sends: tuple[str, ...]
    receives: tuple[str, ...]
    reads: tuple[str, ...]
    fetches: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    generation: int
    services: tuple[Service, ...]
    department_names: Mapping[str, str]
    # Departments on a pull mailbox (hub/mailbox): they fetch what they receive.
    mailbox_departments: frozenset[str] = frozenset()

    def message_types(self) -> list[str]:
        return [service.message_type for service in self.services]

    def allowed(self, code: str) -> Allowed:
        if code not in self.department_names:
            raise UnknownSender(f"unknown department {code!r}")
        sends = tuple(s.message_type for s in self.services if code in s.senders)
        receives = tuple(
            s.message_type for s in self.services if code in {r.department for r in s.receivers}
        )
        reads = tuple(t for t in self.message_types() if t in sends or t in receives)
        fetches = receives if code in self.mailbox_departments else ()
        return Allowed(code, sends, receives, reads, fetches)


def build_catalogue(configuration: Configuration, deployment_file: Path | None) -> Catalogue:
    """The catalogue ``configuration`` describes; metadata from the shipped defaults, the
    packages' catalogue.toml (for the types their department sends) and ``deployment_file``."""
    defaults = read_layer(DEFAULT_FILE)
    deployment = read_layer(deployment_file) if deployment_file else {}
    packaged = _package_layers(configuration)
    names = {d.code: d.name for d in configuration.departments}
    routes = configuration.routes
    received = received_versions(configuration.mappings.all())
    services = []
    for message_type in routes.message_types():
        route = routes.route(message_type)
        layers = [
            defaults.get(message_type, {}),
            *(
                packaged[code][message_type]
                for code in route.senders
                if message_type in packaged.get(code, {})
            ),
            deployment.get(message_type, {}),
        ]
        provider = "、".join(names.get(code, code) for code in route.senders) or HUB_PROVIDER
        receives = {r.department: r for r in received if r.message_type == message_type}
        services.append(
            Service(
                message_type,
                schema_name(message_type),
                CANONICAL_NAMESPACE,
                route.senders,
                tuple(
                    _receiver(code, _described(route.conditions.get(code)), receives.get(code))
                    for code in route.receivers
                ),
                resolved(message_type, layers, provider),
                accepted_versions(message_type),
            )
        )
    mailboxes = frozenset(d.code for d in configuration.departments if d.adapter == MAILBOX_ADAPTER)
    return Catalogue(configuration.generation, tuple(services), names, mailboxes)


def _package_layers(configuration: Configuration) -> dict[str, dict[str, Fields]]:
    """Each package's own catalogue.toml, by department code."""
    layers = {}
    for code, package in configuration.packages.items():
        path = package.folder / FILE_IN_PACKAGE
        if path.is_file():
            layers[code] = read_layer(path)
    return layers


def _receiver(code: str, condition: str, received: Received | None) -> Receiver:
    if received is None:
        return Receiver(code, condition)
    return Receiver(code, condition, received.version, received.lossy)


def accepted_versions(message_type: str) -> tuple[str, ...]:
    versions = default_versions().table.versions_of(message_type)
    return tuple(v.version for v in versions if v.status != "retired")


def _described(condition: Condition | None) -> str:
    return "" if condition is None else condition.describe()
