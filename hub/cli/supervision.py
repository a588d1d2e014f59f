"""`govhub calendar …`: the working-day calendar deadline supervision counts in (statutory
holidays and adjusted working weekends of mainland China, plus the admins' calendar file).
`govhub supervision evaluate|cases|case`: cases on the clock and the signals the rules give
at any time (nothing is issued by these commands). `govhub supervision stats`: the published
statistics of a month or ten-day period (旬), as text, JSON or an .xlsx with charts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from hub.cli.options import build_settings, json_option, migrated_store, settings_options
from hub.errors import HubError
from hub.supervision import DayVerdict, WorkingCalendar, case_book, load_calendar
from hub.supervision.calendar import SHANGHAI
from hub.supervision.periods import last_finished_ten_days, parse_period
from hub.supervision.rules import SIGNAL_KINDS
from hub.supervision.signals import stored_signals
from hub.supervision.statistics import Counts, Statistics, statistics
from hub.supervision.views import case_rows, timeline
from hub.supervision.workbook import workbook_bytes

F = TypeVar("F", bound=Callable[..., Any])


_DATE = click.DateTime(formats=["%Y-%m-%d"])  # gives a datetime: commands take its .date()


def _calendar_file_option(command: F) -> F:
    return click.option(
        "--calendar-file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="TOML file of holidays and working weekends for the years the chinese-calendar "
        "package does not know. [default: GOVHUB_CALENDAR_FILE, else none]",
    )(command)


def _calendar(calendar_file: Path | None) -> WorkingCalendar:
    path = calendar_file or build_settings().calendar_file
    try:
        return load_calendar(Path(path) if path else None)
    except HubError as error:
        raise click.ClickException(str(error)) from error


def _verdict_json(verdict: DayVerdict) -> dict[str, Any]:
    return {
        "date": verdict.day.isoformat(),
        "working_day": verdict.working,
        "kind": verdict.kind.value,
        "holiday": verdict.holiday or None,
        "source": verdict.source,
    }


@click.group("calendar")
def calendar_cli() -> None:
    """Working days in mainland China (Asia/Shanghai): holidays and adjusted working weekends."""


@calendar_cli.command("is-working-day")
@_calendar_file_option
@json_option
@click.argument("day", metavar="DATE", type=_DATE)
def is_working_day_command(day: datetime, as_json: bool, calendar_file: Path | None) -> None:
    """Say whether DATE (e.g. 2026-02-14) is a working day, and why."""
    try:
        verdict = _calendar(calendar_file).verdict(day.date())
    except HubError as error:
        raise click.ClickException(str(error)) from error
    click.echo(json.dumps(_verdict_json(verdict)) if as_json else verdict.describe())


@calendar_cli.command("add", context_settings={"ignore_unknown_options": True})
@_calendar_file_option
@json_option
@click.argument("day", metavar="DATE", type=_DATE)
@click.argument("count", metavar="N", type=int)
def add_command(day: datetime, count: int, as_json: bool, calendar_file: Path | None) -> None:
    """Print the date N working days after DATE (N < 0: before it); DATE itself never counts."""
    calendar = _calendar(calendar_file)
    try:
        result = calendar.add(day.date(), count)
        verdict = calendar.verdict(result)
    except HubError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        answer = {"from": day.date().isoformat(), "working_days": count}
        click.echo(json.dumps(answer | _verdict_json(verdict)))
    else:
        click.echo(result.isoformat())


def _moment(value: str | None) -> datetime:
    """--at: an ISO date and time; without a zone it is Asia/Shanghai time. Default: now."""
    if not value:
        return datetime.now(SHANGHAI)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a time like 2026-10-09T10:00") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


_at_option = click.option(
    "--at",
    "at",
    help="The time to evaluate at, e.g. 2026-10-09T10:00 (Asia/Shanghai unless "
    "it has a zone). [default: now]",
)


@click.group("supervision")
def supervision_cli() -> None:
    """Deadline supervision: cases on the clock, yellow lights, yellow and red cards."""


@supervision_cli.command("evaluate")
@settings_options
@json_option
@_at_option
def evaluate_command(as_json: bool, at: str | None, **options: Any) -> None:
    """What the rules say about every open case at --at; issues nothing (a look ahead)."""
    _print_cases(options, at, as_json, concluded=False)


@supervision_cli.command("cases")
@settings_options
@json_option
@_at_option
@click.option("--department", help="Only this department's cases.")
@click.option("--item", help="Only cases of this item code.")
@click.option("--signal", type=click.Choice(SIGNAL_KINDS), help="Only cases with this signal.")
def cases_command(
    as_json: bool,
    at: str | None,
    department: str | None,
    item: str | None,
    signal: str | None,
    **options: Any,
) -> None:
    """Every case (open, suspended, concluded) with its deadlines and signals."""
    _print_cases(options, at, as_json, department=department, item=item, signal=signal)


def _print_cases(options: dict[str, Any], at: str | None, as_json: bool, **filters: Any) -> None:
    moment = _moment(at)
    with migrated_store(options) as (settings, store):
        calendar = _calendar(Path(settings.calendar_file) if settings.calendar_file else None)
        book = case_book(settings, store.engine)
        rows = case_rows(
            book, calendar, moment, report_hours=settings.supervision_report_hours, **filters
        )
    if as_json:
        click.echo(json.dumps({"at": moment.isoformat(), "cases": rows}, ensure_ascii=False))
        return
    click.echo(f"at {moment.isoformat()}: {len(rows)} case(s)")
    for row in rows:
        due = row["committed_due"] or "?"
        click.echo(
            f"{row['case_number']}  {row['item_code']}  {row['department']}  {row['status']}"
            f"  committed due {due}"
        )
        for signal in row["signals"]:
            click.echo(f"    {signal['kind']:<12} {signal['rule']}: {signal['detail']}")
        if row["error"]:
            click.echo(f"    error: {row['error']}")


@supervision_cli.command("signals")
@settings_options
@json_option
@click.option("--open", "open_only", is_flag=True, help="Only signals not closed yet.")
def signals_command(as_json: bool, open_only: bool, **options: Any) -> None:
    """The signals the worker service issued: when, for which rule, and when closed."""
    with migrated_store(options) as (_, store):
        rows = [
            {
                "case_number": s.case_number,
                "kind": s.kind,
                "rule": s.rule,
                "deadline": s.deadline.isoformat() if s.deadline else None,
                "detail": s.detail,
                "issued_at": s.issued_at.astimezone(SHANGHAI).isoformat(),
                "closed_at": s.closed_at.astimezone(SHANGHAI).isoformat() if s.closed_at else None,
                "closed_because": s.closed_because or None,
            }
            for s in stored_signals(store.engine, open_only=open_only)
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        closed = (
            f"closed {row['closed_at']} ({row['closed_because']})" if row["closed_at"] else "open"
        )
        click.echo(
            f"{row['issued_at']}  {row['case_number']}  {row['kind']:<12} {row['rule']}  {closed}"
        )


@supervision_cli.command("case")
@settings_options
@json_option
@_at_option
@click.argument("case_number")
def case_command(case_number: str, as_json: bool, at: str | None, **options: Any) -> None:
    """One case's clock step by step: events, step deadlines, suspensions, holidays."""
    moment = _moment(at)
    with migrated_store(options) as (settings, store):
        calendar = _calendar(Path(settings.calendar_file) if settings.calendar_file else None)
        book = case_book(settings, store.engine)
        case = book.case(case_number)
        if case is None:
            raise click.ClickException(f"no case {case_number}")
        detail = timeline(
            case, book.events(case_number), calendar, moment, settings.supervision_report_hours
        )
    if as_json:
        click.echo(json.dumps(detail | {"at": moment.isoformat()}, ensure_ascii=False))
        return
    _print_timeline(detail, moment)


def _print_timeline(detail: dict[str, Any], moment: datetime) -> None:
    click.echo(
        f"case {detail['case_number']}: {detail['item_code']} {detail['item_name']}, "
        f"{detail['department']}, {detail['status']}"
        + (f" ({detail['outcome']})" if detail["outcome"] else "")
    )
    if detail["error"]:
        raise click.ClickException(detail["error"])
    limits = detail["limits"]
    click.echo(
        f"limits (catalogue version {limits['catalogue_version']}): committed "
        f"{limits['committed_days']} working days, due {detail['committed_due']}; legal "
        f"{limits['legal_days']}, due {detail['legal_due']}"
    )
    click.echo("events:")
    for event in detail["events"]:
        what = " ".join(str(event[k]) for k in ("step", "outcome", "handler", "reason") if event[k])
        click.echo(
            f"  {event['happened_at']}  {event['kind']} {what}".rstrip()
            + f"  (reported {event['reported_at']})"
        )
    click.echo("steps:")
    for step in detail["steps"]:
        done = f"done {step['done']}" if step["done"] else "not done"
        click.echo(
            f"  {step['step']:<9} {step['limit_days']} working day(s) from {step['starts']}, "
            f"due {step['due']}, {done}"
        )
    for pause in detail["suspensions"]:
        click.echo(
            f"suspended {pause['from']} to {pause['to'] or 'now'}"
            + (f": {pause['reason']}" if pause["reason"] else "")
        )
    click.echo(f"clock stopped for {detail['paused_working_days']} working day(s)")
    click.echo("holidays and make-up working days up to the legal deadline:")
    for day in detail["special_days"]:
        click.echo(f"  {day['date']} {day['kind']} ({day['holiday']})")
    click.echo(f"signals at {moment.isoformat()}:")
    for signal in detail["signals"] or [{"kind": "none", "rule": "", "detail": ""}]:
        click.echo(f"  {signal['kind']:<12} {signal['rule']} {signal['detail']}".rstrip())


@supervision_cli.command("stats")
@settings_options
@json_option
@click.option(
    "--period",
    help="A month (2026-10) or a ten-day period (2026-10-1, 2026-10-2, 2026-10-3). "
    "[default: the last ten-day period that has ended]",
)
@click.option("--department", help="Only this department.")
@click.option(
    "--xlsx",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the statistics with their charts to this .xlsx file.",
)
def stats_command(
    as_json: bool, period: str | None, department: str | None, xlsx: Path | None, **options: Any
) -> None:
    """Per department and item: cases, concluded, on-time rate, average working days,
    yellow lights, yellow and red cards, and the ranking of departments."""
    if as_json and xlsx:
        raise click.UsageError("--json and --xlsx: give one")
    try:
        chosen = parse_period(period) if period else last_finished_ten_days(datetime.now(SHANGHAI))
    except HubError as error:
        raise click.BadParameter(str(error), param_hint="--period") from error
    with migrated_store(options) as (settings, store):
        calendar = _calendar(Path(settings.calendar_file) if settings.calendar_file else None)
        stats = statistics(store.engine, calendar, chosen, department=department)
    if xlsx:
        xlsx.write_bytes(workbook_bytes(stats))
        click.echo(f"written {xlsx} ({len(stats.departments)} department(s), {chosen.name})")
    elif as_json:
        click.echo(json.dumps(stats.as_json(), ensure_ascii=False))
    else:
        _print_stats(stats)


def _print_stats(stats: Statistics) -> None:
    period = stats.period
    click.echo(
        f"supervision statistics {period.name} ({period.first} to {period.last}), working days"
    )
    click.echo(
        f"{'rank':<5} {'department / item':<28} {'cases':>5} {'concl.':>6} {'on time':>8} "
        f"{'avg days':>8} {'lights':>6} {'yellow':>6} {'red':>4}"
    )
    for department in stats.departments:
        click.echo(f"{department.rank:<5} " + _stats_line(department.department, department.counts))
        for item in department.items:
            click.echo(" " * 6 + _stats_line(f"  {item.item_code} {item.item_name}", item.counts))
    if not stats.departments:
        click.echo("no case accepted or concluded, and no signal, in this period")
    for line in stats.not_counted:
        click.echo(f"not counted: {line}")


def _stats_line(name: str, counts: Counts) -> str:
    rate, days = counts.on_time_rate, counts.average_working_days
    shown_rate = "-" if rate is None else f"{rate:.0%}"
    shown_days = "-" if days is None else f"{days:.1f}"
    return (
        f"{name:<28} {counts.cases:>5} {counts.concluded:>6} {shown_rate:>8} {shown_days:>8} "
        f"{counts.yellow_lights:>6} {counts.yellow_cards:>6} {counts.red_cards:>4}"
    )
