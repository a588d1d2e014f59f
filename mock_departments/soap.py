"""SOAP 1.1 and 1.2 envelopes for the mocks: read one (with the hub's idempotency header),
check the hub's signature on it, write an answer or a fault. Untrusted bytes go through
hub.xmlparse.parse only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from hub import xmlparse
from hub.errors import ClientError, MalformedXML, NotAuthenticated
from hub.resources import HEADER_NAMESPACE
from hub.security.freshness import parse_time
from hub.security.signature import WSU, verify_signature

IDEMPOTENCY_KEY = f"{{{HEADER_NAMESPACE}}}IdempotencyKey"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


@dataclass(frozen=True)
class SoapVersion:
    name: str
    namespace: str
    media_type: str
    client_code: str  # the fault code for "the sender is wrong"
    server_code: str  # the fault code for "try again later"
    client_status: int  # HTTP status of a client fault


SOAP11 = SoapVersion(
    "1.1", "http://schemas.xmlsoap.org/soap/envelope/", "text/xml", "Client", "Server", 500
)
SOAP12 = SoapVersion(
    "1.2",
    "http://www.w3.org/2003/05/soap-envelope",
    "application/soap+xml",
    "Sender",
    "Receiver",
    400,
)


@dataclass(frozen=True)
class Envelope:
    """What a mock needs from a received envelope."""

    body: etree._Element  # the native document (the first child of soap:Body)
    root: etree._Element  # the whole envelope, for checking a signature
    idempotency_key: str | None
    encoding: str  # as it arrived: the XML declaration, else the HTTP charset, else UTF-8


def declared_encoding(data: bytes) -> str | None:
    match = _DECLARED_ENCODING.match(data[:200])
    return match.group(1).decode("ascii") if match else None


def read_envelope(data: bytes, version: SoapVersion, *, charset: str | None = None) -> Envelope:
    """Parse and take apart an envelope, or raise a ClientError saying what is wrong."""
    encoding = declared_encoding(data) or charset or "UTF-8"
    if declared_encoding(data) is None and encoding.upper().replace("-", "") != "UTF8":
        data = _to_utf8(data, encoding)  # lxml reads undeclared bytes as UTF-8
    root = xmlparse.parse(data)
    if root.tag != f"{{{version.namespace}}}Envelope":
        raise ClientError(f"expected a SOAP {version.name} Envelope, got {root.tag}")
    body = root.find(f"{{{version.namespace}}}Body")
    if body is None or len(body) == 0:
        raise ClientError("the SOAP Body is missing or empty")
    key = _header_key(root, version)
    return Envelope(body=body[0], root=root, idempotency_key=key, encoding=encoding.upper())


def check_hub_signature(incoming: Envelope, version: SoapVersion, certificate_pem: str) -> None:
    """NotAuthenticated unless the hub signed the Body and an unexpired wsu:Timestamp with the
    key of ``certificate_pem`` (what a department does with the hub's certificate)."""
    now = datetime.now(UTC)
    security = incoming.root.find(f"{{{version.namespace}}}Header/{{{WSSE}}}Security")
    if security is None:
        raise NotAuthenticated("the delivery is not signed: no wsse:Security header")
    timestamp = security.find(f"{{{WSU}}}Timestamp")
    expires = None if timestamp is None else timestamp.findtext(f"{{{WSU}}}Expires")
    if not expires or parse_time(expires, "the wsu:Timestamp") < now:
        raise NotAuthenticated("the delivery has no unexpired wsu:Timestamp")
    verify_signature(incoming.root, security, certificate_pem, now)


def _to_utf8(data: bytes, encoding: str) -> bytes:
    try:
        return data.decode(encoding).encode("utf-8")
    except (LookupError, UnicodeDecodeError) as exc:
        raise MalformedXML(f"body does not decode as {encoding}: {exc}") from exc


def _header_key(root: etree._Element, version: SoapVersion) -> str | None:
    header = root.find(f"{{{version.namespace}}}Header")
    element = None if header is None else header.find(IDEMPOTENCY_KEY)
    text = None if element is None else (element.text or "").strip()
    return text or None


def envelope(version: SoapVersion, body: etree._Element, *, encoding: str = "UTF-8") -> bytes:
    """A complete envelope around ``body``, serialized in ``encoding``."""
    root = etree.Element(f"{{{version.namespace}}}Envelope", nsmap={"soap": version.namespace})
    etree.SubElement(root, f"{{{version.namespace}}}Body").append(body)
    data = etree.tostring(root, encoding=encoding, xml_declaration=True)
    assert isinstance(data, bytes)  # any encoding but "unicode" gives bytes
    return data


def fault(version: SoapVersion, *, client: bool, reason: str, encoding: str = "UTF-8") -> bytes:
    """A fault envelope: Client/Sender when the content is refused, else Server/Receiver."""
    ns = version.namespace
    code = version.client_code if client else version.server_code
    element = etree.Element(f"{{{ns}}}Fault", nsmap={"soap": ns})
    if version is SOAP11:
        etree.SubElement(element, "faultcode").text = f"soap:{code}"
        etree.SubElement(element, "faultstring").text = reason
    else:
        value = etree.SubElement(etree.SubElement(element, f"{{{ns}}}Code"), f"{{{ns}}}Value")
        value.text = f"soap:{code}"
        text = etree.SubElement(etree.SubElement(element, f"{{{ns}}}Reason"), f"{{{ns}}}Text")
        text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        text.text = reason
    return envelope(version, element, encoding=encoding)


def content_type(version: SoapVersion, encoding: str = "UTF-8", action: str | None = None) -> str:
    value = f"{version.media_type}; charset={encoding}"
    if action and version is SOAP12:
        value += f'; action="{action}"'
    return value
