"""What the operator tools return: plain frozen records, and their JSON form."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

LEG_STATES = (
    "queued",
    "delivering",
    "retrying",
    "waiting",
    "held",
    "delivered",
    "failed",
    "skipped",
)
# "accepted" matches a message with any leg still pending.
FILTER_STATES = ("accepted", *LEG_STATES)


@dataclass(frozen=True)
class MessageFilter:
    """Which messages (or, for a bulk replay, which legs) an operator means.

    ``state`` and ``department`` select legs: a message matches when one of its legs is
    in that state at that department. ``person`` is an identity number (hashed, never stored).
    """

    state: str | None = None
    department: str | None = None
    message_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    person: str | None = None
    sender: str | None = None
    correlation_id: str | None = None
    limit: int = 50


@dataclass(frozen=True)
class LegView:
    delivery_id: int
    department: str
    state: str
    attempts: int
    last_error: str | None
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    outbound_mapping: str | None
    pinned_mapping: str | None
    replays: int
    idempotency_key: str


@dataclass(frozen=True)
class MessageSummary:
    message_id: str
    message_type: str
    sender: str
    state: str
    received_at: datetime
    correlation_id: str | None
    pruned_at: datetime | None
    legs: tuple[LegView, ...]


@dataclass(frozen=True)
class AttemptView:
    number: int
    started_at: datetime
    duration_ms: int
    outcome: str
    error_class: str | None
    error_message: str | None
    response_excerpt: str | None
    payload_sha256: str | None
    outbound_mapping: str | None


@dataclass(frozen=True)
class LegDetail:
    leg: LegView
    attempts: tuple[AttemptView, ...]
    payload: str | None  # as delivered (translated), None if never translated or pruned


@dataclass(frozen=True)
class MessageDetail:
    summary: MessageSummary
    purpose: str
    sent_at: datetime
    idempotency_key: str
    schema_version: str
    inbound_mapping: str | None
    original_content_type: str
    original_sha256: str
    canonical_sha256: str
    original: str | None  # as received; None once pruned
    canonical: str | None
    legs: tuple[LegDetail, ...]


LegResult = Literal["replayed", "skipped", "refused"]


@dataclass(frozen=True)
class LegOutcome:
    message_id: str
    department: str
    delivery_id: int
    result: LegResult
    note: str


@dataclass(frozen=True)
class ReplayReport:
    dry_run: bool
    outcomes: tuple[LegOutcome, ...]
    not_found: tuple[str, ...] = ()

    @property
    def replayed(self) -> int:
        return sum(1 for o in self.outcomes if o.result == "replayed")


@dataclass(frozen=True)
class TraceAnswer:
    """ "Did every department get it?" for one citizen event."""

    message: MessageSummary
    everyone: bool
    verdict: str


@dataclass(frozen=True)
class PruneReport:
    dry_run: bool
    bodies_pruned: int
    messages_deleted: int
    # Mailbox entries acknowledged or failed, and leases settled or run out (hub/mailbox).
    mailbox_rows_pruned: int = 0


def to_jsonable(value: Any) -> Any:
    """Records, tuples and datetimes as JSON-ready values (ISO 8601 times)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [to_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
