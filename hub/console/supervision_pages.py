"""The console's supervision pages: the board of open cases by signal colour, a case's
timeline, and the statistics with their charts and the .xlsx download. The rules are
evaluated when a page is asked for, at now or at the time typed in ``at`` (a look ahead, as
`govhub supervision evaluate --at` does); nothing is issued from here."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hub.console.http import Answer, Request
from hub.console.pages import Context, chrome
from hub.console.render import render
from hub.console.supervision_board import COLUMNS, bars, board, day_strip, masked, strip_dates
from hub.errors import ClientError, NotFound
from hub.supervision import WorkingCalendar, case_book, load_calendar
from hub.supervision.calendar import SHANGHAI, shanghai_date
from hub.supervision.periods import Period, last_finished_ten_days, parse_period
from hub.supervision.statistics import statistics
from hub.supervision.tables import supervision_cases as cases_table
from hub.supervision.views import case_rows, timeline
from hub.supervision.workbook import workbook_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def supervision_board(context: Context, request: Request) -> Answer:
    typed = {name: request.query.get(name, "").strip() for name in ("department", "item", "at")}
    at = _moment(context, typed["at"])
    department, item = typed["department"] or None, typed["item"] or None
    book = case_book(context.app.settings, context.app.store.engine)
    rows = case_rows(
        book,
        _calendar(context),
        at,
        report_hours=context.app.settings.supervision_report_hours,
        department=department,
        item=item,
        concluded=False,
    )
    body = render(
        "supervision.html",
        columns=board(rows),
        titles=dict(COLUMNS),
        **_choices(context),
        typed={
            "department": department or "",
            "item": item or "",
            "at": request.query.get("at", ""),
        },
        at=at,
        **chrome(context),
    )
    return Answer("200 OK", body)


def supervision_case(context: Context, request: Request) -> Answer:
    number = request.path.strip("/").split("/")[1]
    at = _moment(context, request.query.get("at", ""))
    book = case_book(context.app.settings, context.app.store.engine)
    case = book.case(number)
    if case is None:
        raise NotFound(f"no case {number} in the supervision case book")
    calendar = _calendar(context)
    detail = timeline(
        case, book.events(number), calendar, at, context.app.settings.supervision_report_hours
    )
    days = []
    if not detail["error"]:
        today = shanghai_date(at)
        kinds = {}
        for day in strip_dates(detail, today):
            verdict = calendar.verdict(day)
            kinds[day] = (verdict.kind.value, verdict.holiday)
        days = day_strip(detail, today, kinds)
    body = render(
        "supervision_case.html",
        c=masked(detail),
        days=days,
        at=at,
        typed_at=request.query.get("at", ""),
        colours=dict(COLUMNS),
        **chrome(context),
    )
    return Answer("200 OK", body)


def supervision_stats(context: Context, request: Request) -> Answer:
    period = _period(context, request)
    department = request.query.get("department", "").strip() or None
    stats = statistics(context.app.store.engine, _calendar(context), period, department=department)
    body = render(
        "supervision_stats.html",
        stats=stats,
        bars=bars(stats),
        typed={"period": period.name, "department": department or ""},
        **chrome(context),
    )
    return Answer("200 OK", body)


def supervision_workbook(context: Context, request: Request) -> Answer:
    period = _period(context, request)
    department = request.query.get("department", "").strip() or None
    stats = statistics(context.app.store.engine, _calendar(context), period, department=department)
    name = f"supervision-{period.name}{'-' + department if department else ''}.xlsx"
    return Answer(
        "200 OK",
        workbook_bytes(stats),
        XLSX,
        [("Content-Disposition", f'attachment; filename="{name}"')],
    )


def _choices(context: Context) -> dict[str, list[Any]]:
    """The departments and items the filters offer: those of every case in the book."""
    columns = (cases_table.c.department, cases_table.c.item_code, cases_table.c.item_name)
    with context.app.store.engine.connect() as connection:
        found = connection.execute(select(*columns).distinct()).all()
    return {
        "departments": sorted({department for department, _, _ in found}),
        "items": sorted({(code, name) for _, code, name in found}),
    }


def _calendar(context: Context) -> WorkingCalendar:
    path = context.app.settings.calendar_file
    return load_calendar(Path(path) if path else None)


def _period(context: Context, request: Request) -> Period:
    typed = request.query.get("period", "").strip()
    return parse_period(typed) if typed else last_finished_ten_days(context.app.store.clock())


def _moment(context: Context, typed: str) -> datetime:
    """``at`` as typed (Asia/Shanghai unless it has a zone), else the hub's clock."""
    if not typed.strip():
        return context.app.store.clock().astimezone(SHANGHAI)
    try:
        moment = datetime.fromisoformat(typed.strip())
    except ValueError as error:
        raise ClientError(f"{typed!r} is not a time like 2026-10-09T10:00") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
