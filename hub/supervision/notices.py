"""Signals as messages to the supervision office: each signal issued or closed becomes a
canonical ``SupervisionSignal`` from sender ``HUB``, stored like any accepted message (legs
to its route's receivers, retries, audit, GetStatus) in the transaction that stores or
closes the signal itself: both are written or neither, so nothing is lost or sent twice.

The idempotency key is the signal's (case, rule) and what happened to it, so a message can
exist once per signal issued and once per signal closed. The legs are published to the bus
after the pass; one not published is sent by the relay when its lease runs out.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import date, datetime

from lxml import etree
from sqlalchemy import Connection, select

from hub.bus import DeliveryTask, Publisher
from hub.errors import HubError
from hub.resources import CANONICAL_NAMESPACE, CANONICAL_SCHEMA_VERSION
from hub.store import NewMessage, Store
from hub.supervision.calendar import SHANGHAI
from hub.supervision.rules import Signal
from hub.supervision.tables import supervision_cases as cases
from hub.supervision.tables import supervision_signals as signals

log = logging.getLogger(__name__)

MESSAGE_TYPE = "SupervisionSignal"
SENDER = "HUB"  # the hub itself: no department may send this type
PURPOSE = "electronic supervision"
_DETAIL_LIMIT = 500  # the supervision office's text element


class SignalMessages:
    """The issuer's ``SignalNotice``: writes the messages, publishes their legs."""

    def __init__(
        self,
        store: Store,
        receivers: Callable[[], tuple[str, ...]],
        *,
        lease_seconds: float,
        publisher: Publisher | None = None,
    ) -> None:
        self._store = store
        self._receivers = receivers
        self._lease_seconds = lease_seconds
        self._publisher = publisher
        self._unpublished: list[DeliveryTask] = []

    def issued(self, connection: Connection, signal: Signal, at: datetime) -> None:
        item, department = _case_of(connection, signal.case_number)
        document = signal_document(
            kind=signal.kind,
            rule=signal.rule,
            case_number=signal.case_number,
            item_code=item,
            department=department,
            deadline=signal.deadline,
            detail=signal.detail,
            issued_at=at,
        )
        self._write(connection, document, signal.case_number, f"{signal.rule}:issued", at)

    def closed(
        self, connection: Connection, case_number: str, rule: str, why: str, at: datetime
    ) -> None:
        row = connection.execute(
            select(signals).where(signals.c.case_number == case_number, signals.c.rule == rule)
        ).one()
        item, department = _case_of(connection, case_number)
        document = signal_document(
            kind=row.kind,
            rule=rule,
            case_number=case_number,
            item_code=item,
            department=department,
            deadline=row.deadline,
            detail=row.detail,
            issued_at=row.issued_at,
            closed=(at, why),
        )
        self._write(connection, document, case_number, f"{rule}:closed", at)

    def after_pass(self) -> None:
        tasks, self._unpublished = self._unpublished, []
        if tasks and self._publisher is not None:
            self._publisher.publish_all_quietly(tasks)

    def _write(
        self,
        connection: Connection,
        document: etree._Element,
        case_number: str,
        what: str,
        at: datetime,
    ) -> None:
        canonical = etree.tostring(document, encoding="UTF-8", xml_declaration=True)
        message = NewMessage(
            message_id=str(uuid.uuid4()),
            message_type=MESSAGE_TYPE,
            sender=SENDER,
            correlation_id=case_number,
            idempotency_key=f"supervision:{case_number}:{what}",
            purpose=PURPOSE,
            sent_at=at,
            schema_version=CANONICAL_SCHEMA_VERSION,
            original=canonical,
            original_content_type="application/xml",
            canonical=canonical,
            inbound_mapping=None,
            identity_numbers=(),
        )
        receipt = self._store.save_accepted_on(
            connection, [(message, self._receivers())], self._lease_seconds
        )[0]
        self._unpublished += [
            DeliveryTask(d.delivery_id, d.department, d.idempotency_key) for d in receipt.deliveries
        ]


def signal_document(
    *,
    kind: str,
    rule: str,
    case_number: str,
    item_code: str,
    department: str,
    deadline: date | None,
    detail: str,
    issued_at: datetime,
    closed: tuple[datetime, str] | None = None,
) -> etree._Element:
    """A canonical SupervisionSignal (xsd/canonical/SupervisionSignal.xsd)."""
    root = etree.Element(_c(MESSAGE_TYPE), nsmap={"c": CANONICAL_NAMESPACE})
    fields: list[tuple[str, str]] = [
        ("kind", kind),
        ("rule", rule),
        ("caseNumber", case_number),
        ("itemCode", item_code),
        ("department", department),
    ]
    if deadline is not None:
        fields.append(("deadline", deadline.isoformat()))
    if detail:
        fields.append(("detail", detail[:_DETAIL_LIMIT]))
    fields.append(("issuedAt", _moment(issued_at)))
    if closed is not None:
        fields += [("closedAt", _moment(closed[0])), ("closedBecause", closed[1])]
    for name, text in fields:
        etree.SubElement(root, _c(name)).text = text
    return root


def route_receivers(route: Callable[[str], tuple[str, ...]]) -> Callable[[], tuple[str, ...]]:
    """The receivers of SupervisionSignal by the routing table, read at each message (a
    reloaded table counts); none when the table has no such route (logged)."""

    def receivers() -> tuple[str, ...]:
        try:
            return route(MESSAGE_TYPE)
        except HubError:
            log.warning("no route for %s: the signal is stored, nobody receives it", MESSAGE_TYPE)
            return ()

    return receivers


def _case_of(connection: Connection, case_number: str) -> tuple[str, str]:
    row = connection.execute(
        select(cases.c.item_code, cases.c.department).where(cases.c.case_number == case_number)
    ).one()
    return row.item_code, row.department


def _moment(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _c(name: str) -> str:
    return f"{{{CANONICAL_NAMESPACE}}}{name}"
