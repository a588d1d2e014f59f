"""A forward arriving from a neighbour hub: the hub it says it is must be a neighbour and
prove it (WS-Security with the link's secret), the message must not have passed this hub
before, and the department it is for must be this hub's (and receive the type) or lie behind
one of its neighbours. Then it is routed to that one department, or to the next hop."""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from hub.errors import LoopRefused, NotAuthenticated, NotAuthorized, NotNeighbour, SchemaInvalid
from hub.federation.addressing import split_address
from hub.federation.config import HUB_USER_PREFIX, LiveFederation, hub_username
from hub.routing import Routed, RoutingTable
from hub.security.credentials import StoredCredential
from hub.security.nonces import NonceCache
from hub.security.wsse import WsseVerifier


class NeighbourCredentials:
    """The WS-Security credential source of neighbour hubs: ``hub-<division>`` and the
    link's secret, as the federation file says now."""

    def __init__(self, federation: LiveFederation) -> None:
        self._federation = federation

    def lookup(self, username: str) -> StoredCredential | None:
        if not username.startswith(HUB_USER_PREFIX):
            return None
        neighbour = self._federation.current.neighbour(username[len(HUB_USER_PREFIX) :])
        if neighbour is None:
            return None
        return StoredCredential(username, username, True, None, neighbour.secret, None)

    def for_department(self, department: str) -> list[StoredCredential]:
        found = self.lookup(department)
        return [] if found is None else [found]

    def ever_registered(self, department: str) -> bool:
        return False

    def by_certificate(self, sha256: str) -> StoredCredential | None:
        return None


class ForwardAdmission:
    def __init__(
        self,
        federation: LiveFederation,
        routes: RoutingTable,
        nonces: NonceCache,
        *,
        max_age_seconds: float,
        clock_skew_seconds: float,
    ) -> None:
        self.federation = federation
        self.routes = routes
        self._verifier = WsseVerifier(
            NeighbourCredentials(federation),
            nonces,
            max_age_seconds=max_age_seconds,
            clock_skew_seconds=clock_skew_seconds,
            authentication="required",
        )

    def authenticate(self, envelope: etree._Element, division: str) -> None:
        """The request comes from the neighbour hub of ``division``, signed in with the
        link's secret; NotNeighbour or NotAuthenticated say otherwise."""
        config = self.federation.current
        if config.neighbour(division) is None:
            raise NotNeighbour(
                f"hub {division} is not a neighbour of hub {config.division}; "
                "hubs forward only to their parent and children"
            )
        try:
            self._verifier.verify(envelope, hub_username(division))
        except NotAuthenticated as error:
            raise NotAuthenticated(f"hub {division}: {error.message}") from error

    def admit(self, envelope: etree._Element, fields: Mapping[str, str]) -> Routed:
        """Where a forwarded message goes here; a FederationRefused (or NotAuthenticated,
        NotAuthorized) says why it may not come in."""
        config = self.federation.current
        path = fields.get("hubPath", "").split()
        if not path:
            raise SchemaInvalid("a forwarded message must carry its hubPath", path="header/hubPath")
        came_from = path[-1]
        self.authenticate(envelope, came_from)
        if config.division in path:
            raise LoopRefused(
                f"hub {config.division} has already seen this message (path {' '.join(path)})"
            )
        origin, _ = split_address(fields["sender"])
        if origin != path[0]:
            raise NotAuthorized(
                f"sender {fields['sender']} is not a department of hub {path[0]}, "
                "where the path says the message began"
            )
        division, code = split_address(fields["forwardedTo"])
        if division != config.division:
            config.next_hop(division)  # UnknownDivision when no hub serves it
            return Routed((fields["forwardedTo"],))
        message_type = fields["messageType"]
        if code not in self.routes.route(message_type).receivers:
            raise NotAuthorized(f"department {code} does not receive {message_type} here")
        return Routed((code,))
