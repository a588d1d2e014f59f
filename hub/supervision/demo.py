"""The supervision part of `govhub demo`: the clerks of two mock departments file three
cases through the hub (case events over SOAP, like any message), the supervision pass runs on
a demo clock a few working days later (nothing waits for real days), and the supervision
office, SUPERVISION, receives each signal as a message in its own format.

    case 1  marriage registration, every step done and concluded today: on time, no signal
    case 2  marriage registration, accepted today and left: a red card (3 working days passed)
    case 3  social-insurance enrolment, handled and reviewed today but not concluded: a yellow
            light (its committed 5 working days end the next working day)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from hub.config import Settings
from hub.errors import CalendarYearUnknown
from hub.identity import make_number
from hub.polling import wait_for
from hub.runtime import HubRuntime
from hub.supervision import load_calendar, shanghai_date, signal_issuer
from hub.supervision.calendar import SHANGHAI, WorkingCalendar
from hub.supervision.rules import Signal
from mock_departments.casework import CaseClerk
from mock_departments.runner import MockDepartments
from mock_departments.store import PENDING, PUSHED, MockStore, OutboxEntry

Echo = Callable[[str], None]
Follow = Callable[[str, str], bool]  # (sender, idempotency key) -> delivered everywhere
WAIT_SECONDS = 30.0
LOOK_AHEAD_DAYS = 4  # working days: case 2's 3 have passed, case 3's 5 end the next one
CALENDAR_DAYS_NEEDED = 40  # a margin for holidays around the look-ahead


def demo_calendar(
    settings: Settings, data_dir: Path, echo: Echo, today: date | None = None
) -> Settings:
    """The settings the demo counts working days with. When neither the chinese-calendar
    package nor the calendar file knows this year or the next weeks', the demo writes a
    calendar of plain Monday-to-Friday years for them and says so (the hub itself never
    guesses: this is only the demo's)."""
    calendar = load_calendar(Path(settings.calendar_file) if settings.calendar_file else None)
    today = today or shanghai_date(datetime.now(UTC))
    needed = {today.year, (today + timedelta(days=CALENDAR_DAYS_NEEDED)).year}
    missing = sorted(needed - set(calendar.years))
    if not missing:
        return settings
    file = data_dir / "demo-calendar.toml"
    known = Path(settings.calendar_file).read_text("utf-8") if settings.calendar_file else ""
    file.write_text(known + "".join(f"\n[{year}]\n" for year in missing), encoding="utf-8")
    years = ", ".join(map(str, missing))
    echo(f"(demo: no official working-day calendar for {years}; counting Monday-Friday only)")
    return replace(settings, calendar_file=str(file))


def supervision_scenario(
    runtime: HubRuntime, mocks: MockDepartments, echo: Echo, follow: Follow
) -> bool:
    settings = runtime.settings
    calendar = load_calendar(Path(settings.calendar_file) if settings.calendar_file else None)
    echo("\n3. Clerks file their cases with the hub: each step a case event, over SOAP.")
    cases = _file_cases(mocks, datetime.now(UTC) - timedelta(hours=3))
    if not _all_received(runtime, mocks, cases, echo):
        return False
    try:
        look_ahead = _look_ahead(calendar)
    except CalendarYearUnknown as error:
        echo(f"   cannot look ahead: {error}")
        return False
    echo(
        f"\n4. Time moves on (a demo clock): the supervision pass as at {look_ahead:%Y-%m-%d %H:%M}"
        " Asia/Shanghai."
    )
    issuer = signal_issuer(
        replace(settings, supervision_evaluate_seconds=60),
        runtime.store.engine,
        store=runtime.store,
        publisher=runtime.publisher,
        routes=runtime.routes,
    )
    assert issuer is not None  # evaluate seconds > 0
    issued = issuer.run_once(look_ahead).issued
    for number, story in cases.items():
        signals = [s for s in issued if s.case_number == number]
        echo(f"   {number}  {story}: " + (_shown(signals) if signals else "on time, no signal"))
    echo("\n5. The supervision office receives each signal as a message, in its own format.")
    delivered = [
        follow("HUB", f"supervision:{s.case_number}:{s.rule}:issued")
        for s in issued
        if s.kind != "yellow-card"  # the step cards come with them; two are enough to show
    ]
    kinds = {s.kind for s in issued}
    return all(delivered) and {"yellow-light", "red-card"} <= kinds


def _file_cases(mocks: MockDepartments, start: datetime) -> dict[str, str]:
    """File the three cases (events a few minutes apart, all in the past hours)."""
    marriage, social = CaseClerk(mocks.marriage_registry), CaseClerk(mocks.social_security)
    tag = uuid.uuid4().hex[:4].upper()  # a kept demo database may hold earlier runs' cases
    today = shanghai_date(start)
    on_time, late, near = (f"{prefix}-{today:%Y%m%d}-{tag}{n}" for prefix, n in _NUMBERS)
    step = timedelta(minutes=10)
    marriage.accept(on_time, "MZ-HYDJ-001", _APPLICANT_A, start)
    for n, name in enumerate(("handled", "reviewed", "approved"), start=1):
        marriage.complete(on_time, name, "李明", start + n * step)
    marriage.conclude(on_time, "approved", start + 4 * step)
    marriage.accept(late, "MZ-HYDJ-001", _APPLICANT_B, start + step)
    social.accept(near, "SB-CBDJ-001", _APPLICANT_A, start + 2 * step)
    social.complete(near, "handled", "赵敏", start + 3 * step)
    social.complete(near, "reviewed", "钱进", start + 5 * step)
    return {
        on_time: "marriage registration, concluded today",
        late: "marriage registration, accepted today and left",
        near: "social-insurance enrolment, reviewed, not concluded",
    }


def _all_received(
    runtime: HubRuntime, mocks: MockDepartments, cases: dict[str, str], echo: Echo
) -> bool:
    """Every event the clerks filed was accepted by the hub (each case's state is updated)."""
    ok = True
    for run in (mocks.running["MARRIAGE_REGISTRY"], mocks.running["SOCIAL_SECURITY"]):
        for entry in _pushed_events(run.department.store):
            if entry.status != PUSHED:
                echo(
                    f"   ✗ {entry.kind} {entry.idempotency_key}: {entry.status} {entry.last_error}"
                )
                ok = False
    book = runtime.ingress.case_book
    for number in cases:
        state = book.case(number) if book is not None else None
        shown = "not kept" if state is None else f"{state.item_code} {state.status}"
        shown += f", steps done: {', '.join(state.steps_done) or 'none'}" if state else ""
        echo(f"   {number}: {shown}")
        ok = ok and state is not None
    return ok


def _pushed_events(store: MockStore) -> list[OutboxEntry]:
    """The case events in a department's outbox, once none is waiting to be pushed (a hub
    that answered 5xx gets them again from the outbox's retries)."""

    def settled() -> list[OutboxEntry] | None:
        events = [e for e in store.outbox() if e.path == "/soap"]
        return None if any(e.status == PENDING for e in events) else events

    return wait_for(settled, WAIT_SECONDS) or [e for e in store.outbox() if e.path == "/soap"]


def _look_ahead(calendar: WorkingCalendar) -> datetime:
    today = shanghai_date(datetime.now(UTC))
    day = calendar.add(today, LOOK_AHEAD_DAYS)
    return datetime.combine(day, time(10, 0), tzinfo=SHANGHAI)


def _shown(signals: list[Signal]) -> str:
    return "; ".join(f"{s.kind} {s.rule} ({s.detail})" for s in signals)


_NUMBERS = (("MZ", 1), ("MZ", 2), ("SB", 3))
_APPLICANT_A = make_number("11010519900307", "131")
_APPLICANT_B = make_number("11010819920815", "242")
