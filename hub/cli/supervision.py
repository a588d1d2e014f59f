"""`govhub calendar …`: the working-day calendar deadline supervision counts in (statutory
holidays and adjusted working weekends of mainland China, plus the admins' calendar file)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from hub.cli.options import build_settings, json_option
from hub.errors import HubError
from hub.supervision import DayVerdict, WorkingCalendar, load_calendar

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
