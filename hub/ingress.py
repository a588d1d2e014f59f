"""Ingress: from a department's request to an accepted, stored, published message.

The order of the steps is written down here, once:
  prepare   who sent it, may they send this type, schema-valid (and a schema version this hub
            speaks), identity numbers correct, (native pushes) translated to canonical through
            the department's inbound mapping
            ; the original as received, less every wsse:Password (no secret is stored)
  commit    message + one delivery per receiver in ONE transaction (shared with whatever
            other requests are waiting: group commit), then publish to the bus; a case event
            is checked against its case (refused naming the rule, hub/supervision) and its
            case updated in the message's own transaction, not grouped
A caller is told "accepted" only after commit.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Protocol

from lxml import etree
from sqlalchemy import Connection

from adapters.base import Adapter
from hub import identity, xmlparse
from hub.bus import DeliveryTask, Publisher
from hub.config import Settings
from hub.departments import DepartmentConfig, DepartmentDirectory
from hub.errors import (
    HubError,
    NotNeighbour,
    SchemaInvalid,
    StoreUnavailable,
    UnknownMessageType,
)
from hub.federation.addressing import at_home
from hub.federation.admission import ForwardAdmission
from hub.header_fields import limited
from hub.mapping import Document, MappingRegistry
from hub.mapping import Mapping as CompiledMapping
from hub.mapping.moments import normalise_moments
from hub.observability import metrics, outages
from hub.resources import (
    CANONICAL_NAMESPACE,
    CANONICAL_SCHEMA,
    HEADER_SCHEMA,
)
from hub.routing import Routed, RoutingTable
from hub.schemas import SchemaRegistry
from hub.security import audit
from hub.security.audit import AuditLog
from hub.security.scrubbing import without_passwords
from hub.security.wsse import WsseVerifier
from hub.store import NewMessage, Receipt, Store
from hub.store.group_commit import GroupCommitter
from hub.supervision import CASE_EVENT_TYPES, CaseBook
from hub.untrusted import shown
from hub.versions import BASE_VERSION, ModelVersion, default_versions
from hub.versions.catalog import base_version, namespace_of

log = logging.getLogger(__name__)

_IDENTITY_TAG = f"{{{CANONICAL_NAMESPACE}}}identityNumber"
NATIVE_PURPOSE = "native notification"


@dataclass(frozen=True)
class PreparedMessage:
    """A message that passed every check and may be committed."""

    message: NewMessage
    receivers: tuple[str, ...]
    warning: str | None = None  # for the receipt: a deprecated canonical version (hub/versions)


class Ingress:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        routes: RoutingTable,
        departments: DepartmentDirectory,
        mappings: MappingRegistry,
        schemas: SchemaRegistry,
        publisher: Publisher,
        adapter_for: Callable[[DepartmentConfig], Adapter],
        verifier: WsseVerifier | None = None,
        case_book: CaseBook | None = None,
        forwards: ForwardAdmission | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.routes = routes
        self.departments = departments
        self.mappings = mappings
        self.schemas = schemas
        self.publisher = publisher
        self.adapter_for = adapter_for
        self.verifier = verifier
        self.case_book = case_book
        # Forwards from neighbour hubs (hub/federation); None: this hub takes none.
        self.forwards = forwards
        self._audit = AuditLog(store.engine)
        # Concurrent requests share one transaction; each is answered after its commit.
        self._committer = GroupCommitter(store, settings.lease_seconds)

    def prepare_canonical(
        self,
        envelope: etree._Element,
        header: etree._Element,
        message: etree._Element,
        original: bytes,
        content_type: str = "text/xml",
    ) -> PreparedMessage:
        """A department submitted a header and a canonical message (the SOAP API); the
        envelope carries its WS-Security header, checked against its registered credentials."""
        verify = None if self.verifier is None else partial(self.verifier.verify, envelope)
        admit = None if self.forwards is None else partial(self.forwards.admit, envelope)
        checked = check_submit(self, header, message, authenticate=verify, forwarded=admit)
        fields, sender, message_type = checked.fields, checked.sender, checked.message_type
        routed, canonical, numbers = checked.routed, checked.canonical, checked.identity_numbers
        return PreparedMessage(
            NewMessage(
                message_id=fields["messageId"].lower(),
                message_type=message_type,
                sender=sender,
                correlation_id=fields.get("correlationId") or None,
                idempotency_key=fields["idempotencyKey"],
                purpose=fields["purpose"],
                sent_at=checked.sent_at,
                schema_version=checked.version.version,
                original=without_passwords(original, envelope),
                original_content_type=content_type,
                canonical=canonical,
                inbound_mapping=None,
                identity_numbers=numbers,
                skipped=_logged_skips(routed, message_type),
                hub_path=tuple(fields["hubPath"].split()) if fields.get("forwardedTo") else (),
            ),
            self._addressed(routed.receivers),
            checked.version_warning,
        )

    def _addressed(self, receivers: tuple[str, ...]) -> tuple[str, ...]:
        """A receiver in this hub's own division is its local department."""
        if self.forwards is None:
            return receivers
        return at_home(receivers, self.forwards.federation.current.division)

    def prepare_native(
        self, department: str, body: bytes, headers: Mapping[str, str], path: str
    ) -> PreparedMessage:
        """A department pushed a record in its own format (its adapter decodes it)."""
        config = self.departments.sender(department)
        record = self.adapter_for(config).decode_inbound(body, headers, path)
        checked = check_native(self, department, record.message_type, record.document)
        mapping, routed = checked.mapping, checked.routed
        canonical, numbers = checked.canonical, checked.identity_numbers
        key = limited("idempotencyKey", record.idempotency_key, "the Idempotency-Key")
        correlation = limited("correlationId", headers.get("X-Correlation-Id"), "X-Correlation-Id")
        purpose = limited("purpose", headers.get("X-Purpose"), "X-Purpose")
        return PreparedMessage(
            NewMessage(
                message_id=str(uuid.uuid4()),
                message_type=record.message_type,
                sender=department,
                correlation_id=correlation or None,
                idempotency_key=key or hashlib.sha256(body).hexdigest(),
                purpose=purpose or NATIVE_PURPOSE,
                sent_at=datetime.now(UTC),
                schema_version=checked.version.version,
                original=without_passwords(body),
                original_content_type=headers.get("Content-Type", "application/octet-stream"),
                canonical=canonical,
                inbound_mapping=mapping.name,
                identity_numbers=numbers,
                skipped=_logged_skips(routed, record.message_type),
            ),
            self._addressed(routed.receivers),
        )

    def record_refusal(self, sender: str, what: str, error: HubError) -> None:
        """A refused request goes into the chained audit log: who tried what, and why."""
        try:
            # Both come from an unauthenticated caller: the audit writer masks and cuts them.
            self._audit.append(
                actor=sender or "unknown",
                action=audit.REFUSED,
                subject=what or "unknown",
                details={"code": error.code, "reason": error.message},
            )
        except Exception:  # the refusal itself must still reach the caller
            log.exception("could not audit a refusal")

    def commit(self, prepared: PreparedMessage) -> Receipt:
        """Store in one transaction, then publish each new delivery. Returns the receipt.
        A case event updates its case in that transaction, or is refused with the rule it
        breaks."""
        try:
            receipt = self._store(prepared)
        except StoreUnavailable as error:
            if error.__cause__ is not None and outages.is_database_outage(error.__cause__):
                outages.DATABASE.failed(error.__cause__)  # said once; each caller is answered
            raise
        outages.DATABASE.answered()
        message = prepared.message
        if not receipt.duplicate:
            metrics.MESSAGES_ACCEPTED.labels(message.sender, message.message_type).inc()
        if not receipt.duplicate and receipt.deliveries:
            # A failed publish loses nothing: the relay republishes when the lease ends.
            self.publisher.publish_all_quietly(
                [
                    DeliveryTask(d.delivery_id, d.department, d.idempotency_key)
                    for d in receipt.deliveries
                ]
            )
        log.info(
            "accepted %s %s from %s for %s%s",
            prepared.message.message_type,
            receipt.message_id,
            prepared.message.sender,
            ",".join(receipt.receivers) or "nobody",
            " (repeat)" if receipt.duplicate else "",
        )
        return receipt

    def _store(self, prepared: PreparedMessage) -> Receipt:
        if self.case_book is not None and prepared.message.message_type in CASE_EVENT_TYPES:
            return self._commit_case_event(self.case_book, prepared)
        return self._committer.save_accepted(prepared.message, prepared.receivers)

    def _commit_case_event(self, book: CaseBook, prepared: PreparedMessage) -> Receipt:
        """The case and the message in one transaction: a message not stored (the database
        failed, a concurrent twin) leaves no case change behind."""
        message, receivers = prepared.message, tuple(dict.fromkeys(prepared.receivers))
        stored: list[Receipt] = []

        def store_message(connection: Connection) -> None:
            stored.extend(
                self.store.save_accepted_on(
                    connection, [(message, receivers)], self.settings.lease_seconds
                )
            )

        try:
            book.record(message, store_message)
        except HubError:
            raise
        except Exception as exc:  # the database failed: nothing of it was written
            raise StoreUnavailable(
                f"the hub could not store the message now ({type(exc).__name__})"
            ) from exc
        if stored:
            return stored[0]
        return self._committer.save_accepted(message, receivers)  # a repeat: the store answers


class IngressRules(Protocol):
    """What ingress checks a request against: ``Ingress`` itself, or `govhub validate`'s."""

    @property
    def schemas(self) -> SchemaRegistry: ...
    @property
    def departments(self) -> DepartmentDirectory: ...
    @property
    def routes(self) -> RoutingTable: ...
    @property
    def mappings(self) -> MappingRegistry: ...


@dataclass(frozen=True)
class CheckedNative:
    mapping: CompiledMapping
    routed: Routed
    canonical: bytes
    identity_numbers: tuple[str, ...]
    version: ModelVersion = field(default_factory=lambda: base_version(""))


def check_native(
    rules: IngressRules, department: str, message_type: str, document: Document
) -> CheckedNative:
    """Every check a record a department pushed in its own format passes, once its adapter
    decoded it: may it send this type, its inbound mapping, the canonical record's checks."""
    rules.routes.receivers_for(department, message_type)  # may it send this at all?
    mapping = rules.mappings.get(department, "inbound", message_type)
    translated = mapping.translate(document)
    if not isinstance(translated, etree._Element):
        raise UnknownMessageType(f"mapping {mapping.name} does not produce canonical XML")
    # A mapping may produce a later canonical version: stored so, routed on its 1.0 form.
    base = default_versions().base_form(rules.schemas, translated)
    canonical, numbers = checked_canonical(rules.schemas, base)
    if base is not translated:
        canonical = etree.tostring(translated, encoding="UTF-8")
    routed = rules.routes.route_message(department, message_type, base)
    version = default_versions().version_of(message_type, translated)
    return CheckedNative(mapping, routed, canonical, numbers, version or base_version(""))


@dataclass(frozen=True)
class CheckedSubmit:
    fields: dict[str, str]
    sent_at: datetime
    routed: Routed
    canonical: bytes
    identity_numbers: tuple[str, ...]
    version: ModelVersion = field(default_factory=lambda: base_version(""))
    version_warning: str | None = None

    @property
    def sender(self) -> str:
        return self.fields["sender"]

    @property
    def message_type(self) -> str:
        return self.fields["messageType"]


def check_submit(
    rules: IngressRules,
    header: etree._Element,
    message: etree._Element,
    authenticate: Callable[[str], object] | None = None,
    forwarded: Callable[[Mapping[str, str]], Routed] | None = None,
) -> CheckedSubmit:
    """Every check a Submit's header and record pass, in the order the hub makes them;
    ``authenticate`` (the sender's WS-Security) runs once the sender is known. A header
    with ``forwardedTo`` is a neighbour hub's forward: ``forwarded`` admits and routes it."""
    rules.schemas.validate_xml(header, HEADER_SCHEMA)
    fields = {etree.QName(child).localname: (child.text or "") for child in header}
    sender, message_type = fields["sender"], fields["messageType"]
    versions = default_versions()
    try:
        accepted = versions.accept(message_type, fields["schemaVersion"], sender)
    except SchemaInvalid as exc:
        exc.path = _child_path(header, "schemaVersion")
        raise
    version = accepted.version
    routed: Routed | None = None
    if fields.get("forwardedTo"):
        if forwarded is None:
            raise NotNeighbour("this hub has no neighbour hubs: it takes no forwards")
        routed = forwarded(fields)
    else:
        rules.departments.sender(sender)
        if authenticate is not None:
            authenticate(sender)
        if version.version == BASE_VERSION:
            routed = rules.routes.route_message(sender, message_type, message)
        else:
            rules.routes.receivers_for(sender, message_type)  # may it send this at all?
    if message.tag != f"{{{namespace_of(version)}}}{message_type}":
        raise SchemaInvalid(
            f"header says {message_type} {version.version} but the message is "
            f"{etree.QName(message).localname} in {etree.QName(message).namespace}",
            path=xmlparse.named_path(message),
        )
    if version.version == BASE_VERSION:
        canonical, numbers = checked_canonical(rules.schemas, message)
    else:  # stored as received; routing and the identity index read its 1.0 form
        base = versions.base_form(rules.schemas, message)
        _, numbers = checked_canonical(rules.schemas, base)
        if routed is None:
            routed = rules.routes.route_message(sender, message_type, base)
        canonical = etree.tostring(message, encoding="UTF-8")
    assert routed is not None  # routed above for 1.0, from its 1.0 form otherwise
    sent_at = _parse_datetime(fields["sentAt"], header)
    return CheckedSubmit(fields, sent_at, routed, canonical, numbers, version, accepted.warning)


def checked_canonical(
    schemas: SchemaRegistry, message: etree._Element
) -> tuple[bytes, tuple[str, ...]]:
    """The record's bytes, its dates and times in the form every mapping reads, and its
    identity numbers (for the store's index). `govhub validate` runs the same checks."""
    schemas.validate_xml(message, CANONICAL_SCHEMA)
    normalise_moments(message)
    numbers = []
    for element in message.iter(_IDENTITY_TAG):
        number = element.text or ""
        if not identity.is_valid(number):  # the element's path only for the error
            identity.verify(number, where=_element_path(element))
        numbers.append(number)
    return etree.tostring(message, encoding="UTF-8"), tuple(numbers)


def _logged_skips(routed: Routed, message_type: str) -> tuple[tuple[str, str], ...]:
    """The receivers skipped because their condition failed; each is logged for operators
    (the reason names the condition and lxml's error, never the record's content)."""
    for department, why in routed.skipped:
        log.warning("%s not routed to %s: %s", message_type, department, shown(why))
    return routed.skipped


def _parse_datetime(text: str, header: etree._Element) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:  # XSD allows 24:00:00, Python does not
        raise SchemaInvalid(
            f"sentAt {text!r} is not a date and time this hub can use",
            path=_child_path(header, "sentAt"),
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _child_path(parent: etree._Element, name: str) -> str:
    """The named path of ``parent``'s child ``name`` (the header's fields share its namespace)."""
    child = parent.find(f"{{{etree.QName(parent).namespace}}}{name}")
    return xmlparse.named_path(child if child is not None else parent)


def _element_path(element: etree._Element) -> str:
    return xmlparse.named_path(element)
