"""Issuing signals: what the rules say about each case, stored once per (case, rule).

``SignalIssuer.run_once(at)`` evaluates every case that is open or still has an open signal,
stores each new signal (the table's unique (case, rule) makes it exactly once, whichever
worker instance or pass gets there first) and closes the open signals the rules no longer
give: "corrected" when the overdue step was done, else "superseded" (a yellow light replaced
by its red card). A concluded case has every open signal closed ("corrected"), its
late-report cards too, and gets no new one: concluded cases leave the pass. A suspended case
keeps its signals: its clock has stopped, nothing was corrected. The worker service calls it
every ``supervision_evaluate_seconds``, while it holds the pass's lease (lease.py): any
instance may run the pass, one at a time. Each signal issued or closed is handed to the
``notice`` (notices.py) in the transaction that stores it: the message to the supervision
office is written with the signal, or neither is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.errors import CalendarYearUnknown
from hub.supervision.calendar import WorkingCalendar
from hub.supervision.casebook import CaseBook
from hub.supervision.lease import PassLease
from hub.supervision.rules import Signal, evaluate
from hub.supervision.rules_of_acceptance import CaseState
from hub.supervision.tables import supervision_signals as table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredSignal:
    case_number: str
    kind: str
    rule: str
    deadline: date | None
    detail: str
    issued_at: datetime
    closed_at: datetime | None
    closed_because: str


@dataclass(frozen=True)
class Pass:
    issued: list[Signal]
    closed: list[tuple[str, str, str]]  # case number, rule, why


class SignalNotice(Protocol):
    """Told of each signal issued or closed, on the connection that stores it."""

    def issued(self, connection: Connection, signal: Signal, at: datetime) -> None: ...

    def closed(
        self, connection: Connection, case_number: str, rule: str, why: str, at: datetime
    ) -> None: ...

    def after_pass(self) -> None: ...


class SignalIssuer:
    def __init__(
        self,
        engine: Engine,
        book: CaseBook,
        calendar: WorkingCalendar,
        *,
        report_hours: float,
        interval_seconds: float = 60.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        lease: PassLease | None = None,
        notice: SignalNotice | None = None,
    ) -> None:
        self._engine = engine
        self._lease = lease
        self._notice = notice
        self._book = book
        self._calendar = calendar
        self._report_hours = report_hours
        self._interval = interval_seconds
        self._clock = clock

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self._interval):
            try:
                done = self.leased_pass(self._clock())
            except Exception as exc:  # the database is away: try again next time
                log.error("supervision pass failed: %s", type(exc).__name__)
                continue
            if done is not None and (done.issued or done.closed):
                log.info(
                    "supervision: %s signal(s) issued, %s closed",
                    len(done.issued),
                    len(done.closed),
                )
        if self._lease is not None:
            try:
                self._lease.release(self._clock())
            except Exception:  # it runs out by itself
                log.warning("supervision lease not released")

    def leased_pass(self, at: datetime) -> Pass | None:
        """``run_once`` when this instance holds (or takes) the pass's lease; else None."""
        if self._lease is not None and not self._lease.take(at):
            return None
        return self.run_once(at)

    def run_once(self, at: datetime) -> Pass:
        issued: list[Signal] = []
        closed: list[tuple[str, str, str]] = []
        open_rules = self._open_rules()
        for case in self._cases(set(open_rules)):
            if case.outcome:  # concluded: every open signal is closed, none is issued
                for rule in sorted(open_rules.get(case.case_number, set())):
                    if self._close(case.case_number, rule, "corrected", at):
                        closed.append((case.case_number, rule, "corrected"))
                continue
            try:
                signals = evaluate(
                    self._calendar,
                    case,
                    self._book.events(case.case_number),
                    at,
                    report_hours=self._report_hours,
                )
            except CalendarYearUnknown as error:
                log.error("case %s not evaluated: %s", case.case_number, error)
                continue
            issued += [s for s in signals if self._issue(s, at)]
            given = {s.rule for s in signals}
            for rule in open_rules.get(case.case_number, set()) - given:
                why = _why_closed(case, rule)
                if why and self._close(case.case_number, rule, why, at):
                    closed.append((case.case_number, rule, why))
        if self._notice is not None:
            self._notice.after_pass()
        return Pass(issued, closed)

    def signals(self, *, open_only: bool = False) -> list[StoredSignal]:
        return stored_signals(self._engine, open_only=open_only)

    def _cases(self, with_open_signals: set[str]) -> list[CaseState]:
        cases = {c.case_number: c for c in self._book.cases(concluded=False)}
        for number in with_open_signals - set(cases):
            case = self._book.case(number)
            if case is not None:
                cases[number] = case
        return [cases[n] for n in sorted(cases)]

    def _open_rules(self) -> dict[str, set[str]]:
        query = select(table.c.case_number, table.c.rule).where(table.c.closed_at.is_(None))
        rules: dict[str, set[str]] = {}
        with self._engine.connect() as connection:
            for number, rule in connection.execute(query):
                rules.setdefault(number, set()).add(rule)
        return rules

    def _issue(self, signal: Signal, at: datetime) -> bool:
        """True when this call stored it; False when it was already there (any instance)."""
        values = {
            "case_number": signal.case_number,
            "kind": signal.kind,
            "rule": signal.rule,
            "deadline": signal.deadline,
            "detail": signal.detail,
            "issued_at": at,
            "closed_at": None,
            "closed_because": "",
        }
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(table).values(values))
                if self._notice is not None:
                    self._notice.issued(connection, signal, at)
        except IntegrityError:
            return False
        return True

    def _close(self, case_number: str, rule: str, why: str, at: datetime) -> bool:
        with self._engine.begin() as connection:
            result = connection.execute(
                update(table)
                .where(
                    table.c.case_number == case_number,
                    table.c.rule == rule,
                    table.c.closed_at.is_(None),
                )
                .values(closed_at=at, closed_because=why)
            )
            if result.rowcount and self._notice is not None:
                self._notice.closed(connection, case_number, rule, why, at)
        return bool(result.rowcount)


def stored_signals(engine: Engine, *, open_only: bool = False) -> list[StoredSignal]:
    query = select(table).order_by(table.c.id)
    if open_only:
        query = query.where(table.c.closed_at.is_(None))
    with engine.connect() as connection:
        return [
            StoredSignal(
                r.case_number,
                r.kind,
                r.rule,
                r.deadline,
                r.detail,
                r.issued_at,
                r.closed_at,
                r.closed_because,
            )
            for r in connection.execute(query)
        ]


def _why_closed(case: CaseState, rule: str) -> str:
    """Why an open signal the rules no longer give is closed; "" keeps it open."""
    if case.suspended_since is not None:
        return ""  # the clock stopped; nothing was corrected
    step = rule.partition(":")[2]
    if rule.startswith("step-overdue") and step in case.steps_done:
        return "corrected"
    return "superseded"
