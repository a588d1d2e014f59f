"""The console as a person uses it, in real headless Chromium: log in, find a failed message
by identity number, replay it and see it delivered; pause a department's deliveries and
resume them; a forged form and a read-only account refused; logout. With
GOVHUB_CONSOLE_SCREENSHOTS=<folder> the main pages are saved there (docs/images/ holds the
ones docs/console.md shows)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console_kit import add_account, chromium
from hubstack import HUSBAND_ID, HubStack, header, marriage, running_hub
from sqlalchemy import select

from hub.observability.pauses import RetryPauses
from hub.polling import wait_for
from hub.security import audit
from hub.security.credentials import IssuedSecret
from hub.security.tables import audit_log

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with running_hub(tmp_path_factory.mktemp("console-browser"), max_attempts=2) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


@pytest.fixture
def fresh(browser: Any) -> Any:
    """The browser with no session left from the test before."""
    browser.delete_all_cookies()
    return browser


def by_id(driver: Any, element_id: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id)


def shows(driver: Any, text: str) -> bool:
    """Whether the page shows ``text`` within 10 s: a submitted form's answer may still be
    loading when the click returns."""
    return bool(wait_for(lambda: text in (driver.page_source or ""), 10.0))


def snapshot(driver: Any, name: str) -> None:
    folder = os.environ.get("GOVHUB_CONSOLE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"console-{name}.png"))


def log_in(driver: Any, stack: HubStack, account: IssuedSecret) -> None:
    driver.get(f"{stack.server.url}/console/messages")
    assert driver.current_url.endswith("/console/login")
    by_id(driver, "username").send_keys(account.username)
    by_id(driver, "secret").send_keys(account.secret)
    snapshot(driver, "login")
    by_id(driver, "login").click()
    assert wait_for(lambda: driver.current_url.endswith("/console/messages"), 10.0)


def failed_at_tax(stack: HubStack) -> str:
    """A marriage tax rejects (failed at once); social security takes it."""
    stack.mocks.tax.faults.fail_next(1, permanent=True)
    receipt = stack.client().service.Submit(header=header(), message=marriage())
    assert stack.wait_settled(receipt.messageId).state == "failed"
    return str(receipt.messageId)


def test_an_operator_finds_a_failed_message_by_identity_number_replays_it_and_sees_it_delivered(
    stack: HubStack, fresh: Any
) -> None:
    from selenium.webdriver.support.ui import Select

    message_id = failed_at_tax(stack)
    log_in(fresh, stack, add_account(stack, "ops-chen", "read", "operate", "reveal"))

    by_id(fresh, "person").send_keys(HUSBAND_ID)
    Select(by_id(fresh, "state")).select_by_value("failed")
    by_id(fresh, "search").click()
    assert shows(fresh, "Only messages about identity number")
    assert message_id in by_id(fresh, "messages").text and HUSBAND_ID not in fresh.page_source
    snapshot(fresh, "messages")
    fresh.find_element("link text", message_id).click()
    assert by_id(fresh, "message-state").text == "failed"
    assert "PermanentDeliveryError" in fresh.page_source and HUSBAND_ID not in fresh.page_source
    snapshot(fresh, "message")

    by_id(fresh, "preview").click()
    assert shows(fresh, "Replay preview")
    preview = by_id(fresh, "replay-result").text
    assert "would replay to TAX" in preview and "already delivered to SOCIAL_SECURITY" in preview
    assert stack.runtime.store.message_status(message_id).state == "failed"
    snapshot(fresh, "replay-preview")
    by_id(fresh, "replay-reason").send_keys("tax fixed its schema")
    by_id(fresh, "replay-now").click()
    assert shows(fresh, "Replay done") and shows(fresh, "replayed to TAX")

    def delivered() -> bool:
        fresh.get(f"{stack.server.url}/console/messages/{message_id}")
        return bool(by_id(fresh, "message-state").text == "delivered")

    assert wait_for(delivered, 20.0)
    snapshot(fresh, "delivered")
    fresh.find_element("link text", "Dashboard").click()
    assert by_id(fresh, "dept-TAX").is_displayed()
    snapshot(fresh, "dashboard")
    fresh.find_element("link text", "Person").click()
    by_id(fresh, "key").send_keys(HUSBAND_ID)
    by_id(fresh, "trace").click()
    assert shows(fresh, "yes: every department confirmed it")
    snapshot(fresh, "person")
    fresh.find_element("link text", "Audit").click()
    by_id(fresh, "verify").click()
    assert shows(fresh, "Audit log intact")
    snapshot(fresh, "audit")
    fresh.find_element("link text", "Departments").click()
    fresh.find_element("link text", "TAX").click()
    assert shows(fresh, "TAX/outbound/MarriageRegistered")
    snapshot(fresh, "department")

    by_id(fresh, "logout").click()
    assert wait_for(lambda: fresh.current_url.endswith("/console/login"), 10.0)
    fresh.get(f"{stack.server.url}/console/messages/{message_id}")
    assert fresh.current_url.endswith("/console/login")  # the cookie is gone with the session


def tax_leg(stack: HubStack, message_id: str) -> str:
    status = stack.runtime.store.message_status(message_id)
    return next(leg.state for leg in status.deliveries if leg.department == "TAX")


def audited_changes(stack: HubStack, actor: str) -> list[str]:
    query = select(audit_log.c.details).where(
        audit_log.c.actor == actor, audit_log.c.action == audit.ADMIN_CHANGE
    )
    with stack.runtime.store.engine.connect() as connection:
        return [json.loads(row[0])["change"] for row in connection.execute(query)]


def test_an_operator_pauses_a_departments_deliveries_sees_who_and_why_then_resumes_them(
    stack: HubStack, fresh: Any
) -> None:
    pauses = RetryPauses(stack.runtime.store.engine)
    log_in(fresh, stack, add_account(stack, "ops-zhao", "read", "operate"))
    fresh.get(f"{stack.server.url}/console/departments/TAX")
    assert by_id(fresh, "pause-state").text.startswith("Flowing")
    try:
        by_id(fresh, "pause-reason").send_keys("TAX maintenance until 14:00")
        by_id(fresh, "pause").click()
        assert shows(fresh, "Resume deliveries")
        state = by_id(fresh, "pause-state").text
        assert "Paused by ops-zhao since" in state and "TAX maintenance until 14:00" in state
        snapshot(fresh, "department-paused")
        fresh.find_element("link text", "Departments").click()
        assert "paused by ops-zhao since" in by_id(fresh, "dept-TAX").text
        assert "flowing" in by_id(fresh, "dept-SOCIAL_SECURITY").text

        # Held: several relay passes (0.2 s) go by without an attempt to TAX.
        receipt = stack.client().service.Submit(header=header(), message=marriage())
        assert not wait_for(lambda: tax_leg(stack, receipt.messageId) == "delivered", 2.0)
        assert stack.runtime.store.message_status(receipt.messageId).state != "failed"

        fresh.find_element("link text", "TAX").click()
        by_id(fresh, "resume").click()
        assert shows(fresh, "Flowing: deliveries and retries go as usual.")
        assert fresh.find_elements("id", "pause-form") and not pauses.all_pauses()
        assert stack.wait_settled(receipt.messageId).state == "delivered"
        assert audited_changes(stack, "ops-zhao") == ["pause retries", "resume retries"]
    finally:
        if pauses.paused():  # the other tests need TAX's deliveries
            pauses.resume("TAX", actor="test-cleanup")


def test_a_form_with_a_wrong_csrf_token_is_refused(stack: HubStack, fresh: Any) -> None:
    message_id = failed_at_tax(stack)
    log_in(fresh, stack, add_account(stack, "ops-li", "read", "operate"))
    fresh.get(f"{stack.server.url}/console/messages/{message_id}")

    fresh.execute_script(
        "document.querySelector('#replay-preview input[name=csrf]').value = 'forged'"
    )
    by_id(fresh, "preview").click()

    assert shows(fresh, "403 Forbidden")
    assert "403" in fresh.title and "not from your current session" in by_id(fresh, "problem").text
    assert stack.runtime.store.message_status(message_id).state == "failed"


def test_a_read_only_account_sees_no_replay_and_is_refused_one_with_403(
    stack: HubStack, fresh: Any
) -> None:
    message_id = failed_at_tax(stack)
    log_in(fresh, stack, add_account(stack, "audit-wang", "read"))
    fresh.get(f"{stack.server.url}/console/messages/{message_id}")
    assert not fresh.find_elements("id", "preview")

    # The form a person could still craft, with the session's own CSRF token.
    fresh.execute_script(
        """const form = document.createElement('form');
        form.method = 'post'; form.action = arguments[0];
        form.innerHTML = '<input name=csrf value="' +
            document.querySelector('form.logout input[name=csrf]').value +
            '"><input name=action value=replay><input name=reason value=try>';
        document.body.appendChild(form); form.submit();""",
        f"/console/messages/{message_id}/replay",
    )

    assert shows(fresh, "403 Forbidden")
    problem = by_id(fresh, "problem").text
    assert "403" in fresh.title and "lacks the 'operate' permission needed for replay" in problem
    snapshot(fresh, "forbidden")
    assert stack.runtime.store.message_status(message_id).state == "failed"
