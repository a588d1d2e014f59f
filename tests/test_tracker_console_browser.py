"""The tracker page as an operator uses it, in real headless Chromium: a person's trail typed
in a form (never in the URL), the messages, the query and the reveal about them, a
department's exempted access marked with its reason; an operator without the tracker
permission has no link and is refused. GOVHUB_CONSOLE_SCREENSHOTS=<folder> saves the pages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from console_kit import add_account, chromium
from hubstack import HUSBAND_ID, WIFE_ID, HubStack, header, marriage, running_hub
from test_security_console_browser import by_id, log_in, shows, snapshot

from hub.identity import mask
from hub.operations.reveal import record_reveal
from hub.tracker.service import build_tracker

pytestmark = pytest.mark.slow
RULES = '[exemptions]\nSOCIAL_SECURITY = ["prosecutor-liaison"]\n'


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    folder = tmp_path_factory.mktemp("tracker-console")
    (folder / "tracker.toml").write_text(RULES, encoding="utf-8")
    with running_hub(folder, tracker_rules_file=str(folder / "tracker.toml")) as running:
        service = running.client().service
        purpose = f"marriage of {HUSBAND_ID} and {WIFE_ID}"
        receipt = service.Submit(header=header(purpose=purpose), message=marriage())
        running.wait_settled(receipt.messageId)
        service.Query(
            header=header("Query", "TAX", purpose="tax assessment"),
            request={"subject": HUSBAND_ID, "part": ["address"]},
        )
        store = running.runtime.store
        record_reveal(
            store, actor="op-li", message_ids=[receipt.messageId], reason="court order 7", via="cli"
        )
        build_tracker(running.runtime.settings, store).exemptions.grant(
            HUSBAND_ID,
            "SOCIAL_SECURITY",
            datetime.now(UTC) + timedelta(days=30),
            "covert inquiry, case 114",
            actor="prosecutor-liaison",
        )
        yield running


@pytest.fixture(scope="module")
def browser(stack: HubStack) -> Iterator[Any]:
    with chromium() as driver:
        yield driver


def test_an_operator_with_the_permission_sees_the_whole_trail(
    stack: HubStack, browser: Any
) -> None:
    log_in(browser, stack, add_account(stack, "op-li", "read", "tracker"))
    browser.find_element("link text", "Tracker").click()
    by_id(browser, "person").send_keys(HUSBAND_ID)
    by_id(browser, "show-trail").click()
    assert shows(browser, "3 entries")

    rows = browser.find_elements("css selector", "#trail tbody tr")
    assert [row.find_elements("tag name", "td")[1].text for row in rows] == [
        "reveal",
        "query",
        "message",
    ]
    message = rows[2].text
    assert "MARRIAGE_REGISTRY" in message and "SOCIAL_SECURITY" in message and "TAX" in message
    assert f"{HUSBAND_ID} and {mask(WIFE_ID)}" in message and WIFE_ID not in browser.page_source
    assert "Confidential" in message and "covert inquiry, case 114" in message
    assert "court order 7" in rows[0].text
    assert HUSBAND_ID not in browser.current_url
    snapshot(browser, "tracker")


def test_an_operator_without_the_permission_has_no_link_and_is_refused(
    stack: HubStack, browser: Any
) -> None:
    browser.find_element("id", "logout").click()
    log_in(browser, stack, add_account(stack, "reader-wu", "read"))

    assert not browser.find_elements("link text", "Tracker")
    browser.get(f"{stack.server.url}/console/tracker")
    assert shows(browser, "'tracker' permission")
