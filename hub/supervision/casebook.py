"""The case book: each case's state kept from its events, in the hub's database.

``CaseBook.record`` is called by ingress for every case event: the event is checked against
the case (hub/supervision/rules_of_acceptance.py), the case updated and (``with_message``)
the message itself stored in ONE transaction, or a CaseEventRefused is raised and nothing
changes; a message the store then fails to write leaves the case as it was.
An event is recorded once per (sender, idempotency key): a sender's retry after a lost answer
finds it recorded and goes on to the message's own duplicate answer. A key or message id the
message store already holds is left to the message store's answer (duplicate, conflict or
taken id), so the case never changes for a message that is then refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.errors import StepOutOfOrder
from hub.store.models import MessageRow
from hub.store.records import NewMessage
from hub.supervision.catalogue import Catalogue, Limits
from hub.supervision.events import CaseEvent, read_event
from hub.supervision.rules_of_acceptance import CaseState, next_state
from hub.supervision.tables import supervision_case_events as events_table
from hub.supervision.tables import supervision_cases as cases_table

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class RecordedEvent:
    kind: str
    step: str
    happened_at: datetime
    reported_at: datetime
    handler: str
    outcome: str
    reason: str
    sender: str


class CaseBook:
    def __init__(
        self,
        engine: Engine,
        catalogue: Callable[[], Catalogue],
        *,
        clock: Clock = lambda: datetime.now(UTC),
        skew: timedelta = timedelta(minutes=5),
    ) -> None:
        self._engine = engine
        self._catalogue = catalogue
        self._clock = clock
        self._skew = skew

    def record(
        self, message: NewMessage, with_message: Callable[[Connection], None] | None = None
    ) -> CaseState | None:
        """Apply one case event message, and write the message with ``with_message`` in the
        same transaction; None when it was already recorded (or is the message store's to
        answer: nothing written). Raises CaseEventRefused naming the rule it breaks."""
        event = read_event(message.canonical)
        now = self._clock()
        try:
            with self._engine.begin() as connection:
                if _already_known(connection, message):
                    return None
                state = _locked_case(connection, event.case_number)
                after = next_state(
                    state,
                    event,
                    sender=message.sender,
                    catalogue=self._catalogue(),
                    now=now,
                    skew=self._skew,
                )
                _write(connection, state, after, event, message, now)
                if with_message is not None:
                    with_message(connection)
                return after
        except IntegrityError as error:  # a concurrent twin: the case or the key is taken
            with self._engine.connect() as connection:
                if _already_known(connection, message):
                    return None
            raise StepOutOfOrder(
                event.case_number, "CaseAccepted for a case already accepted"
            ) from error

    def case(self, case_number: str) -> CaseState | None:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(cases_table).where(cases_table.c.case_number == case_number)
            ).first()
        return None if row is None else _state(row._mapping)

    def cases(
        self, *, department: str | None = None, item: str | None = None, concluded: bool = True
    ) -> list[CaseState]:
        """Cases by case number; ``concluded=False``: only open and suspended ones."""
        query = select(cases_table).order_by(cases_table.c.case_number)
        if department:
            query = query.where(cases_table.c.department == department)
        if item:
            query = query.where(cases_table.c.item_code == item)
        if not concluded:
            query = query.where(cases_table.c.status != "concluded")
        with self._engine.connect() as connection:
            return [_state(row._mapping) for row in connection.execute(query)]

    def events(self, case_number: str) -> list[RecordedEvent]:
        return self.events_of([case_number]).get(case_number, [])

    def open_cases_page(self, after: str, limit: int) -> list[CaseState]:
        """Up to ``limit`` open or suspended cases numbered after ``after``, by number: a pass
        reads the book page by page, each page a short read of its own."""
        query = (
            select(cases_table)
            .where(cases_table.c.status != "concluded", cases_table.c.case_number > after)
            .order_by(cases_table.c.case_number)
            .limit(limit)
        )
        with self._engine.connect() as connection:
            return [_state(row._mapping) for row in connection.execute(query)]

    def events_of(self, case_numbers: list[str]) -> dict[str, list[RecordedEvent]]:
        """Each case's events in order, for many cases in one query."""
        query = (
            select(events_table)
            .where(events_table.c.case_number.in_(case_numbers))
            .order_by(events_table.c.id)
        )
        found: dict[str, list[RecordedEvent]] = {}
        with self._engine.connect() as connection:
            for r in connection.execute(query):
                event = RecordedEvent(
                    r.kind, r.step, r.happened_at, r.reported_at, r.handler, r.outcome, r.reason,
                    r.sender,
                )  # fmt: skip
                found.setdefault(r.case_number, []).append(event)
        return found


def _already_known(connection: Connection, message: NewMessage) -> bool:
    recorded = connection.scalar(
        select(events_table.c.id).where(
            events_table.c.sender == message.sender,
            events_table.c.idempotency_key == message.idempotency_key,
        )
    )
    stored = connection.scalar(
        select(MessageRow.id).where(
            (MessageRow.id == message.message_id)
            | (
                (MessageRow.sender == message.sender)
                & (MessageRow.idempotency_key == message.idempotency_key)
            )
        )
    )
    return recorded is not None or stored is not None


def _locked_case(connection: Connection, case_number: str) -> CaseState | None:
    """The case, its row locked until commit (PostgreSQL; SQLite has one writer anyway)."""
    row = connection.execute(
        select(cases_table).where(cases_table.c.case_number == case_number).with_for_update()
    ).first()
    return None if row is None else _state(row._mapping)


def _write(
    connection: Connection,
    before: CaseState | None,
    after: CaseState,
    event: CaseEvent,
    message: NewMessage,
    now: datetime,
) -> None:
    values = _row(after)
    if before is None:
        connection.execute(insert(cases_table).values(values))
    else:
        connection.execute(
            update(cases_table).where(cases_table.c.case_number == after.case_number).values(values)
        )
    connection.execute(
        insert(events_table).values(
            case_number=event.case_number,
            kind=event.kind,
            step=event.step,
            happened_at=event.at,
            reported_at=now,
            handler=event.handler,
            outcome=event.outcome,
            reason=event.reason,
            sender=message.sender,
            idempotency_key=message.idempotency_key,
            message_id=message.message_id,
        )
    )


def _row(state: CaseState) -> dict[str, Any]:
    return {
        "case_number": state.case_number,
        "item_code": state.item_code,
        "item_name": state.item_name,
        "department": state.department,
        "accepted_at": state.accepted_at,
        "catalogue_version": state.catalogue_version,
        "limits": json.dumps(state.limits.as_json()),
        "steps_done": ",".join(state.steps_done),
        "status": state.status,
        "suspended_since": state.suspended_since,
        "outcome": state.outcome,
        "concluded_at": state.concluded_at,
        "last_event_at": state.last_event_at or state.accepted_at,
    }


def _state(row: Any) -> CaseState:
    return CaseState(
        case_number=row["case_number"],
        item_code=row["item_code"],
        item_name=row["item_name"],
        department=row["department"],
        accepted_at=row["accepted_at"],
        catalogue_version=row["catalogue_version"],
        limits=Limits.from_json(json.loads(row["limits"])),
        steps_done=tuple(s for s in row["steps_done"].split(",") if s),
        suspended_since=row["suspended_since"],
        outcome=row["outcome"],
        concluded_at=row["concluded_at"],
        last_event_at=row["last_event_at"],
    )


state_of_row = _state  # read-only views over the same table (hub/supervision/statistics.py)
