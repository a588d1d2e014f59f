"""A signal pass reads the cases a page at a time: with pages of two cases, every case of
every page gets its signals, exactly once, and a case concluded since the last pass has its
open signals closed wherever it falls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from supervision_kit import Cases, at, october_cases, open_cases

from hub.store import Store
from hub.supervision import load_calendar, signals
from hub.supervision.casebook import CaseBook
from hub.supervision.signals import SignalIssuer, stored_signals
from hub.supervision.views import case_rows


@pytest.fixture
def cases(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cases]:
    monkeypatch.setattr(signals, "PAGE", 2)
    store = Store(database_url)
    store.upgrade()
    built = october_cases(store.engine)
    open_cases(built)
    yield built
    store.dispose()


def issuer(cases: Cases) -> SignalIssuer:
    book = CaseBook(cases.engine, cases.catalogue.current)
    return SignalIssuer(cases.engine, book, load_calendar(), report_hours=24)


def test_every_page_gets_its_signals_once(cases: Cases) -> None:
    moment = at(10, 14)
    book = CaseBook(cases.engine, cases.catalogue.current)
    expected = {
        (row["case_number"], s["rule"])
        for row in case_rows(book, load_calendar(), moment, report_hours=24, concluded=False)
        for s in row["signals"]
    }

    before = {(s.case_number, s.rule) for s in stored_signals(cases.engine)}
    first = issuer(cases).run_once(moment)
    again = issuer(cases).run_once(moment)

    issued = {(s.case_number, s.rule) for s in first.issued}
    assert {number for number, _ in expected} == {"MZ-C", "MZ-D", "MZ-E", "SB-B"}  # 3 pages
    assert issued == expected - before  # SB-B's late card was stored in October
    assert again.issued == []
    stored = [(s.case_number, s.rule) for s in stored_signals(cases.engine)]
    assert len(stored) == len(set(stored))


def test_a_case_concluded_since_the_last_pass_has_its_signals_closed(cases: Cases) -> None:
    issuer(cases).run_once(at(10, 14))
    for step, hour in (("reviewed", 9), ("approved", 10)):
        cases.step("MZ-E", step, at(10, 15, hour))
    cases.conclude("MZ-E", at(10, 15, 11))

    done = issuer(cases).run_once(at(10, 15, 12))

    assert ("MZ-E", "not-concluded-in-time", "corrected") in done.closed
    assert not [s for s in stored_signals(cases.engine, open_only=True) if s.case_number == "MZ-E"]
