"""An operator sees a mailbox leg in the console, in real headless Chromium: waiting until
its department acknowledges it, then delivered with its attempt. GOVHUB_CONSOLE_SCREENSHOTS
=<folder> saves the page (docs/images/console-mailbox-waiting.png is the one
docs/mailboxes.md shows)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from console_kit import add_account, chromium
from hubstack import HubStack, running_hub
from test_mailboxes import KEYS, hub_as, mailbox_departments, receive_all, submitted
from test_security_console_browser import by_id, log_in, shows, snapshot

from hub.security.credentials import CredentialStore
from hub.security.encryption import KeyRing

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    folder = tmp_path_factory.mktemp("mailbox-console")
    departments = mailbox_departments(folder)
    with running_hub(folder, encryption_keys=KEYS, departments_file=departments) as running:
        yield running


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    with chromium() as running:
        yield running


def test_an_operator_sees_a_mailbox_leg_waiting_then_delivered_when_acknowledged(
    stack: HubStack, driver: Any
) -> None:
    credentials = CredentialStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
    secrets = {
        code: credentials.issue(code, actor="admin-wang") for code in ("MARRIAGE_REGISTRY", "TAX")
    }
    message_id = submitted(stack, secrets)
    log_in(driver, stack, add_account(stack, "ops-li", "read"))
    driver.get(f"{stack.server.url}/console/messages/{message_id}")

    assert by_id(driver, "leg-TAX").find_element("css selector", ".state").text == "waiting"
    assert by_id(driver, "message-state").text == "accepted"
    snapshot(driver, "mailbox-waiting")
    tax = hub_as(stack, secrets["TAX"])
    tax.Ack(leaseToken=[receive_all(tax, message_id).leaseToken])
    driver.refresh()

    assert shows(driver, "delivered")
    leg = by_id(driver, "leg-TAX")
    assert leg.find_element("css selector", ".state").text == "delivered"
    assert leg.find_elements("css selector", "td")[2].text == "1"  # attempts
