"""The dashboard and the alerts page of a real running hub, over HTTP and in real headless
Chromium: a department that rejects everything shows as failing with its alert firing, the
alert's history says where its notice went, the database and the bus show their health, and
an account without read is refused. With GOVHUB_CONSOLE_SCREENSHOTS=<folder> the two pages
are saved there (docs/images/ holds the ones the README shows)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from console_kit import add_account, chromium, logged_in
from hubstack import HubStack, header, marriage, running_hub
from test_security_console_browser import by_id, log_in, snapshot

from hub.observability.alerting import history
from hub.polling import wait_for

pytestmark = pytest.mark.slow

RULES = """
[[rule]]
name = "tax-failing"
kind = "failure_rate"
department = "TAX"
above = 0.5
window_seconds = 600

[[rule]]
name = "backlog"
kind = "pending_above"
above = 1000
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    folder = tmp_path_factory.mktemp("console-dash")
    rules = folder / "alerts.toml"
    rules.write_text(RULES, encoding="utf-8")
    with running_hub(
        folder, max_attempts=2, alert_rules_file=str(rules), alert_interval_seconds=0.2
    ) as running:
        running.mocks.tax.faults.fail_next(3, permanent=True)
        for _ in range(3):  # TAX rejects each; social security takes each
            receipt = running.client().service.Submit(header=header(), message=marriage())
            assert running.wait_settled(receipt.messageId).state == "failed"
        engine = running.runtime.store.engine
        assert wait_for(lambda: any(e.event == "notified" for e in history(engine)), 10.0)
        yield running


def test_the_dashboard_shows_latency_charts_and_the_health_of_everything(
    stack: HubStack,
) -> None:
    client, _ = logged_in(stack, add_account(stack, "watch-li", "read"))

    page = client.get(f"{stack.server.url}/console/dashboard", timeout=10).text

    assert state_of(page, "health-database") == "ok" and state_of(page, "health-bus") == "ok"
    assert state_of(page, "endpoint-TAX") == "failing"
    assert state_of(page, "endpoint-SOCIAL_SECURITY") == "ok"
    social = row(page, "dept-SOCIAL_SECURITY")
    p95 = re.search(r'data-window="day" data-latency="p95">([^<]+)<', social)
    assert p95 and re.fullmatch(r"\d+(\.\d)? (ms|s)", p95.group(1)), social
    chart = row(page, "chart-SOCIAL_SECURITY")
    assert chart.count('class="bar-delivered"') == 24 and "this hour: 3 delivered" in chart
    assert "this hour: 0 delivered, 3 not delivered" in row(page, "chart-TAX")


def test_the_alerts_page_lists_the_rules_the_firing_alert_and_its_history(
    stack: HubStack,
) -> None:
    client, _ = logged_in(stack, add_account(stack, "watch-wu", "read"))

    page = client.get(f"{stack.server.url}/console/alerts", timeout=10).text

    firing = page.split('id="firing"', 1)[1].split("</table>", 1)[0]
    assert 'data-rule="tax-failing"' in firing and "<td>TAX</td>" in firing
    assert "backlog" not in firing
    rules = page.split('id="rules"', 1)[1].split("</table>", 1)[0]
    assert "above 0.5 over 600 s" in rules and 'data-rule="backlog"' in rules
    kept = page.split('id="history-tax-failing"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r'data-event="(\w+)"', kept) == ["notified", "fired"]
    # when it fired, as many attempts as had been made then, none delivered
    assert re.search(r"(\d) of \1 attempts in 600 s did not deliver", kept)
    assert "<td>log</td>" in kept


def test_an_account_without_read_is_refused_the_alerts_page(stack: HubStack) -> None:
    client, _ = logged_in(stack, add_account(stack, "nobody-he"))

    page = client.get(f"{stack.server.url}/console/alerts", timeout=10)

    assert page.status_code == 403 and "lacks the &#39;read&#39; permission" in page.text


def test_an_operator_sees_the_failing_department_and_its_alert_in_a_browser(
    stack: HubStack,
) -> None:
    with chromium() as browser:
        log_in(browser, stack, add_account(stack, "watch-zhao", "read"))
        browser.find_element("link text", "Dashboard").click()
        assert by_id(browser, "endpoint-TAX").text.startswith("TAX failing")
        chart = by_id(browser, "chart-TAX").find_element("css selector", "svg.hourly")
        assert chart.size["width"] > 100 and chart.is_displayed()
        assert by_id(browser, "health-database").get_attribute("data-state") == "ok"
        snapshot(browser, "dashboard")
        browser.find_element("link text", "Alerts").click()
        assert "tax-failing TAX" in by_id(browser, "firing").text
        assert "did not deliver" in by_id(browser, "history-tax-failing").text
        snapshot(browser, "alerts")


def row(page: str, element_id: str) -> str:
    return page.split(f'id="{element_id}"', 1)[1].split("</tr>", 1)[0]


def state_of(page: str, element_id: str) -> str:
    found = re.search(r'data-state="(\w+)"', page.split(f'id="{element_id}"', 1)[1])
    assert found, element_id
    return found.group(1)
