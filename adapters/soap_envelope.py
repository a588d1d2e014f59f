"""The request a SOAP delivery posts, built without zeep's objects: the department's native
document (already validated) as the soap:Body's only child, the hub's IdempotencyKey in the
soap:Header, WS-Security on top, and the HTTP headers zeep 4.3 sends for the operation.

zeep would parse the document into its Python objects and serialise them back for every call
(docs/performance.md, issue 6); the document is already what the WSDL's input element wants,
so it goes into the envelope as it is. zeep still reads the WSDL, once (adapters/soap.py).
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from lxml import etree

from adapters.base import EnvelopeSigner
from adapters.soap_transport import with_charset
from adapters.soapenv import ENVELOPE_NAMESPACES, IDEMPOTENCY_KEY
from hub.resources import HEADER_NAMESPACE

# zeep's prefix for the envelope, so what departments see does not change with this module.
ENVELOPE_PREFIX = "soap-env"


class EnvelopeToken(Protocol):
    """zeep's wsse contract (zeep.wsse.username.UsernameToken): adds itself to any envelope."""

    def apply(self, envelope: etree._Element, headers: dict[str, str]) -> tuple[Any, Any]: ...


def request_headers(soap_version: str, soap_action: str | None, encoding: str) -> dict[str, str]:
    """The HTTP headers of a call, as zeep sends them: SOAPAction always (quoted, ``""`` when
    the WSDL has none); for 1.2 the action in the Content-Type too; the charset ``encoding``."""
    action = soap_action or ""
    content_type = (
        "text/xml" if soap_version == "1.1" else f'application/soap+xml; action="{action}"'
    )
    return with_charset({"SOAPAction": f'"{action}"', "Content-Type": content_type}, encoding)


def build(soap_version: str, idempotency_key: str, document: etree._Element) -> etree._Element:
    """A new envelope around ``document``, which is moved into it (not copied): the caller
    hands over a tree it will not use again."""
    soap = ENVELOPE_NAMESPACES[soap_version]
    envelope = etree.Element(f"{{{soap}}}Envelope", nsmap={ENVELOPE_PREFIX: soap})
    header = etree.SubElement(envelope, f"{{{soap}}}Header")
    key = etree.SubElement(header, IDEMPOTENCY_KEY, nsmap={"h": HEADER_NAMESPACE})
    key.text = idempotency_key
    body = etree.SubElement(envelope, f"{{{soap}}}Body")
    body.append(document)
    document.tail = None
    return envelope


def secure(
    envelope: etree._Element,
    headers: dict[str, str],
    token: EnvelopeToken | None,
    signer: EnvelopeSigner | None,
) -> tuple[etree._Element, dict[str, str]]:
    """The envelope with the hub's signature and UsernameToken, when it has them.

    The signature goes on first: the signer always adds a wsse:Security header of its own, and
    the token then joins that one (zeep looks for an existing header). Token first would make
    two Security headers, and a department reads the first (tests/test_adapter_soap_envelope.py).
    The signature covers the Body and its wsu:Timestamp, which the token does not touch."""
    if signer is not None:
        signer.sign(envelope)
    if token is not None:
        secured, headers = token.apply(envelope, headers)
        envelope = cast(etree._Element, secured)
    return envelope, headers
