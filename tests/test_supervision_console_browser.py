"""The supervision pages as the office uses them, in real headless Chromium: the board of
open cases by signal colour, filtered by department, looked at on 12 October 2026; a case's
timeline with its holidays, suspension and red card, the applicant's identity number masked;
the statistics with their charts, and the .xlsx behind the download link opened back.
GOVHUB_CONSOLE_SCREENSHOTS=<folder> saves the pages (docs/images/ holds them)."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO
from typing import Any

import openpyxl
import pytest
import requests
from console_kit import add_account, chromium
from hubstack import HubStack, running_hub
from supervision_kit import APPLICANT, october_cases, open_cases
from test_security_console_browser import by_id, log_in, shows, snapshot

from hub.console.http import SESSION_COOKIE

pytestmark = pytest.mark.slow

LOOK_AT = "2026-10-12T10:00"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    # No signal pass of the hub's own: the cases' signals are the ones of their October passes.
    folder = tmp_path_factory.mktemp("supervision-console")
    with running_hub(folder, supervision_evaluate_seconds=0) as running:
        open_cases(october_cases(running.runtime.store.engine))
        yield running


@pytest.fixture(scope="module")
def browser(stack: HubStack) -> Iterator[Any]:
    with chromium() as driver:
        log_in(driver, stack, add_account(stack, "jc-wang", "read"))
        yield driver


def column(driver: Any, kind: str) -> list[str]:
    cards = by_id(driver, f"column-{kind}").find_elements("css selector", "article.case-card")
    return [card.get_attribute("id").removeprefix("case-") for card in cards]


def test_the_board_shows_open_cases_by_their_worst_signal_and_filters_them(
    stack: HubStack, browser: Any
) -> None:
    from selenium.webdriver.support.ui import Select

    browser.find_element("link text", "Supervision").click()
    by_id(browser, "at").send_keys(LOOK_AT)
    by_id(browser, "show").click()
    assert shows(browser, "2026-10-12 10:00")

    assert column(browser, "red-card") == ["MZ-E"]
    assert column(browser, "yellow-card") == ["MZ-C", "SB-B"]
    assert column(browser, "yellow-light") == ["MZ-D"]
    assert column(browser, "on-time") == ["SB-C"]  # suspended: its clock has stopped
    assert "not concluded by the committed deadline 2026-10-10" in by_id(browser, "case-MZ-E").text
    assert "CaseAccepted reported 33 hours after it happened" in by_id(browser, "case-SB-B").text
    snapshot(browser, "supervision-board")

    Select(by_id(browser, "department")).select_by_value("SOCIAL_SECURITY")
    by_id(browser, "show").click()
    assert shows(browser, "department=SOCIAL_SECURITY") or "SOCIAL_SECURITY" in browser.current_url
    assert column(browser, "yellow-card") == ["SB-B"] and column(browser, "red-card") == []
    assert column(browser, "on-time") == ["SB-C"]


def test_a_cases_timeline_shows_its_days_steps_suspension_and_red_card_with_numbers_masked(
    stack: HubStack, browser: Any
) -> None:
    browser.get(f"{stack.server.url}/console/supervision?at={LOOK_AT}")
    browser.find_element("link text", "MZ-E").click()
    assert shows(browser, "Day by day")

    assert "committed 3 working days, due 2026-10-10" in by_id(browser, "limits").text
    assert "Clock stopped for 1 working day(s)" in by_id(browser, "limits").text
    assert "not-concluded-in-time" in by_id(browser, "case-signals").text
    days = browser.find_elements("css selector", "#day-strip g.day")
    kinds = {d.get_attribute("data-date"): d.get_attribute("class") for d in days}
    assert kinds["2026-10-01"] == "day holiday suspended"
    assert kinds["2026-10-08"] == "day working-day suspended"  # the one working day stopped
    assert kinds["2026-10-10"] == "day adjusted-working-day marked"  # worked Saturday, due
    assert "2026-10-10 committed deadline" in by_id(browser, "case-marks").text
    assert by_id(browser, "case-suspensions").text.count("2026-09-30") == 1
    assert "110105********013X" in by_id(browser, "case-events").text
    assert APPLICANT not in browser.page_source
    holidays = by_id(browser, "case-holidays").text
    assert "2026-10-01 holiday National Day" in holidays
    assert "2026-10-10 adjusted-working-day National Day" in holidays
    snapshot(browser, "supervision-case")


def test_statistics_show_the_ranking_with_charts_and_the_download_opens_in_a_spreadsheet(
    stack: HubStack, browser: Any
) -> None:
    browser.get(f"{stack.server.url}/console/supervision")
    by_id(browser, "to-stats").click()
    field = by_id(browser, "period-field")
    field.clear()
    field.send_keys("2026-10")
    by_id(browser, "show").click()
    assert shows(browser, "2026-10-01 to 2026-10-31")

    ranking = by_id(browser, "ranking").find_elements("css selector", "tbody tr")
    assert [r.get_attribute("id") for r in ranking] == [
        "stats-SOCIAL_SECURITY",
        "stats-MARRIAGE_REGISTRY",
    ]
    assert "100%" in ranking[0].text and "50%" in ranking[1].text
    rate_bars = [r.find_element("css selector", "rect.rate") for r in ranking]
    assert [int(b.get_attribute("width")) for b in rate_bars] == [160, 80]
    red = ranking[1].find_element("css selector", "rect.sig-red-card")
    assert int(red.get_attribute("width")) > 0
    snapshot(browser, "supervision-stats")

    link = by_id(browser, "download").get_attribute("href")
    cookie = browser.get_cookie(SESSION_COOKIE)["value"]
    answer = requests.get(link, cookies={SESSION_COOKIE: cookie}, timeout=30)
    assert answer.status_code == 200
    assert 'filename="supervision-2026-10.xlsx"' in answer.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(BytesIO(answer.content))["Departments"]
    assert [sheet["B4"].value, sheet["B5"].value] == ["SOCIAL_SECURITY", "MARRIAGE_REGISTRY"]
    assert sheet["F5"].value == 0.5 and len(sheet._charts) == 2


def test_a_bad_period_is_a_clear_page_not_a_failure(stack: HubStack, browser: Any) -> None:
    browser.get(f"{stack.server.url}/console/supervision-stats?period=2026-10-4")

    assert shows(browser, "400 Bad Request")
    assert "'2026-10-4' is not a period" in browser.page_source
