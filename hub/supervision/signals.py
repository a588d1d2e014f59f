"""Issuing signals: what the rules say about each case, stored once per (case, rule).

``SignalIssuer.run_once(at)`` evaluates every case that is open or still has an open signal,
stores each new signal (the table's unique (case, rule) makes it exactly once, whichever
worker instance or pass gets there first) and closes the open signals the rules no longer
give: "corrected" when the overdue step was done, else "superseded" (a yellow light replaced
by its red card). A concluded case has every open signal closed ("corrected"), its
late-report cards too, and gets no new one: concluded cases leave the pass. A suspended case
keeps its signals: its clock has stopped, nothing was corrected. The worker service calls it
every ``supervision_evaluate_seconds``. A pass reads the cases a page at a time and writes
each page's new signals in one short transaction: it never holds a lock on the tables
ingress writes (bench/supervision.py measures it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, Insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from hub.errors import CalendarYearUnknown
from hub.supervision.calendar import WorkingCalendar
from hub.supervision.casebook import CaseBook
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
    ) -> None:
        self._engine = engine
        self._book = book
        self._calendar = calendar
        self._report_hours = report_hours
        self._interval = interval_seconds
        self._clock = clock

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self._interval):
            try:
                done = self.run_once(self._clock())
            except Exception as exc:  # the database is away: try again next time
                log.error("supervision pass failed: %s", type(exc).__name__)
                continue
            if done.issued or done.closed:
                log.info(
                    "supervision: %s signal(s) issued, %s closed",
                    len(done.issued),
                    len(done.closed),
                )

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
        return [s for s in signals if (s.case_number, s.rule) in stored]

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
