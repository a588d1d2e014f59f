"""Deadline supervision (电子监察): every administrative case on the clock, in working days.

The contract, as far as it is built:

    calendar.py          WorkingCalendar: is a date a working day in mainland China (statutory
                         holidays and the adjusted working weekends, 调休), the date N working
                         days after another, the Asia/Shanghai date of a moment. A date in a
                         year nobody described raises CalendarYearUnknown naming the year;
                         the calendar never guesses.
    calendar_sources.py  load_calendar(calendar_file): the schedules the chinese-calendar
                         package was released with, and the admins' TOML file for the years it
                         does not know yet (a year in the file replaces the package's).
    catalogue.py         the item catalogue (TOML, GOVHUB_SUPERVISION_CATALOGUE_FILE): each
                         item's legal and committed limits and step limits in working days,
                         versioned, read again when the file changes.
    events.py            CASE_EVENT_TYPES, and a case event read from its canonical XML.
    rules_of_acceptance.py  which event a case takes next (pure), else the fault naming the
                         rule: UnknownItem, UnknownCase, StepOutOfOrder, EventInFuture,
                         ReasonMissing (hub/errors.py).
    casebook.py          CaseBook.record(message): ingress calls it for each case event before
                         the message is stored; the case and its event in one transaction,
                         once per (sender, idempotency key). Tables: tables.py (0010).
    clock.py, rules.py   a case's deadlines in working days, suspensions stopping the clock;
                         evaluate(): its signals at any time (pure).
    signals.py           SignalIssuer: the worker service's pass, each signal stored once per
                         (case, rule) across passes and instances, closed when corrected.
    lease.py             PassLease: which worker instance runs the pass, one at a time.
    notices.py           SignalMessages: each signal issued or closed as a SupervisionSignal
                         message to the supervision office, in the signal's transaction.
                         (case, rule) across passes and instances, closed when corrected;
                         cases read and signals written a page at a time.
    views.py             what `govhub supervision` prints.
    periods.py           a month or a ten-day period (旬) of the statistics; the last finished one.
    statistics.py        per department and item for a period: cases, on-time rate, average
                         working days, lights and cards, the ranking (read-only queries).
    workbook.py          the statistics as an .xlsx with its charts (openpyxl).

    demo.py              the supervision part of `govhub demo` (hub/demo.py imports it
                         directly: it needs the mock departments, which the hub does not).

The rest of the hub reaches this package only through the names below.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from hub.bus import Publisher
from hub.config import Settings
from hub.routing import RoutingTable
from hub.store import Store
from hub.supervision.calendar import DayKind, DayVerdict, WorkingCalendar, shanghai_date
from hub.supervision.calendar_sources import load_calendar
from hub.supervision.casebook import CaseBook
from hub.supervision.catalogue import CatalogueFile
from hub.supervision.events import CASE_EVENT_TYPES
from hub.supervision.lease import PassLease
from hub.supervision.notices import SignalMessages, route_receivers
from hub.supervision.signals import SignalIssuer

__all__ = [
    "CASE_EVENT_TYPES",
    "CaseBook",
    "DayKind",
    "DayVerdict",
    "WorkingCalendar",
    "case_book",
    "load_calendar",
    "shanghai_date",
    "signal_issuer",
]


def case_book(settings: Settings, engine: Engine) -> CaseBook:
    """The case book of a hub process, on its catalogue file (a broken file fails here)."""
    catalogue = CatalogueFile(settings.supervision_catalogue_file)
    skew = timedelta(seconds=settings.supervision_clock_skew_seconds)
    return CaseBook(engine, catalogue.current, skew=skew)


def signal_issuer(
    settings: Settings,
    engine: Engine,
    *,
    store: Store | None = None,
    publisher: Publisher | None = None,
    routes: RoutingTable | None = None,
) -> SignalIssuer | None:
    """The worker service's issuer, or None when ``supervision_evaluate_seconds`` is 0. It
    runs its passes under the database lease; given the ``store``, it sends each signal to
    the supervision office (the ``routes``' receivers of SupervisionSignal, by default the
    routes file's), publishing the legs with ``publisher``."""
    if settings.supervision_evaluate_seconds <= 0:
        return None
    calendar = load_calendar(Path(settings.calendar_file) if settings.calendar_file else None)
    notice = None
    if store is not None:
        table = routes or RoutingTable.from_file(settings.routes_file)
        notice = SignalMessages(
            store,
            route_receivers(lambda message_type: table.route(message_type).receivers),
            lease_seconds=settings.lease_seconds,
            publisher=publisher,
        )
    return SignalIssuer(
        engine,
        case_book(settings, engine),
        calendar,
        report_hours=settings.supervision_report_hours,
        interval_seconds=settings.supervision_evaluate_seconds,
        lease=PassLease(engine, settings.supervision_lease_seconds),
        notice=notice,
    )
