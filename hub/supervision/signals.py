"""Issuing signals: what the rules say about each case, stored once per (case, rule).

``SignalIssuer.run_once(at)`` evaluates every case that is open or still has an open signal,
stores each new signal (the table's unique (case, rule) makes it exactly once, whichever
worker instance or pass gets there first) and closes the open signals the rules no longer
give: "corrected" when the overdue step was done, else "superseded" (a yellow light replaced
by its red card). A concluded case has every open signal closed ("corrected"), its
late-report cards too, and gets no new one: concluded cases leave the pass. A suspended case
keeps its signals: its clock has stopped, nothing was corrected. The worker service calls it
every ``supervision_evaluate_seconds``, while it holds the pass's lease (lease.py): any
instance may run the pass, one at a time. A pass reads the cases a page at a time and writes
each page's new signals in one short transaction, no lock held on the cases ingress writes
(bench/supervision.py measures it). Each signal issued or closed is handed to the ``notice``
(notices.py) in the transaction that stores it: the message to the supervision office is
written with the signal, or neither is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from sqlalchemy import Connection, Engine, Insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from hub.errors import CalendarYearUnknown
from hub.supervision.calendar import WorkingCalendar
from hub.supervision.casebook import CaseBook
from hub.supervision.lease import PassLease
from hub.supervision.rules import Signal, evaluate
from hub.supervision.rules_of_acceptance import CaseState
from hub.supervision.tables import supervision_signals as table

log = logging.getLogger(__name__)
PAGE = 1000  # cases read, evaluated and written per round trip


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
        """One pass, page by page (PAGE cases, a few short statements each: no transaction
        spans the pass and ingress's writes never wait for it)."""
        issued: list[Signal] = []
        closed: list[tuple[str, str, str]] = []
        open_rules = self._open_rules()
        for page in self._pages(set(open_rules)):
            events = self._book.events_of([c.case_number for c in page])
            known = self._known_rules([c.case_number for c in page])
            given: list[Signal] = []
            for case in page:
                rules = open_rules.get(case.case_number, set())
                if case.outcome:  # concluded: every open signal is closed, none is issued
                    for rule in sorted(rules):
                        if self._close(case.case_number, rule, "corrected", at):
                            closed.append((case.case_number, rule, "corrected"))
                    continue
                try:
                    signals = evaluate(
                        self._calendar,
                        case,
                        events.get(case.case_number, []),
                        at,
                        report_hours=self._report_hours,
                    )
                except CalendarYearUnknown as error:
                    log.error("case %s not evaluated: %s", case.case_number, error)
                    continue
                given += [s for s in signals if (s.case_number, s.rule) not in known]
                for rule in rules - {s.rule for s in signals}:
                    why = _why_closed(case, rule)
                    if why and self._close(case.case_number, rule, why, at):
                        closed.append((case.case_number, rule, why))
            issued += self._issue(given, at)
        if self._notice is not None:
            self._notice.after_pass()
        return Pass(issued, closed)

    def signals(self, *, open_only: bool = False) -> list[StoredSignal]:
        return stored_signals(self._engine, open_only=open_only)

    def _pages(self, with_open_signals: set[str]) -> Iterator[list[CaseState]]:
        """The open cases page by page, then the others that still have an open signal (the
        concluded since the last pass, to close it)."""
        after, seen = "", set[str]()
        while page := self._book.open_cases_page(after, PAGE):
            yield page
            after = page[-1].case_number
            seen.update(c.case_number for c in page)
        rest = [
            case
            for number in sorted(with_open_signals - seen)
            if (case := self._book.case(number)) is not None
        ]
        for start in range(0, len(rest), PAGE):
            yield rest[start : start + PAGE]

    def _open_rules(self) -> dict[str, set[str]]:
        query = select(table.c.case_number, table.c.rule).where(table.c.closed_at.is_(None))
        rules: dict[str, set[str]] = {}
        with self._engine.connect() as connection:
            for number, rule in connection.execute(query):
                rules.setdefault(number, set()).add(rule)
        return rules

    def _known_rules(self, case_numbers: list[str]) -> set[tuple[str, str]]:
        """(case, rule) already issued, open or closed: never issued again."""
        query = select(table.c.case_number, table.c.rule).where(
            table.c.case_number.in_(case_numbers)
        )
        with self._engine.connect() as connection:
            return {(number, rule) for number, rule in connection.execute(query)}

    def _issue(self, signals: list[Signal], at: datetime) -> list[Signal]:
        """Store a page's new signals in one short transaction; those another instance stored
        first are skipped by the database (the unique (case, rule)), and only the ones this
        call stored are returned."""
        if not signals:
            return []
        rows = [
            {
                "case_number": s.case_number,
                "kind": s.kind,
                "rule": s.rule,
                "deadline": s.deadline,
                "detail": s.detail,
                "issued_at": at,
                "closed_at": None,
                "closed_because": "",
            }
            for s in signals
        ]
        statement = _insert_new(self._engine.dialect.name).returning(
            table.c.case_number, table.c.rule
        )
        with self._engine.begin() as connection:
            stored = {(n, r) for n, r in connection.execute(statement, rows)}
            new = [s for s in signals if (s.case_number, s.rule) in stored]
            if self._notice is not None:
                for signal in new:
                    self._notice.issued(connection, signal, at)
        return new

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


def _insert_new(dialect: str) -> Insert:
    """INSERT … ON CONFLICT (case, rule) DO NOTHING, on the hub's two databases."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=["case_number", "rule"])
