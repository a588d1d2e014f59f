"""What the console's supervision pages show, as plain data for the templates: the board's
columns of open cases by their worst signal, a case's day-by-day strip, and the statistics
as bar lengths (drawn as inline SVG: no script, nothing the page's CSP forbids). Free text a
department sent (handlers, reasons, details) has identity numbers masked on the way out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from hub.identity import mask_in_text
from hub.supervision.rules import RED_CARD, YELLOW_CARD, YELLOW_LIGHT
from hub.supervision.statistics import Counts, Statistics

ON_TIME = "on-time"
COLUMNS = (
    (RED_CARD, "Red card"),
    (YELLOW_CARD, "Yellow card"),
    (YELLOW_LIGHT, "Yellow light"),
    (ON_TIME, "On time"),
)
COLUMN_LIMIT = 100  # cases shown per column; the count says how many there are
STRIP_DAYS = 90  # the longest day strip a timeline draws
BAR_WIDTH = 160  # pixels of a full bar on the statistics page


@dataclass
class Column:
    kind: str
    title: str
    cases: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0


def masked(value: Any) -> Any:
    """``value`` with every identity number in its strings masked, however deep."""
    if isinstance(value, str):
        return mask_in_text(value)
    if isinstance(value, list):
        return [masked(v) for v in value]
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    return value


def colour_of(row: dict[str, Any]) -> str:
    kinds = {s["kind"] for s in row["signals"]}
    return next((kind for kind, _ in COLUMNS if kind in kinds), ON_TIME)


def board(rows: list[dict[str, Any]]) -> list[Column]:
    columns = {kind: Column(kind, title) for kind, title in COLUMNS}
    for row in rows:
        column = columns[colour_of(row)]
        column.total += 1
        if len(column.cases) < COLUMN_LIMIT:
            column.cases.append(masked(row))
    return list(columns.values())


@dataclass(frozen=True)
class Day:
    day: date
    kind: str  # working-day / weekend / holiday / adjusted-working-day
    holiday: str
    suspended: bool
    marks: tuple[str, ...]  # what happened or fell due that day


def day_strip(detail: dict[str, Any], today: date, kinds: dict[date, tuple[str, str]]) -> list[Day]:
    """Each day from acceptance to the legal deadline (or today, if later): its kind, whether
    the clock stood still, and the events and deadlines on it. ``kinds``: the day's kind and
    holiday name from the calendar, for every day of the strip."""
    marks: dict[date, list[str]] = {}

    def mark(when: str | None, text: str) -> None:
        if when:
            marks.setdefault(date.fromisoformat(when[:10]), []).append(text)

    for event in detail["events"]:
        mark(event["happened_at"], event["step"] or event["kind"].removeprefix("Case").lower())
    for step in detail["steps"]:
        mark(step["due"], f"{step['step']} due")
    mark(detail["committed_due"], "committed deadline")
    mark(detail["legal_due"], "legal deadline")
    paused = _suspended_days(detail["suspensions"], today)
    return [
        Day(day, *kinds[day], day in paused, tuple(marks.get(day, ())))
        for day in strip_dates(detail, today)
    ]


def strip_dates(detail: dict[str, Any], today: date) -> list[date]:
    first = date.fromisoformat(detail["accepted_at"][:10])
    last = max(date.fromisoformat(detail["legal_due"]), today)
    last = min(last, first + timedelta(days=STRIP_DAYS - 1))
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _suspended_days(suspensions: list[dict[str, Any]], today: date) -> set[date]:
    days: set[date] = set()
    for pause in suspensions:
        day = date.fromisoformat(pause["from"]) + timedelta(days=1)
        end = date.fromisoformat(pause["to"]) if pause["to"] else today + timedelta(days=1)
        while day < end:
            days.add(day)
            day += timedelta(days=1)
    return days


@dataclass(frozen=True)
class Bars:
    """One department's bars: the on-time rate and its lights and cards, in pixels."""

    rate: int
    lights: int
    yellow: int
    red: int


def bars(stats: Statistics) -> dict[str, Bars]:
    most = max((_signals(d.counts) for d in stats.departments), default=0) or 1

    def width(count: int) -> int:
        return round(BAR_WIDTH * count / most)

    return {
        d.department: Bars(
            round(BAR_WIDTH * (d.counts.on_time_rate or 0.0)),
            width(d.counts.yellow_lights),
            width(d.counts.yellow_cards),
            width(d.counts.red_cards),
        )
        for d in stats.departments
    }


def _signals(counts: Counts) -> int:
    return counts.yellow_lights + counts.yellow_cards + counts.red_cards
