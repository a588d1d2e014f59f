"""One delivery attempt: claim, translate the canonical record, hand it to the adapter, record.

Outcomes by error class (hub/errors.py):
  RetryableDeliveryError            retrying with backoff, failed after max_attempts
  PermanentDeliveryError, ClientError (MappingError, SchemaInvalid, ...)   failed at once
  anything else (a bug, a config gap) retrying, logged with identity numbers masked

Each department's retry policy is the hub's, with its ``retry`` overrides; attempts and age
count from the start of the round (creation, or the last replay). A retry is never waited
for here: it is written to the database and the relay publishes it when it is due, so a
down department holds a worker thread only as long as its adapter timeout.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from lxml import etree

from adapters.base import Adapter, DeliveryResult, NativeDocument, OutboundDelivery
from hub.adapter_cache import AdapterCache, AdapterFactory
from hub.bundle import parking as bundle_parking
from hub.bundle.parking import is_bundled
from hub.departments import DepartmentDirectory
from hub.errors import (
    ClientError,
    ConfigurationError,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from hub.federation import is_remote
from hub.federation.forwarder import Forwarder
from hub.identity import mask_in_text
from hub.mailbox import MAILBOX_ADAPTER
from hub.mailbox.store import MailboxStore
from hub.mailbox.waiting import DOORBELL
from hub.observability import metrics
from hub.retry import RetryPolicy
from hub.security import audit
from hub.store import AttemptRecord, ClaimedDelivery, Store
from hub.untrusted import shown
from hub.versions import default_versions
from hub.xmlparse import parse

log = logging.getLogger(__name__)


class AttemptLedger(Protocol):
    """Where claims and attempts are written: the Store, or its group commit
    (hub/store/attempt_commit.py: AttemptCommitter)."""

    def claim(self, delivery_id: int, lease_seconds: float) -> ClaimedDelivery | None: ...

    def record_attempt(self, claimed: ClaimedDelivery, attempt: AttemptRecord) -> str: ...


class OutboundMapping(Protocol):
    """What delivery needs of hub.mapping.Mapping."""

    @property
    def name(self) -> str: ...

    @property
    def target_encoding(self) -> str: ...

    def translate(self, canonical: etree._Element) -> NativeDocument: ...


class MappingLookup(Protocol):
    """What delivery needs of hub.mapping.MappingRegistry."""

    def get(
        self, department: str, direction: Literal["outbound"], message_type: str
    ) -> OutboundMapping: ...

    def named(self, name: str) -> OutboundMapping | None: ...


@dataclass
class _Trace:
    """What an attempt got to before it ended, kept for the attempt row."""

    started_at: datetime
    started: float
    mapping: str | None = None
    schema_version: str | None = None  # the canonical version the mapping read (hub/versions)
    payload_sha256: str | None = None
    payload: bytes | None = None
    audited: tuple[audit.NewEntry, ...] = ()  # what the attempt's record chains beside it

    def elapsed_ms(self) -> int:
        return int((time.perf_counter() - self.started) * 1000)


class DeliveryHandler:
    """Safe to call from several threads; adapters are made once per department."""

    def __init__(
        self,
        store: Store,
        mappings: MappingLookup,
        departments: DepartmentDirectory,
        adapter_for: AdapterFactory,
        policy: RetryPolicy,
        *,
        lease_seconds: float,
        ledger: AttemptLedger | None = None,
        mailboxes: MailboxStore | None = None,
        forwarder: Forwarder | None = None,
    ) -> None:
        self.store = store
        # Legs to ``DIVISION/CODE`` go to the next hop's hub (hub/federation).
        self.forwarder = forwarder
        # Where deliveries to departments with ``adapter = "mailbox"`` wait (hub/mailbox).
        self.mailboxes = mailboxes
        self.ledger: AttemptLedger = ledger or store
        self.mappings = mappings
        self.departments = departments
        self.policy = policy
        self.lease_seconds = lease_seconds
        # The hub's cache is shared with the rest of the process; a bare factory gets its own.
        self._owns_adapters = not isinstance(adapter_for, AdapterCache)
        self.adapter_for = (
            adapter_for if isinstance(adapter_for, AdapterCache) else AdapterCache(adapter_for)
        )

    def handle(self, delivery_id: int) -> str | None:
        """Attempt one delivery; its state afterwards, or None if it was not ours to take."""
        claimed = self.ledger.claim(delivery_id, self.lease_seconds)
        if claimed is None:
            return None
        if is_remote(claimed.department):
            return self._record(claimed, self._attempt(claimed, self._forward))
        if self.mailboxes is not None and self._has_mailbox(claimed.department):
            return self._park(claimed, self.mailboxes)
        if is_bundled(self.departments, claimed.department):  # waits for a bundle (hub/bundle)
            return bundle_parking.park(self.store, claimed)
        return self._record(claimed, self._attempt(claimed, self._deliver))

    def _record(self, claimed: ClaimedDelivery, attempt: AttemptRecord) -> str:
        delivery_id = claimed.delivery_id
        state = self.ledger.record_attempt(claimed, attempt)
        metrics.DELIVERIES.labels(claimed.department, attempt.outcome).inc()
        metrics.DELIVERY_SECONDS.labels(claimed.department).observe(attempt.duration_ms / 1000)
        log.info(
            "delivery %s of %s to %s, attempt %s: %s -> %s%s",
            delivery_id,
            claimed.message_id,
            claimed.department,
            claimed.attempt,
            attempt.outcome,
            state,
            _error_named(attempt),
        )
        return state

    def close(self) -> None:
        if self._owns_adapters:
            self.adapter_for.close()
        if self.forwarder is not None:
            self.forwarder.close()

    def _attempt(
        self,
        claimed: ClaimedDelivery,
        deliver: Callable[[ClaimedDelivery, _Trace], DeliveryResult],
    ) -> AttemptRecord:
        trace = _Trace(self.store.clock(), time.perf_counter())
        try:
            result = deliver(claimed, trace)
        except Exception as exc:
            return self._failure(claimed, trace, exc)
        return AttemptRecord(
            outcome="duplicate" if result.status == "duplicate" else "delivered",
            started_at=trace.started_at,
            duration_ms=trace.elapsed_ms(),
            response_excerpt=mask_in_text(result.response_excerpt),
            payload_sha256=trace.payload_sha256,
            outbound_mapping=trace.mapping,
            payload=trace.payload,
            schema_version=trace.schema_version,
            audited=trace.audited,
        )

    def _has_mailbox(self, department: str) -> bool:
        return (
            department in self.departments
            and self.departments.get(department).adapter == MAILBOX_ADAPTER
        )

    def _park(self, claimed: ClaimedDelivery, mailboxes: MailboxStore) -> str:
        """Translate as for a push, then leave the document in the department's mailbox; a
        translation that fails is an attempt like a push's."""
        trace = _Trace(self.store.clock(), time.perf_counter())
        try:
            mapping, _ = self._translated(claimed, trace)
        except Exception as exc:
            return self._record(claimed, self._failure(claimed, trace, exc))
        state = mailboxes.park(claimed, trace.payload or b"", mapping.target_encoding, mapping.name)
        DOORBELL.ring(claimed.department)
        log.info(
            "delivery %s of %s to %s: in its mailbox -> %s",
            claimed.delivery_id,
            claimed.message_id,
            claimed.department,
            state,
        )
        return state

    def _translated(
        self, claimed: ClaimedDelivery, trace: _Trace
    ) -> tuple[OutboundMapping, NativeDocument]:
        mapping = self._mapping(claimed)
        trace.mapping = mapping.name
        if not claimed.canonical:
            raise PermanentDeliveryError("the message's bodies were pruned; nothing to deliver")
        # The receiver's mapping reads the version its package declares: converted to it.
        record, trace.schema_version = default_versions().for_reader(
            claimed.message_type, parse(claimed.canonical), getattr(mapping, "source_root", None)
        )
        document = mapping.translate(record)
        trace.payload = payload_bytes(document, mapping.target_encoding)
        trace.payload_sha256 = _sha256(trace.payload)
        return mapping, document

    def _deliver(self, claimed: ClaimedDelivery, trace: _Trace) -> DeliveryResult:
        mapping, document = self._translated(claimed, trace)
        outbound = OutboundDelivery(
            department=claimed.department,
            message_type=claimed.message_type,
            message_id=claimed.message_id,
            idempotency_key=claimed.idempotency_key,
            document=document,
            encoding=mapping.target_encoding,
        )
        return self._adapter(claimed.department).deliver(outbound)

    def _forward(self, claimed: ClaimedDelivery, trace: _Trace) -> DeliveryResult:
        """The canonical record as it is, to the neighbour hub on the way."""
        if self.forwarder is None:
            raise PermanentDeliveryError(
                f"{claimed.department} is another hub's department, and this hub has no "
                "federation file (GOVHUB_FEDERATION_FILE)"
            )
        if not claimed.canonical:
            raise PermanentDeliveryError("the message's bodies were pruned; nothing to forward")
        trace.payload = claimed.canonical
        trace.payload_sha256 = _sha256(claimed.canonical)
        result, forwarded = self.forwarder.forward(claimed)
        trace.audited = (forwarded,)  # chained with the attempt: no transaction of its own
        return result

    def _failure(self, claimed: ClaimedDelivery, trace: _Trace, exc: Exception) -> AttemptRecord:
        outcome: Literal["retry", "failed"] = "retry"
        if isinstance(exc, PermanentDeliveryError | ClientError):
            outcome = "failed"
        elif not isinstance(exc, RetryableDeliveryError):
            log.error(
                "unexpected error delivering %s to %s: %s",
                claimed.delivery_id,
                claimed.department,
                mask_in_text("".join(traceback.format_exception(exc))),
            )
        message = mask_in_text(str(exc))
        retry_at = None
        if outcome == "retry":
            retry_at, gave_up = self._retry_at(claimed)
            if gave_up:
                outcome, retry_at, message = "failed", None, f"{gave_up}: {message}"
        return AttemptRecord(
            outcome=outcome,
            started_at=trace.started_at,
            duration_ms=trace.elapsed_ms(),
            retry_at=retry_at,
            error_class=type(exc).__name__,
            error_message=message,
            payload_sha256=trace.payload_sha256,
            outbound_mapping=trace.mapping,
            payload=trace.payload,
            schema_version=trace.schema_version,
        )

    def _retry_at(self, claimed: ClaimedDelivery) -> tuple[datetime, str]:
        """When to try again, and why not to (empty when a retry is allowed)."""
        policy = self.policy_for(claimed.department)
        attempt = claimed.attempt_in_round
        retry_at = self.store.clock() + timedelta(seconds=policy.delay_seconds(attempt))
        if policy.gives_up_after(attempt):
            return retry_at, f"gave up after {attempt} attempts"
        if policy.too_old(claimed.queued_at, retry_at):
            return retry_at, f"gave up after {attempt} attempts: older than the retry max age"
        return retry_at, ""

    def policy_for(self, department: str) -> RetryPolicy:
        """The hub's policy with the department's overrides (the hub's alone if unknown)."""
        if department not in self.departments:
            return self.policy
        return self.policy.with_overrides(self.departments.get(department).retry)

    def _mapping(self, claimed: ClaimedDelivery) -> OutboundMapping:
        pinned = claimed.pinned_mapping
        if not pinned:
            return self.mappings.get(claimed.department, "outbound", claimed.message_type)
        mapping = self.mappings.named(pinned)
        if mapping is None:
            # A version that is nowhere to be found: say so, do not guess.
            raise ConfigurationError(f"delivery is pinned to mapping {pinned}, which is not kept")
        return mapping

    def _adapter(self, department: str) -> Adapter:
        return self.adapter_for(self.departments.get(department))


def payload_sha256(document: NativeDocument, encoding: str) -> str:
    """Hash of the native document as serialised for the department (XML or sorted JSON)."""
    return _sha256(payload_bytes(document, encoding))


def payload_bytes(document: NativeDocument, encoding: str) -> bytes:
    """The native document as serialised for the department (XML or sorted JSON)."""
    if isinstance(document, dict):
        return json.dumps(document, sort_keys=True, ensure_ascii=False).encode("utf-8")
    serialised = etree.tostring(document, encoding=encoding, xml_declaration=True)
    return serialised if isinstance(serialised, bytes) else serialised.encode(encoding)


def _error_named(attempt: AttemptRecord) -> str:
    """ ": <error class>: <its message>" for an attempt that did not deliver (masked, cut)."""
    if attempt.error_class is None:
        return ""
    return f": {attempt.error_class}: {shown(attempt.error_message or '')}"


def _sha256(data: bytes | str) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()
