"""A replay as a child of the message it replayed. A replay sends the same leg again (the
same delivery row and idempotency key, so a department that got it answers duplicate): no
new message is made. Each replay that was done (not a preview) is its operator_actions row
(hub/store/audit.py); the console shows those rows under the message and gives each a page
that leads back to it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import NotFound
from hub.operations.show import attempt_view
from hub.operations.views import AttemptView
from hub.store import Store
from hub.store.audit import actions_for
from hub.store.models import AttemptRow, DeliveryRow, OperatorActionRow

REPLAY = "replay"


@dataclass(frozen=True)
class ReplayedLeg:
    department: str
    result: str
    note: str
    state_now: str  # the leg's state when the page is shown
    attempts_since: tuple[AttemptView, ...]  # the attempts started at or after the replay


@dataclass(frozen=True)
class ReplayChild:
    replay_id: int
    message_id: str
    actor: str
    reason: str
    at: datetime
    legs: tuple[ReplayedLeg, ...]

    @property
    def departments(self) -> list[str]:
        return [leg.department for leg in self.legs if leg.result == "replayed"]


def replays_of(store: Store, message_id: str) -> list[ReplayChild]:
    """The replays done on a message, oldest first (previews are audited, not listed)."""
    with Session(store.engine) as session:
        rows = actions_for(session, message_id)
        return [_child(session, row) for row in rows if row.action == REPLAY and not row.dry_run]


def replay_child(store: Store, replay_id: str) -> ReplayChild:
    with Session(store.engine) as session:
        row = session.get(OperatorActionRow, int(replay_id)) if replay_id.isdigit() else None
        if row is None or row.action != REPLAY or row.dry_run or row.message_id is None:
            raise NotFound(f"no replay {replay_id}")
        return _child(session, row)


def _child(session: Session, row: OperatorActionRow) -> ReplayChild:
    message_id = row.message_id or ""
    legs = json.loads(row.detail).get("legs", [])
    return ReplayChild(
        replay_id=row.id,
        message_id=message_id,
        actor=row.actor,
        reason=row.reason,
        at=row.at,
        legs=tuple(_leg(session, message_id, leg, row.at) for leg in legs),
    )


def _leg(session: Session, message_id: str, leg: dict[str, str], at: datetime) -> ReplayedLeg:
    delivery = session.scalars(
        select(DeliveryRow).where(
            DeliveryRow.message_id == message_id, DeliveryRow.department == leg["department"]
        )
    ).first()
    attempts: list[AttemptRow] = []
    if delivery is not None:
        query = select(AttemptRow).where(
            AttemptRow.delivery_id == delivery.id, AttemptRow.started_at >= at
        )
        attempts = list(session.scalars(query.order_by(AttemptRow.id)))
    return ReplayedLeg(
        department=leg["department"],
        result=leg["result"],
        note=leg["note"],
        state_now=delivery.state if delivery is not None else "gone",
        attempts_since=tuple(attempt_view(n, a) for n, a in enumerate(attempts, start=1)),
    )
