"""What goes into the store and what comes out: plain frozen records, no ORM objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:  # at run time audit imports the store: importing it here made a cycle
    from hub.security.audit import NewEntry

# skipped: never queued, its route condition failed on the record (last_error says why).
# waiting: in its department's mailbox (hub/mailbox) until the department acknowledges it.
# held: for a mailbox at its quota; enters the mailbox, in order, as it drains.
DeliveryState = Literal[
    "queued", "delivering", "retrying", "waiting", "held", "delivered", "failed", "skipped"
]
MessageState = Literal["accepted", "delivered", "failed"]
Outcome = Literal["delivered", "duplicate", "retry", "failed"]

PENDING_STATES: tuple[DeliveryState, ...] = (
    "queued",
    "delivering",
    "retrying",
    "waiting",
    "held",
)
# The pending states the relay republishes; a waiting leg is fetched, not pushed.
RELAYED_STATES: tuple[DeliveryState, ...] = ("queued", "delivering", "retrying")


@dataclass(frozen=True)
class NewMessage:
    """A message that passed every check at ingress and is about to be stored."""

    message_id: str
    message_type: str
    sender: str
    correlation_id: str | None
    idempotency_key: str
    purpose: str
    sent_at: datetime
    schema_version: str
    original: bytes
    original_content_type: str
    canonical: bytes
    inbound_mapping: str | None
    # The record's identity numbers as ingress read them; None: read them from ``canonical``.
    identity_numbers: tuple[str, ...] | None = None
    # Receivers whose route condition failed on the record: (department, why). Each gets a
    # leg in state "skipped" so operators see it; none is queued.
    skipped: tuple[tuple[str, str], ...] = ()
    # A forward from a neighbour hub: the hubs it came through (hub/federation), audited as
    # ``forward_received`` in the accept's own transaction. Empty for a department's message.
    hub_path: tuple[str, ...] = ()


class QueuedDelivery(NamedTuple):
    """One delivery created by ``save_accepted``: what the ingress publishes to the bus."""

    delivery_id: int
    department: str
    idempotency_key: str
    # No attempt in this round yet: its first task (from the ingress) may still be waiting
    # in the department's queue (the relay does not add a second behind a backlog).
    unattempted: bool = False


@dataclass(frozen=True)
class Receipt:
    message_id: str
    state: str
    receivers: tuple[str, ...]
    duplicate: bool
    # Empty for a duplicate: nothing new to publish (the relay covers the old ones).
    deliveries: tuple[QueuedDelivery, ...] = ()


@dataclass(frozen=True)
class DeliveryStatus:
    department: str
    state: str
    attempts: int
    last_error: str | None
    delivered_at: datetime | None


@dataclass(frozen=True)
class MessageStatus:
    message_id: str
    message_type: str
    sender: str
    state: str
    received_at: datetime
    correlation_id: str | None
    deliveries: tuple[DeliveryStatus, ...]


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery a worker holds until ``lease_until``; ``attempt`` fences stale workers."""

    delivery_id: int
    message_id: str
    message_type: str
    sender: str
    department: str
    idempotency_key: str
    attempt: int
    lease_until: datetime
    canonical: bytes
    # The round of attempts (since creation or the last replay): for max age and max attempts.
    queued_at: datetime | None = None
    attempts_at_replay: int = 0
    pinned_mapping: str | None = None

    @property
    def attempt_in_round(self) -> int:
        """1 for the first attempt after creation or after a replay."""
        return self.attempt - self.attempts_at_replay


@dataclass(frozen=True)
class AttemptRecord:
    """What one delivery attempt did. ``retry_at`` is required when outcome is "retry"."""

    outcome: Outcome
    started_at: datetime
    duration_ms: int
    retry_at: datetime | None = None
    error_class: str | None = None
    error_message: str | None = None
    response_excerpt: str = ""
    payload_sha256: str | None = None
    outbound_mapping: str | None = None
    # The translated document as sent (kept on the delivery until pruned).
    payload: bytes | None = None
    schema_version: str | None = None  # the canonical version delivered (hub/versions)
    # Chained after the attempt's own entry, in its transaction (a forward's ``forwarded``).
    audited: tuple[NewEntry, ...] = ()


def message_state(delivery_states: list[str]) -> MessageState:
    """accepted while any delivery is pending; failed if any failed; else delivered
    (skipped legs are shown on their own; they were never meant to be delivered)."""
    if any(state in PENDING_STATES for state in delivery_states):
        return "accepted"
    if "failed" in delivery_states:
        return "failed"
    return "delivered"
