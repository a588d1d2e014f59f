"""GetDataUsage on /soap: a citizen portal (a department the tracker rules name) asks, with
its WS-Security credentials, for one page of the data usage of the citizen signed in to it;
the answer is xsd/hub/data-usage.xsd's DataUsage (hub/tracker/document.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spyne import Integer, Unicode, rpc
from spyne.service import Service

from hub.api.soap_faults import fault_from
from hub.errors import HubError, NotAuthenticated, SchemaInvalid
from hub.mailbox.access import mailbox_owner
from hub.security.wsse import WsseVerifier, claimed_sender
from hub.tracker.document import usage_response
from hub.tracker.service import MAX_PAGE_SIZE, Tracker

DEFAULT_PAGE_SIZE = 100
# The request field a refusal is about.
_FIELDS = {
    "Client.NotAuthenticated": "Header/Security",
    "Client.InvalidIdentityNumber": "GetDataUsage/identityNumber",
    "Client.NotAuthorized": "GetDataUsage/identityNumber",
    "Client.SchemaInvalid": "GetDataUsage/pageSize",
}


@dataclass(frozen=True)
class TrackerApi:
    tracker: Tracker
    verifier: WsseVerifier | None

    def portal(self, envelope: Any) -> str:
        """The department asking, proven by its credentials (a portal always has some)."""
        try:
            return mailbox_owner(self.verifier, envelope)
        except NotAuthenticated as error:
            raise NotAuthenticated(
                "GetDataUsage is answered to a citizen portal authenticated with its "
                f"WS-Security UsernameToken or TLS client certificate ({error})"
            ) from error


def tracker_service(api: TrackerApi) -> type[Service]:
    class TrackerService(Service):  # type: ignore[misc]
        @rpc(  # type: ignore[untyped-decorator]
            Unicode(min_occurs=1),
            Unicode(min_occurs=1),
            Integer(min_occurs=0),
            Integer(min_occurs=0),
            _returns=Unicode,  # written by usage_response: see writers
        )
        def GetDataUsage(
            ctx: Any,
            signedInAs: str | None,
            identityNumber: str | None,
            page: int | None,
            pageSize: int | None,
        ) -> Any:
            try:
                portal = api.portal(ctx.in_document)
            except HubError as error:
                api.tracker.refused(claimed_sender(ctx.in_document), "GetDataUsage", error)
                raise fault_from(error, path=_FIELDS.get(error.code)) from error
            try:
                size = pageSize or DEFAULT_PAGE_SIZE
                if (page is not None and page < 1) or not 1 <= size <= MAX_PAGE_SIZE:
                    raise SchemaInvalid(
                        f"page is 1 or more, pageSize between 1 and {MAX_PAGE_SIZE}"
                    )
                return api.tracker.for_citizen(
                    portal,
                    (signedInAs or "").strip(),
                    (identityNumber or "").strip(),
                    page=page or 1,
                    page_size=size,
                )
            except HubError as error:
                raise fault_from(error, path=_FIELDS.get(error.code)) from error

    return TrackerService


WRITERS = {"GetDataUsage": usage_response}

__all__ = ["WRITERS", "TrackerApi", "tracker_service"]
