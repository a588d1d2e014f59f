"""The adapter contract: how the hub hands a translated record to a department, and how a
department's native push becomes a record the hub can map.

An adapter is one small class. ``deliver`` is the whole outbound contract; it raises
``RetryableDeliveryError`` (down, timeout, HTTP 5xx, SOAP Server fault) or
``PermanentDeliveryError`` (the department rejects the content) and returns a
``DeliveryResult`` when the department took the record (or already had it).
``decode_inbound`` turns the bytes a department pushed into its native document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

from lxml import etree

from hub.departments import DepartmentConfig

NativeDocument = etree._Element | dict[str, Any]


@dataclass(frozen=True)
class OutboundDelivery:
    """A record already translated into the department's format and validated."""

    department: str
    message_type: str
    message_id: str
    idempotency_key: str
    document: NativeDocument
    encoding: str = "UTF-8"


@dataclass(frozen=True)
class DeliveryResult:
    status: Literal["accepted", "duplicate"]
    reference: str | None = None
    response_excerpt: str = ""


@dataclass(frozen=True)
class InboundRecord:
    """What a department pushed, decoded: its native document and what it is."""

    message_type: str
    document: NativeDocument
    idempotency_key: str | None
    raw: bytes


class EnvelopeSigner(Protocol):
    """Signs a SOAP envelope in place (hub/security/reply_signing.py: ReplySigner)."""

    def sign(self, envelope: etree._Element) -> None: ...


class Adapter:
    """Base class: subclasses set ``name`` and implement ``deliver`` (and ``decode_inbound``
    if the department pushes records to the hub)."""

    name: ClassVar[str] = ""

    def __init__(self, department: DepartmentConfig) -> None:
        self.department = department

    def deliver(self, delivery: OutboundDelivery) -> DeliveryResult:
        raise NotImplementedError

    def decode_inbound(
        self, body: bytes, headers: Mapping[str, str], path: str = ""
    ) -> InboundRecord:
        raise NotImplementedError(f"adapter {self.name!r} does not take native pushes")

    def use_signer(self, signer: EnvelopeSigner | None) -> None:
        """The hub's signing key, handed to every adapter once it is made; one that signs
        what it sends keeps it (SOAP, ``sign_deliveries``), the others ignore it."""

    def close(self) -> None:
        """Release connections; called when the hub stops or the department is reloaded."""
