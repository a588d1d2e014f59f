"""The hub's SOAP faults, in SOAP 1.1 and SOAP 1.2, each with the typed detail the WSDL
declares (``h:HubFault``: code, path, line, reason).

A hub code ``Client.SchemaInvalid`` is the SOAP 1.1 faultcode ``soap:Client.SchemaInvalid``
and, in SOAP 1.2, the Code ``env:Sender`` with the Subcode ``h:SchemaInvalid`` (``Server.*``
is ``env:Receiver``). Both carry the full code in the detail as well.
"""

from __future__ import annotations

from lxml import etree
from spyne import Fault

from hub.errors import HubError, RegistrationRefused, SchemaInvalid
from hub.resources import HEADER_NAMESPACE
from hub.untrusted import shown

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
SOAP12_CONTENT_TYPE = "application/soap+xml"
FAULT_DETAIL = f"{{{HEADER_NAMESPACE}}}HubFault"
VERSION_MISMATCH = "VersionMismatch"
# The fault codes each operation can answer with (the WSDL and docs/api.md list them).
_BEFORE_ANY_OPERATION = (
    "Client.MalformedXML",
    "Client.BodyTooLarge",
    VERSION_MISMATCH,
    "Server.Busy",
    # Any operation whose checks or work read the database, while it is away
    # (hub/api/soap_protocol.py HubApplication).
    "Server.Unavailable",
)
# Ack and Nack (hub/mailbox) refuse alike.
_SETTLING_A_LEASE = (
    *_BEFORE_ANY_OPERATION,
    "Client.NotAuthenticated",
    "Client.NoMailbox",
    "Client.UnknownLease",
    "Client.LeaseExpired",
    "Client.AlreadyAcknowledged",
)
OPERATION_FAULTS: dict[str, tuple[str, ...]] = {
    "Submit": (
        *_BEFORE_ANY_OPERATION,
        "Client.SchemaInvalid",
        "Client.InvalidIdentityNumber",
        "Client.UnknownSender",
        "Client.UnknownMessageType",
        "Client.NotAuthenticated",
        "Client.NotAuthorized",
        "Client.IdempotencyConflict",
        "Client.MessageIdTaken",
        # A neighbour hub's forward (docs/federation.md).
        "Client.NotNeighbour",
        "Client.UnknownDivision",
        "Client.LoopRefused",
        "Client.UnknownItem",
        "Client.UnknownCase",
        "Client.StepOutOfOrder",
        "Client.EventInFuture",
        "Client.ReasonMissing",
    ),
    "GetStatus": (
        *_BEFORE_ANY_OPERATION,
        "Client.NotAuthenticated",
        "Client.NotFound",
    ),
    "ListServices": (
        *_BEFORE_ANY_OPERATION,
        "Client.NotAuthenticated",
        "Client.NotAuthorized",
        "Client.UnknownSender",
        "Server.ConfigurationError",
    ),
    "GetSchema": (
        *_BEFORE_ANY_OPERATION,
        "Client.UnknownMessageType",
        "Client.SchemaInvalid",
        "Server.ConfigurationError",
    ),
    "Receive": (
        *_BEFORE_ANY_OPERATION,
        "Client.SchemaInvalid",
        "Client.NotAuthenticated",
        "Client.NoMailbox",
    ),
    "Ack": _SETTLING_A_LEASE,
    "Nack": _SETTLING_A_LEASE,
    **dict.fromkeys(
        ("Query", "QueryAsync"),
        (
            *_BEFORE_ANY_OPERATION,
            "Client.SchemaInvalid",
            "Client.InvalidIdentityNumber",
            "Client.UnknownPart",
            "Client.NotAuthenticated",
            "Client.NotAuthorized",
            "Server.ConfigurationError",
        ),
    ),
    "GetQueryResult": (*_BEFORE_ANY_OPERATION, "Client.NotFound"),
    "SubmitBatch": (
        *_BEFORE_ANY_OPERATION,
        "Client.BatchInvalid",
        "Client.UnknownSender",
        "Client.UnknownMessageType",
        "Client.NotAuthenticated",
        "Client.NotAuthorized",
        "Client.NotFound",
    ),
    "GetDataUsage": (
        *_BEFORE_ANY_OPERATION,
        "Client.SchemaInvalid",
        "Client.InvalidIdentityNumber",
        "Client.NotAuthenticated",
        "Client.NotAuthorized",
        "Server.ConfigurationError",
    ),
}
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_SOAP12_CLASSES = {"Client": "Sender", "Server": "Receiver"}


class HubFault(Fault):  # type: ignore[misc]
    """A fault with the named path (and line) of what was refused, when there is one."""

    def __init__(
        self, code: str, message: str, *, path: str | None = None, line: int | None = None
    ) -> None:
        super().__init__(faultcode=code, faultstring=message)
        self.path = path
        self.line = line


def fault_from(error: HubError, *, path: str | None = None) -> HubFault:
    """A HubError as a fault with its stable code; ``path`` names the field the caller sent
    when the error does not (GetStatus's messageId)."""
    line = error.line if isinstance(error, SchemaInvalid) else None
    named = getattr(error, "path", None)
    return HubFault(error.code, _fault_text(error, named), path=named or path, line=line)


# The header field a Submit refusal is about, for errors that are raised without the element.
_SUBMIT_FIELDS = {
    "Client.UnknownSender": "Submit/header/sender",
    "Client.NotAuthenticated": "Header/Security",
    "Client.UnknownMessageType": "Submit/header/messageType",
    "Client.NotAuthorized": "Submit/header/messageType",
    "Client.IdempotencyConflict": "Submit/header/idempotencyKey",
    "Client.MessageIdTaken": "Submit/header/messageId",
}


def submit_fault(error: HubError) -> HubFault:
    """A Submit refusal, its path the header field it concerns when the error names none."""
    return fault_from(error, path=_SUBMIT_FIELDS.get(error.code))


def _fault_text(error: HubError, path: str | None) -> str:
    """The message, cut, with the error's detail unless the path and line say it already;
    a refused registration keeps every reason, each cut on its own."""
    if isinstance(error, RegistrationRefused):
        return "; ".join(shown(part) for part in error.message.split("; "))
    if error.detail and not path:
        return shown(f"{error.message} ({error.detail})")
    return shown(error.message)


def detail_element(fault: Fault, *, with_line: bool) -> etree._Element:
    """``h:HubFault``: the code, the named path and line when known, the reason. The line is
    left out of a request sent on one line, where it says nothing."""
    detail = etree.Element(FAULT_DETAIL, nsmap={"h": HEADER_NAMESPACE})
    _child(detail, "code", str(fault.faultcode))
    _child(detail, "path", getattr(fault, "path", None))
    line = getattr(fault, "line", None)
    _child(detail, "line", str(line) if with_line and line else None)
    _child(detail, "reason", str(fault.faultstring or fault.faultcode))
    return detail


def _child(parent: etree._Element, name: str, text: str | None) -> None:
    if text:
        etree.SubElement(parent, f"{{{HEADER_NAMESPACE}}}{name}").text = text


def soap11_fault(body: etree._Element, fault: Fault, *, with_line: bool) -> etree._Element:
    """The SOAP 1.1 Fault, written into ``body`` (whose envelope names the prefix)."""
    element = etree.SubElement(body, f"{{{SOAP11_ENV}}}Fault")
    code = str(fault.faultcode)
    etree.SubElement(element, "faultcode").text = f"{element.prefix}:{code}"
    etree.SubElement(element, "faultstring").text = str(fault.faultstring or code)
    etree.SubElement(element, "detail").append(detail_element(fault, with_line=with_line))
    return element


def soap12_fault(body: etree._Element, fault: Fault, *, with_line: bool) -> etree._Element:
    """The SOAP 1.2 Fault, written into ``body``; the Subcode's prefix is declared on it."""
    element = etree.SubElement(body, f"{{{SOAP12_ENV}}}Fault", nsmap={"h": HEADER_NAMESPACE})
    prefix = element.prefix
    value, subcode = soap12_code(str(fault.faultcode))
    code = etree.SubElement(element, f"{{{SOAP12_ENV}}}Code")
    etree.SubElement(code, f"{{{SOAP12_ENV}}}Value").text = f"{prefix}:{value}"
    if subcode:
        sub = etree.SubElement(code, f"{{{SOAP12_ENV}}}Subcode")
        etree.SubElement(sub, f"{{{SOAP12_ENV}}}Value").text = f"h:{subcode}"
    reason = etree.SubElement(element, f"{{{SOAP12_ENV}}}Reason")
    text = etree.SubElement(reason, f"{{{SOAP12_ENV}}}Text", {_XML_LANG: "en"})
    text.text = str(fault.faultstring or fault.faultcode)
    detail = etree.SubElement(element, f"{{{SOAP12_ENV}}}Detail")
    detail.append(detail_element(fault, with_line=with_line))
    return element


def fault_envelope(fault: Fault, *, soap12: bool) -> bytes:
    """A whole envelope holding the fault: for answers written before spyne reads anything."""
    namespace = SOAP12_ENV if soap12 else SOAP11_ENV
    envelope = etree.Element(f"{{{namespace}}}Envelope", nsmap={"soapenv": namespace})
    body = etree.SubElement(envelope, f"{{{namespace}}}Body")
    (soap12_fault if soap12 else soap11_fault)(body, fault, with_line=False)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def soap12_code(code: str) -> tuple[str, str]:
    """(Code value, Subcode local name) of a hub code: Client.X -> (Sender, X)."""
    if code == VERSION_MISMATCH:
        return VERSION_MISMATCH, ""
    kind, _, rest = code.partition(".")
    return _SOAP12_CLASSES.get(kind, "Receiver"), rest


def is_sender_fault(code: str) -> bool:
    return code.split(".", 1)[0] == "Client"


__all__ = [
    "FAULT_DETAIL",
    "OPERATION_FAULTS",
    "SOAP11_ENV",
    "SOAP12_CONTENT_TYPE",
    "SOAP12_ENV",
    "VERSION_MISMATCH",
    "HubFault",
    "detail_element",
    "fault_envelope",
    "fault_from",
    "is_sender_fault",
    "soap11_fault",
    "soap12_code",
    "soap12_fault",
    "submit_fault",
]
