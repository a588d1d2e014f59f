"""The hub as the node sees it: Receive, Ack and Submit on /soap, as the department, with its
WS-Security UsernameToken. Faults become the node's errors: credentials or mailbox refused
(``HubRefusedNode``: stop), hub down or a server fault (``HubUnreachable``: retry); Ack's
lease faults and Submit's client faults are answers the node acts on."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import requests
import zeep
from lxml import etree
from zeep.exceptions import Fault, TransportError
from zeep.wsse.username import UsernameToken

from hub.errors import HubRefusedNode, HubUnreachable
from hub.node.handover import Delivery
from hub.resources import HEADER_NAMESPACE

SOAP_ENVELOPE = "http://schemas.xmlsoap.org/soap/envelope/"
_FAULT_CODE = f"{{{HEADER_NAMESPACE}}}HubFault/{{{HEADER_NAMESPACE}}}code"
# Faults that no retry mends: the node stops with one line.
_STOPPING = ("Client.NotAuthenticated", "Client.NotAuthorized", "Client.NoMailbox")
# Ack faults meaning the lease is gone: the message comes back (or already was settled).
LEASE_GONE = ("Client.LeaseExpired", "Client.UnknownLease", "Client.AlreadyAcknowledged")
_KEY_NAMESPACE = uuid.UUID("6c1f0a52-4d5e-4b8e-9a3c-2f7d0e1b9c44")


@dataclass(frozen=True)
class Received:
    delivery: Delivery
    lease_token: str


@dataclass(frozen=True)
class Receipt:
    message_id: str
    duplicate: bool


class SubmitRefused(Exception):
    """The hub refused a file's content (a client fault): the file will not go as it is."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code


class LeaseGone(Exception):
    """An Ack whose lease expired or was settled: nothing to do, the hub sends it again."""


def fault_code(fault: Fault) -> str:
    code = fault.detail.find(_FAULT_CODE) if fault.detail is not None else None
    return str(code.text) if code is not None else str(fault.code)


def message_id_for(idempotency_key: str) -> str:
    """A Submit sent again after a crash carries the same message id as the first."""
    return str(uuid.uuid5(_KEY_NAMESPACE, idempotency_key))


class HubClient:
    def __init__(
        self, hub_url: str, department: str, username: str, secret: str, timeout: float = 60.0
    ) -> None:
        self.soap_url = hub_url.rstrip("/") + ("" if hub_url.endswith("/soap") else "/soap")
        self.department = department
        self._token = UsernameToken(username, secret, use_digest=True)  # type: ignore[no-untyped-call]
        self._timeout = timeout
        self._client: zeep.Client | None = None
        self._service_proxy: Any = None

    def connect(self) -> None:
        """Reads the hub's WSDL now (else the first call does)."""
        self._service()

    def _service(self) -> Any:
        """The hub's service at the address the node was given (not the WSDL's, which may
        name the hub as it sees itself behind a proxy)."""
        if self._client is None:  # the WSDL is read once the hub is up
            transport = zeep.Transport(timeout=10, operation_timeout=self._timeout)  # type: ignore[no-untyped-call]
            wsdl = f"{self.soap_url}?wsdl"
            client = self._call(
                lambda: zeep.Client(wsdl, wsse=self._token, transport=transport)  # type: ignore[no-untyped-call]
            )
            self._service_proxy = client.create_service(client.service._binding.name, self.soap_url)
            self._client = client
        return self._service_proxy

    def _call(self, call: Any) -> Any:
        try:
            return call()
        except Fault as fault:
            code = fault_code(fault)
            if code in _STOPPING:
                raise HubRefusedNode(
                    f"the hub at {self.soap_url} refuses {self.department}: {code}: {fault.message}"
                ) from fault
            if code.startswith("Server") or code.startswith("soap:Server"):
                raise HubUnreachable(f"the hub answered {code}: {fault.message}") from fault
            raise
        except (requests.RequestException, TransportError, OSError) as error:
            raise HubUnreachable(
                f"the hub at {self.soap_url} cannot be reached: {error}"
            ) from error

    def receive(self, max_messages: int, wait_seconds: int) -> list[Received]:
        service = self._service()
        try:
            answer = self._call(
                lambda: service.Receive(maxMessages=max_messages, waitSeconds=wait_seconds)
            )
        except Fault as fault:  # any other client fault: asking again would not mend it
            raise HubRefusedNode(
                f"Receive refused: {fault_code(fault)}: {fault.message}"
            ) from fault
        return [
            Received(
                Delivery(
                    str(m.idempotencyKey), str(m.messageId), str(m.messageType), bytes(m.document)
                ),
                str(m.leaseToken),
            )
            for m in answer or []
        ]

    def ack(self, *lease_tokens: str) -> None:
        """All or none: one token gone (LeaseGone) and none is acknowledged."""
        service = self._service()
        try:
            self._call(lambda: service.Ack(leaseToken=list(lease_tokens)))
        except Fault as fault:
            if fault_code(fault) in LEASE_GONE:
                raise LeaseGone(fault_code(fault)) from fault
            raise HubUnreachable(f"Ack refused: {fault_code(fault)}") from fault

    def nack(self, lease_token: str, reason: str) -> None:
        """Gives a message back for good (retry false): its leg fails with ``reason``."""
        service = self._service()
        try:
            self._call(lambda: service.Nack(leaseToken=lease_token, reason=reason, retry=False))
        except Fault as fault:
            if fault_code(fault) in LEASE_GONE:
                raise LeaseGone(fault_code(fault)) from fault
            raise HubUnreachable(f"Nack refused: {fault_code(fault)}") from fault

    def submit(self, record: bytes, idempotency_key: str, purpose: str, sent_at: str) -> Receipt:
        """Submits a canonical record (the file's bytes) with a header the node writes."""
        try:
            root = etree.fromstring(record, parser=etree.XMLParser(resolve_entities=False))
        except etree.XMLSyntaxError as error:
            raise SubmitRefused("Client.MalformedXML", str(error)) from error
        service = self._service()
        envelope = _submit_envelope(
            root,
            {
                "messageId": message_id_for(idempotency_key),
                "sender": self.department,
                "messageType": etree.QName(root).localname,
                "schemaVersion": "1.0",
                "idempotencyKey": idempotency_key,
                "purpose": purpose,
                "sentAt": sent_at,
            },
        )
        binding, client = service._binding, service._client
        operation = binding.get("Submit")
        envelope, headers = self._token.apply(envelope, {})  # type: ignore[no-untyped-call]
        headers = {**headers, "SOAPAction": f'"{operation.soapaction}"'}
        headers["Content-Type"] = 'text/xml; charset="utf-8"'
        try:
            answer = self._call(
                lambda: binding.process_reply(
                    client, operation, client.transport.post_xml(self.soap_url, envelope, headers)
                )
            )
        except Fault as fault:
            raise SubmitRefused(fault_code(fault), str(fault.message)) from fault
        return Receipt(str(answer.messageId), bool(answer.duplicate))


def _submit_envelope(record: etree._Element, header: dict[str, str]) -> etree._Element:
    h = HEADER_NAMESPACE
    envelope = etree.Element(f"{{{SOAP_ENVELOPE}}}Envelope", nsmap={"soapenv": SOAP_ENVELOPE})
    body = etree.SubElement(envelope, f"{{{SOAP_ENVELOPE}}}Body")
    submit = etree.SubElement(body, f"{{{h}}}Submit", nsmap={"h": h})
    fields = etree.SubElement(submit, f"{{{h}}}header")
    for name, value in header.items():
        etree.SubElement(fields, f"{{{h}}}{name}").text = value
    etree.SubElement(submit, f"{{{h}}}message").append(record)
    return envelope
