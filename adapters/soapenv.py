"""Reading SOAP envelopes, 1.1 and 1.2: a department's answer (fault or receipt) and a
department's push. Everything is parsed with the hub's one hardened parser."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from adapters._http import excerpt
from hub import xmlparse
from hub.errors import (
    ClientError,
    ConfigurationError,
    DeliveryError,
    MalformedXML,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from hub.resources import HEADER_NAMESPACE

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
ENVELOPE_NAMESPACES = {"1.1": SOAP11_NS, "1.2": SOAP12_NS}
IDEMPOTENCY_KEY = f"{{{HEADER_NAMESPACE}}}IdempotencyKey"

# Fault codes that say "the department is in trouble, ask again later" (1.1 Server*, 1.2
# Receiver); every other fault says the message itself is refused.
_RETRYABLE_FAULT_CODES = frozenset({"Server", "Receiver"})

# How the departments the hub ships with answer; a department's ``options`` override these
# (result_field, duplicate_value, reference_field: text or a list of text).
DEFAULT_RESULT_FIELDS = ("status", "result", "JieGuo")
DEFAULT_DUPLICATE_VALUES = ("duplicate", "CHONGFU")
DEFAULT_REFERENCE_FIELDS = ("reference", "HuiZhiBianHao")


@dataclass(frozen=True)
class Fault:
    code: str  # local part, e.g. "Client", "Server.Busy", "Sender"
    reason: str


@dataclass(frozen=True)
class AnswerRules:
    """Where a receipt says "duplicate" and where it carries the department's reference."""

    result_fields: tuple[str, ...] = DEFAULT_RESULT_FIELDS
    duplicate_values: tuple[str, ...] = DEFAULT_DUPLICATE_VALUES
    reference_fields: tuple[str, ...] = DEFAULT_REFERENCE_FIELDS

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> AnswerRules:
        defaults = cls()
        return cls(
            result_fields=_texts(options.get("result_field"), defaults.result_fields),
            duplicate_values=_texts(options.get("duplicate_value"), defaults.duplicate_values),
            reference_fields=_texts(options.get("reference_field"), defaults.reference_fields),
        )

    def is_duplicate(self, answer: etree._Element) -> bool:
        value = _first_field(answer, self.result_fields)
        return value is not None and value.strip() in self.duplicate_values

    def reference(self, answer: etree._Element) -> str | None:
        value = _first_field(answer, self.reference_fields)
        return value.strip() if value else None


def parse_answer(body: bytes) -> etree._Element | None:
    """The answer's envelope, or None when the answer is not XML at all."""
    try:
        return xmlparse.parse(body)
    except ClientError:
        return None


def body_payload(envelope: etree._Element) -> etree._Element | None:
    """The first element inside the envelope's Body, whichever SOAP version it is."""
    namespace = etree.QName(envelope).namespace
    if etree.QName(envelope).localname != "Envelope" or namespace not in (SOAP11_NS, SOAP12_NS):
        return None
    body = envelope.find(f"{{{namespace}}}Body")
    if body is None:
        return None
    return next(iter(_elements(body)), None)


def read_fault(payload: etree._Element) -> Fault | None:
    tag = etree.QName(payload)
    if tag.localname != "Fault" or tag.namespace not in (SOAP11_NS, SOAP12_NS):
        return None
    if tag.namespace == SOAP11_NS:
        code = payload.findtext("faultcode") or ""
        reason = payload.findtext("faultstring") or ""
    else:
        code = payload.findtext(f"{{{SOAP12_NS}}}Code/{{{SOAP12_NS}}}Value") or ""
        reason = payload.findtext(f"{{{SOAP12_NS}}}Reason/{{{SOAP12_NS}}}Text") or ""
    return Fault(code=code.strip().rpartition(":")[2], reason=reason.strip())


def fault_error(department: str, fault: Fault, answer: str) -> DeliveryError:
    # The reason may quote the record: bound it and mask identity numbers, like the excerpt.
    message = f"{department} answered with SOAP fault {fault.code}: {excerpt(fault.reason, 200)}"
    if fault.code.split(".")[0] in _RETRYABLE_FAULT_CODES:
        return RetryableDeliveryError(message, detail=answer or None)
    return PermanentDeliveryError(message, detail=answer or None)


def unwrap_push(
    data: bytes, soap_version: str, charset: str | None = None
) -> tuple[etree._Element, etree._Element | None]:
    """A pushed envelope's payload (as its own document) and its Header, if any; ``charset``:
    the one its Content-Type names (it must agree with the XML declaration)."""
    envelope = xmlparse.parse(data, charset=charset)
    expected = ENVELOPE_NAMESPACES[soap_version]
    namespace = etree.QName(envelope).namespace
    if etree.QName(envelope).localname != "Envelope" or namespace not in (SOAP11_NS, SOAP12_NS):
        raise MalformedXML(f"expected a SOAP {soap_version} Envelope, got <{envelope.tag}>")
    if namespace != expected:
        sent = "1.1" if namespace == SOAP11_NS else "1.2"
        raise MalformedXML(
            f"a SOAP {sent} envelope was sent to a department that speaks SOAP {soap_version}",
            detail=f"expected envelope namespace {expected}",
        )
    payload = body_payload(envelope)
    if payload is None:
        raise MalformedXML("the SOAP Body is missing or empty")
    if read_fault(payload) is not None:
        raise MalformedXML("a SOAP Fault is not a record the hub can take")
    return copy.deepcopy(payload), envelope.find(f"{{{expected}}}Header")


def header_idempotency_key(header: etree._Element | None) -> str | None:
    if header is None:
        return None
    key = header.findtext(IDEMPOTENCY_KEY)
    return key.strip() if key and key.strip() else None


def _first_field(answer: etree._Element, names: Iterable[str]) -> str | None:
    """The first attribute or element (by local name) in the answer with one of ``names``."""
    for name in names:
        for element in answer.iter(etree.Element):
            if name in element.attrib:
                return str(element.attrib[name])
            if etree.QName(element).localname == name and element.text is not None:
                return str(element.text)
    return None


def _elements(parent: etree._Element) -> list[etree._Element]:
    return [child for child in parent if isinstance(child.tag, str)]


def _texts(value: object, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return default
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ConfigurationError(f"answer option: expected text or a list of text, got {value!r}")
