"""Who may ask GetStatus about a message: only its sender or one of its receivers, proven with
the WS-Security header exactly as for Submit (hub/security/wsse.py).

With a UsernameToken the asker is the token's department: it is authenticated first (so an
unauthenticated caller learns nothing about the message), then must be a party. Without a
token (a signature only, or nothing) the request must pass the check of one of the parties;
under ``authentication = registered`` a party without credentials passes unauthenticated, as
its Submit would. A TLS client certificate registered to a department makes that department
the asker, as a token does.

No existence oracle: a message the asker may not see is answered exactly as one that does
not exist (``unseen``: Client.NotFound, the same text). The real reason rides along as the
NotFound's ``__cause__``, for the audit log only.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from hub.errors import NotAuthenticated, NotAuthorized, NotFound
from hub.security import client_certificates
from hub.security.wsse import Authenticated, WsseVerifier, token_username
from hub.store.records import MessageStatus

StatusLookup = Callable[[str], MessageStatus]


class StatusAccess:
    def __init__(self, verifier: WsseVerifier) -> None:
        self._verifier = verifier

    def status(
        self, envelope: etree._Element, message_id: str, lookup: StatusLookup
    ) -> MessageStatus:
        """The status; NotAuthenticated for credentials that fail; else ``unseen`` for an id
        that does not exist and for one the asker may not see alike."""
        department = self.asker(envelope)
        if department is None:
            return self._for_any_party(envelope, message_id, lookup)
        status = _looked_up(message_id, lookup)
        if department not in parties(status):
            refusal = NotAuthorized(
                f"department {department} neither sent nor receives message {message_id}"
            )
            raise unseen(message_id) from refusal
        return status

    def asker(self, envelope: etree._Element) -> str | None:
        """The department the request proves it is (its TLS client certificate, else its
        UsernameToken); None when it presents neither. NotAuthenticated when one fails."""
        department = self._tls_department(envelope)
        username = token_username(envelope)
        if department is None and username is not None:
            department = self._token_department(envelope, username)
        return department

    def _for_any_party(
        self, envelope: etree._Element, message_id: str, lookup: StatusLookup
    ) -> MessageStatus:
        """No asker named: the request must pass the check of one of the message's parties."""
        status = _looked_up(message_id, lookup)
        try:
            self._as_any_party(envelope, status)
        except NotAuthenticated as refusal:
            raise unseen(message_id) from refusal
        return status

    def _tls_department(self, envelope: etree._Element) -> str | None:
        """The department of the TLS client certificate, authenticated as that department."""
        presented = client_certificates.current()
        credential = (
            None if presented is None else self._verifier.credentials.by_certificate(presented)
        )
        if credential is None:
            return None
        self._verifier.verify(envelope, credential.department)
        return credential.department

    def _token_department(self, envelope: etree._Element, username: str) -> str:
        credential = self._verifier.credentials.lookup(username)
        if credential is None or not credential.active:
            raise NotAuthenticated(f"unknown or revoked user {username}")
        self._verifier.verify(envelope, credential.department)
        return credential.department

    def _as_any_party(
        self, envelope: etree._Element, status: MessageStatus
    ) -> Authenticated | None:
        first: NotAuthenticated | None = None
        for party in parties(status):
            try:
                return self._verifier.verify(envelope, party)
            except NotAuthenticated as error:
                first = first or error
        raise NotAuthenticated(
            "GetStatus must be authenticated as the message's sender or one of its receivers"
            + (f" ({first.message})" if first else "")
        )


def unseen(message_id: str) -> NotFound:
    """The one answer for a message that does not exist or that the asker may not see."""
    return NotFound(
        f"no message {message_id} that this caller may see; GetStatus answers a message's "
        "sender and receivers, authenticated as for Submit"
    )


def _looked_up(message_id: str, lookup: StatusLookup) -> MessageStatus:
    try:
        return lookup(message_id)
    except NotFound:
        raise unseen(message_id) from None


def parties(status: MessageStatus) -> list[str]:
    """The sender, then each receiver, once."""
    return list(dict.fromkeys([status.sender, *(d.department for d in status.deliveries)]))
