"""The queries page as an operator uses it, in real headless Chromium: the record of queries
answered through the hub, the identity numbers masked, filtered by requester, and one query's
sources with what each answered. GOVHUB_CONSOLE_SCREENSHOTS=<folder> saves the pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from console_kit import add_account, chromium
from hubstack import HUSBAND_ID, HubStack, header, running_hub
from test_security_console_browser import by_id, log_in, shows, snapshot

from hub.identity import mask

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with running_hub(tmp_path_factory.mktemp("query-console")) as running:
        for code, topic, value in (
            ("MARRIAGE_REGISTRY", "maritalStatus", "已婚"),
            ("TAX", "address", "110105 朝阳区建国路1号"),
        ):
            record = {"idNumber": HUSBAND_ID, "topic": topic, "value": value, "asOf": "2024-01-10"}
            url = running.mocks.running[code].url + "/query/records"
            requests.post(url, json=record, timeout=5).raise_for_status()
        service = running.client().service
        for sender, purpose in (("TAX", "tax assessment"), ("SOCIAL_SECURITY", "pension claim")):
            service.Query(
                header=header("Query", sender, purpose=purpose), request={"subject": HUSBAND_ID}
            )
        yield running


@pytest.fixture(scope="module")
def browser(stack: HubStack) -> Iterator[Any]:
    with chromium() as driver:
        log_in(driver, stack, add_account(stack, "op-li", "read"))
        yield driver


def test_operators_see_each_query_masked_and_filter_by_requester(
    stack: HubStack, browser: Any
) -> None:
    browser.find_element("link text", "Queries").click()
    assert shows(browser, "tax assessment")

    rows = browser.find_elements("css selector", "#queries tbody tr")
    assert [row.find_elements("tag name", "td")[1].text for row in rows] == [
        "SOCIAL_SECURITY",
        "TAX",
    ]
    assert HUSBAND_ID not in browser.page_source
    assert mask(HUSBAND_ID) in rows[0].text
    # No part named: each asked every part it may read.
    assert "maritalStatus, address" in rows[0].text
    assert "maritalStatus, socialInsurance, address" in rows[1].text
    snapshot(browser, "queries")

    by_id(browser, "requester").send_keys("TAX")
    by_id(browser, "filter").click()
    assert shows(browser, "requester=TAX") or "requester=TAX" in browser.current_url
    assert len(browser.find_elements("css selector", "#queries tbody tr")) == 1


def test_one_query_shows_what_each_source_answered(stack: HubStack, browser: Any) -> None:
    browser.get(f"{stack.server.url}/console/queries?requester=TAX")
    browser.find_element("css selector", "#queries tbody tr a").click()
    assert shows(browser, "What each source answered")

    assert by_id(browser, "purpose").text == "tax assessment"
    assert by_id(browser, "subject").text == mask(HUSBAND_ID)
    sources = {
        (row.get_attribute("data-part"), row.get_attribute("data-department")): row.text
        for row in browser.find_elements("css selector", "#sources tbody tr")
    }
    assert sources[("maritalStatus", "MARRIAGE_REGISTRY")].endswith("ok 1")
    assert sources[("address", "SOCIAL_SECURITY")].endswith("notFound 0")
    snapshot(browser, "query")
