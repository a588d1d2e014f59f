"""A leg addressed ``DIVISION/CODE`` is delivered by Submit to the next hop's hub: the hub's
own WS-Security credentials at that neighbour, the leg's idempotency key as message id and
key (a forward repeated after a crash is a duplicate there), the original sender qualified
with the division it came from, the target, and the path of hubs with this one added. A
neighbour that is down or answers a Server fault is retried like any department; a Client
fault (a loop, an unknown division, refused credentials) fails the leg at once."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

import requests
from lxml import etree
from sqlalchemy import select
from zeep.wsse.username import UsernameToken

from adapters.base import DeliveryResult
from hub.errors import ClientError, PermanentDeliveryError, RetryableDeliveryError
from hub.federation.addressing import is_remote, split_address
from hub.federation.config import LiveFederation, hub_username
from hub.federation.header import sealed_path
from hub.resources import CANONICAL_SCHEMA_VERSION, HEADER_NAMESPACE
from hub.security import audit
from hub.store import ClaimedDelivery, Store
from hub.store.models import MessageRow
from hub.versions import default_versions
from hub.xmlparse import parse

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
_H = HEADER_NAMESPACE
_FAULT_CODE = f".//{{{_H}}}HubFault/{{{_H}}}code"
_FAULT_REASON = f".//{{{_H}}}HubFault/{{{_H}}}reason"


@dataclass(frozen=True)
class _Origin:
    """What the header needs of the stored message."""

    purpose: str
    sent_at: str
    correlation_id: str | None
    path: list[str]


class Forwarder:
    def __init__(self, federation: LiveFederation, store: Store) -> None:
        self.federation = federation
        self.store = store
        self._sessions = threading.local()  # one connection pool per delivery thread

    def forward(self, claimed: ClaimedDelivery) -> tuple[DeliveryResult, audit.NewEntry]:
        """The neighbour's answer, and the ``forwarded`` audit entry the attempt's record
        chains in its own transaction (a forward costs no transaction of its own)."""
        config = self.federation.current
        division, _ = split_address(claimed.department)
        try:
            neighbour = config.next_hop(division)
        except ClientError as error:
            raise PermanentDeliveryError(error.message) from error
        origin = self._origin(claimed.message_id)
        sender = claimed.sender
        if not is_remote(sender):
            sender = f"{config.division}/{sender}"
        record = parse(claimed.canonical)
        stored = default_versions().version_of(claimed.message_type, record)
        fields = {
            "messageId": claimed.idempotency_key,
            "sender": sender,
            "messageType": claimed.message_type,
            # forwarded as stored: the neighbour converts for its own receivers
            "schemaVersion": stored.version if stored else CANONICAL_SCHEMA_VERSION,
            "correlationId": origin.correlation_id,
            "idempotencyKey": claimed.idempotency_key,
            "purpose": origin.purpose,
            "sentAt": origin.sent_at,
            "forwardedTo": claimed.department,
            "hubPath": " ".join([*origin.path, config.division]),
        }
        body = forward_request(fields, record, config.division, neighbour.secret)
        try:
            response = self._session().post(
                neighbour.endpoint,
                data=body,
                headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"Submit"'},
                timeout=neighbour.timeout_seconds,
            )
        except requests.RequestException as error:
            raise RetryableDeliveryError(
                f"hub {neighbour.division} cannot be reached: {type(error).__name__}"
            ) from error
        duplicate = _answer(neighbour.division, response)
        forwarded = audit.NewEntry(
            actor=hub_username(config.division),
            action=audit.FORWARDED,
            subject=claimed.message_id,
            at=self.store.clock(),
            details={
                "to": claimed.department,
                "via": neighbour.division,
                "forwardId": claimed.idempotency_key,
                "duplicate": duplicate,
            },
        )
        result = DeliveryResult(
            "duplicate" if duplicate else "accepted",
            reference=claimed.idempotency_key,
            response_excerpt=f"hub {neighbour.division} took it",
        )
        return result, forwarded

    def _origin(self, message_id: str) -> _Origin:
        with self.store.engine.connect() as connection:
            row = connection.execute(  # one query: the header's fields and the path so far
                select(
                    MessageRow.purpose,
                    MessageRow.sent_at,
                    MessageRow.correlation_id,
                    MessageRow.original,
                ).where(MessageRow.id == message_id)
            ).one()
        path = sealed_path(self.store, message_id, row.original)
        return _Origin(row.purpose, row.sent_at.isoformat(), row.correlation_id, path)

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._sessions, "session", None)
        if session is None:
            session = self._sessions.session = requests.Session()
        return session

    def close(self) -> None:
        """Connections are pooled per thread and closed with their thread."""


def forward_request(
    fields: Mapping[str, str | None], record: etree._Element, division: str, secret: str
) -> bytes:
    """A SOAP 1.1 Submit of ``record`` with these header fields (empty ones left out),
    signed in as ``hub-<division>`` with the link's secret (UsernameToken, PasswordDigest)."""
    envelope = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soapenv": SOAP11})
    body = etree.SubElement(envelope, f"{{{SOAP11}}}Body")
    submit = etree.SubElement(body, f"{{{_H}}}Submit", nsmap={"h": _H})
    header = etree.SubElement(submit, f"{{{_H}}}header")
    for name, value in fields.items():
        if value:
            etree.SubElement(header, f"{{{_H}}}{name}").text = value
    etree.SubElement(submit, f"{{{_H}}}message").append(record)
    return signed(envelope, division, secret)


def signed(envelope: etree._Element, division: str, secret: str) -> bytes:
    """The envelope with ``hub-<division>``'s UsernameToken (PasswordDigest), as bytes."""
    token = UsernameToken(hub_username(division), secret, use_digest=True)  # type: ignore[no-untyped-call]
    envelope, _ = token.apply(envelope, {})  # type: ignore[no-untyped-call]
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def _answer(division: str, response: requests.Response) -> bool:
    """True when the neighbour already had it; raises what the attempt's outcome is."""
    try:
        root = parse(response.content)
    except Exception as error:
        raise RetryableDeliveryError(
            f"hub {division} answered HTTP {response.status_code}, not SOAP"
        ) from error
    code = root.findtext(_FAULT_CODE)
    if code is not None or response.status_code >= 400:
        reason = root.findtext(_FAULT_REASON) or f"HTTP {response.status_code}"
        text = f"hub {division} refused the forward: {code}: {reason}"
        if (code or "").startswith("Client."):
            raise PermanentDeliveryError(text)
        raise RetryableDeliveryError(text)
    if root.find(f".//{{{_H}}}SubmitResult") is None:
        raise RetryableDeliveryError(f"hub {division} answered, but not with a Submit receipt")
    return root.findtext(f".//{{{_H}}}duplicate") == "true"
