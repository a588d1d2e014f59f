"""Signals: issued once per (case, rule) whichever pass or worker instance gets there first,
stored, and closed when the case is corrected; the worker service issues them by itself."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_supervision_cli import SHANGHAI, accepted, message

from hub.cli import main
from hub.config import Settings
from hub.polling import wait_for
from hub.runtime import HubRuntime
from hub.store import Store
from hub.supervision import load_calendar
from hub.supervision.casebook import CaseBook
from hub.supervision.catalogue import CatalogueFile
from hub.supervision.signals import SignalIssuer

DEFAULT_CATALOGUE = Path(__file__).parent.parent / "hub" / "defaults" / "supervision_items.toml"


class Hub:
    """A migrated store with the hub's case book and an issuer on the real 2026 calendar."""

    def __init__(self, database_url: str) -> None:
        self.store = Store(database_url)
        self.store.upgrade()
        self.catalogue = CatalogueFile(DEFAULT_CATALOGUE)

    def record(self, at: datetime, kind: str, body: str) -> None:
        book = CaseBook(self.store.engine, self.catalogue.current, clock=lambda: at)
        book.record(message(kind, body))

    def issuer(self) -> SignalIssuer:
        book = CaseBook(self.store.engine, self.catalogue.current)
        return SignalIssuer(self.store.engine, book, load_calendar(), report_hours=24)


@pytest.fixture
def hub(database_url: str) -> Hub:
    hub = Hub(database_url)
    start = datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)
    hub.record(start, "CaseAccepted", accepted("MZ-1", start))
    hub.record(start, "CaseAccepted", accepted("MZ-2", start))
    yield hub  # type: ignore[misc]
    hub.store.dispose()


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI)


def test_each_signal_is_issued_once_across_passes_and_instances(hub: Hub) -> None:
    first = hub.issuer().run_once(at(10, 9))
    again = hub.issuer().run_once(at(10, 9, 11))  # another instance, a minute later

    assert sorted((s.case_number, s.rule) for s in first.issued) == [
        ("MZ-1", "committed-deadline-near"),
        ("MZ-1", "step-overdue:handled"),
        ("MZ-2", "committed-deadline-near"),
        ("MZ-2", "step-overdue:handled"),
    ]
    assert again.issued == []
    assert len(hub.issuer().signals()) == 4


def test_concurrent_instances_store_each_signal_once(hub: Hub) -> None:
    issuers = [hub.issuer() for _ in range(4)]
    passes: list[int] = []
    threads = [
        threading.Thread(target=lambda i=i: passes.append(len(i.run_once(at(10, 12)).issued)))
        for i in issuers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    rules = [(s.case_number, s.rule) for s in hub.issuer().signals()]
    assert sorted(rules) == [("MZ-1", "not-concluded-in-time"), ("MZ-2", "not-concluded-in-time")]
    assert sum(passes) == 2


def test_a_corrected_case_closes_its_open_signals_and_a_red_card_supersedes_the_light(
    hub: Hub,
) -> None:
    issuer = hub.issuer()
    issuer.run_once(at(10, 9))
    concluded = at(10, 9, 16)
    hub.record(
        concluded,
        "CaseConcluded",
        "<c:caseNumber>MZ-1</c:caseNumber><c:outcome>withdrawn</c:outcome>"
        f"<c:concludedAt>{concluded.isoformat()}</c:concludedAt>",
    )

    later = issuer.run_once(at(10, 12))

    assert sorted(later.closed) == [
        ("MZ-1", "committed-deadline-near", "corrected"),
        ("MZ-1", "step-overdue:handled", "corrected"),
        ("MZ-2", "committed-deadline-near", "superseded"),
        ("MZ-2", "step-overdue:handled", "superseded"),
    ]
    assert [(s.case_number, s.rule) for s in later.issued] == [("MZ-2", "not-concluded-in-time")]
    still_open = [(s.case_number, s.rule) for s in issuer.signals(open_only=True)]
    assert still_open == [("MZ-2", "not-concluded-in-time")]


def test_the_worker_service_issues_signals_by_itself(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    calendar = tmp_path / "calendar.toml"  # plain Monday-Friday years, whatever year this runs
    calendar.write_text("".join(f"[{now.year + d}]\n" for d in (-1, 0, 1)), encoding="utf-8")
    settings = Settings(
        data_dir=tmp_path, calendar_file=str(calendar), supervision_evaluate_seconds=0.2
    )
    runtime = HubRuntime(settings)
    try:
        runtime.store.upgrade()
        start = now - timedelta(days=30)
        book = CaseBook(runtime.store.engine, CatalogueFile(DEFAULT_CATALOGUE).current)
        book.record(message("CaseAccepted", accepted("MZ-9", start)))
        runtime.start_workers()

        def issued() -> list[str]:
            return [s.rule for s in _stored(runtime)]

        rules = wait_for(lambda: set(issued()) >= {"reported-late:1", "not-concluded-in-time"}, 20)
    finally:
        runtime.close()
    assert rules, issued()
    listed = CliRunner().invoke(main, ["supervision", "signals", "--data-dir", str(tmp_path)])
    assert listed.exit_code == 0, listed.output
    assert "MZ-9  red-card     not-concluded-in-time  open" in listed.output


def _stored(runtime: HubRuntime) -> list[object]:
    from hub.supervision import signal_issuer

    issuer = signal_issuer(runtime.settings, runtime.store.engine)
    assert issuer is not None
    return issuer.signals()  # type: ignore[return-value]


def test_concluding_a_case_closes_even_its_late_report_card_and_it_leaves_the_pass(
    hub: Hub,
) -> None:
    start = at(10, 8)
    hub.record(start + timedelta(days=2), "CaseAccepted", accepted("MZ-3", start))
    issuer = hub.issuer()
    first = issuer.run_once(at(10, 10))
    end = at(10, 10, 15)
    hub.record(
        end,
        "CaseConcluded",
        "<c:caseNumber>MZ-3</c:caseNumber><c:outcome>withdrawn</c:outcome>"
        f"<c:concludedAt>{end.isoformat()}</c:concludedAt>",
    )

    closing = issuer.run_once(at(10, 12))
    after = issuer.run_once(at(10, 13))

    assert ("MZ-3", "reported-late:1") in [(s.case_number, s.rule) for s in first.issued]
    assert ("MZ-3", "reported-late:1", "corrected") in closing.closed
    assert [s for s in closing.issued + after.issued if s.case_number == "MZ-3"] == []
    assert [s.rule for s in issuer.signals(open_only=True) if s.case_number == "MZ-3"] == []
