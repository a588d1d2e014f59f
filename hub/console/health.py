"""What the dashboard says about the hub's health, without ever waiting on it long:

- the database and the bus: the /ready checks (hub/observability/readiness.py, bounded and
  cached), run in a thread the page waits on for at most ``WAIT_SECONDS``; a check still
  running shows the last answer known (or "checking"), and the next refresh has it;
- each department's endpoint: its delivery attempts of the last ``RECENT`` (no probe sent),
  "failing" when none delivered, "ok" when the latest did, "degraded" otherwise.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from hub.console.dashboard import DELIVERED_OUTCOMES
from hub.observability.readiness import Readiness, Verdict
from hub.store import Store
from hub.store.models import AttemptRow, DeliveryRow

WAIT_SECONDS = 0.5
RECENT = timedelta(minutes=15)


@dataclass(frozen=True)
class Health:
    name: str
    state: str  # ok | degraded | failing | idle | checking
    detail: str


class HealthWatch:
    """The readiness checks of this process, asked without blocking a page."""

    def __init__(self, readiness: Readiness | None) -> None:
        self.readiness = readiness
        self._lock = threading.Lock()
        self._asking: Future[Verdict] | None = None
        self._last: Verdict | None = None

    def services(self) -> list[Health]:
        verdict = self._verdict()
        if verdict is None:
            detail = "not checked by this process" if self.readiness is None else "checking"
            return [Health(name, "checking", detail) for name in ("database", "bus")]
        return [
            Health(name, "ok" if outcome == "ok" else "failing", outcome)
            for name, outcome in verdict.checks.items()
        ]

    def _verdict(self) -> Verdict | None:
        if self.readiness is None:
            return None
        with self._lock:
            if self._asking is None or self._asking.done():
                self._asking = self._ask(self.readiness)
            asking = self._asking
        with contextlib.suppress(TimeoutError):  # still checking: the last answer known
            self._last = asking.result(timeout=WAIT_SECONDS)
        return self._last

    @staticmethod
    def _ask(readiness: Readiness) -> Future[Verdict]:
        future: Future[Verdict] = Future()

        def run() -> None:
            try:
                future.set_result(readiness.verdict())
            except BaseException as exc:  # the page shows the last answer instead
                future.set_exception(exc)

        threading.Thread(target=run, name="govhub-console-health", daemon=True).start()
        return future


def endpoints(store: Store, now: datetime) -> list[Health]:
    """Each department that was tried recently, judged by how its attempts ended."""
    delivered = func.sum(case((AttemptRow.outcome.in_(DELIVERED_OUTCOMES), 1), else_=0))
    query = (
        select(DeliveryRow.department, func.count(), delivered)
        .join(DeliveryRow, DeliveryRow.id == AttemptRow.delivery_id)
        .where(AttemptRow.started_at >= now - RECENT)
        .group_by(DeliveryRow.department)
    )
    latest = _latest_outcomes(store, now)
    found = []
    with Session(store.engine) as session:
        for department, total, ok in session.execute(query):
            ok = int(ok or 0)
            last = latest.get(department, "")
            state = "failing" if ok == 0 else "ok" if last in DELIVERED_OUTCOMES else "degraded"
            minutes = int(RECENT.total_seconds() // 60)
            detail = f"{ok} of {total} attempts delivered in {minutes} min; last: {last}"
            found.append(Health(department, state, detail))
    return sorted(found, key=lambda h: h.name)


def _latest_outcomes(store: Store, now: datetime) -> dict[str, str]:
    """The outcome of each department's latest attempt of the recent window."""
    newest = (
        select(DeliveryRow.department, func.max(AttemptRow.id).label("last_id"))
        .join(DeliveryRow, DeliveryRow.id == AttemptRow.delivery_id)
        .where(AttemptRow.started_at >= now - RECENT)
        .group_by(DeliveryRow.department)
        .subquery()
    )
    query = select(newest.c.department, AttemptRow.outcome).join(
        AttemptRow, AttemptRow.id == newest.c.last_id
    )
    with Session(store.engine) as session:
        return {department: outcome for department, outcome in session.execute(query)}
