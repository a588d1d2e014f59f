"""What operators change from the console, in real headless Chromium as a person does it:
pick failed messages in the list, preview their replay, replay them with a reason and follow
the replay (a child of its message) back to the original; upload a department package
(checked, refused with its reasons, registered), disable and enable a department, roll it
back; download a signed audit export. GOVHUB_CONSOLE_SCREENSHOTS=<folder> saves the pages
(docs/images/ holds the ones docs/console.md shows)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console_kit import add_account, audit_public_key, chromium, failed_at_tax, signed_console_hub
from hubstack import HubStack
from test_security_console_browser import by_id, log_in, shows, snapshot

from hub.configuration.package import DepartmentPackage, read_package
from hub.polling import wait_for
from hub.security.export import verify_export

pytestmark = pytest.mark.slow
PACKAGE = Path(__file__).resolve().parent.parent / "examples/departments/PUBLIC_SECURITY"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with signed_console_hub(tmp_path_factory, "console-ops-browser") as running:
        yield running


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    with chromium() as running:
        yield running


def tax_state(stack: HubStack, message_id: str) -> str:
    status = stack.runtime.store.message_status(message_id)
    return next(leg.state for leg in status.deliveries if leg.department == "TAX")


def test_an_operator_replays_two_picked_messages_after_a_preview_and_follows_a_replay_back(
    stack: HubStack, driver: Any
) -> None:
    from selenium.webdriver.support.expected_conditions import staleness_of
    from selenium.webdriver.support.ui import Select, WebDriverWait

    first, second = failed_at_tax(stack), failed_at_tax(stack)
    driver.delete_all_cookies()  # no session left from the test before
    log_in(driver, stack, add_account(stack, "ops-chen", "read", "operate"))
    Select(by_id(driver, "state")).select_by_value("failed")
    search = by_id(driver, "search")
    search.click()
    # The unfiltered list shows both too: wait for the filtered page before picking from it.
    WebDriverWait(driver, 10).until(staleness_of(search))
    assert shows(driver, second)
    by_id(driver, f"pick-{first}").click()
    by_id(driver, f"pick-{second}").click()
    snapshot(driver, "replay-many-pick")
    by_id(driver, "preview-picked").click()

    assert shows(driver, "Replay preview (nothing changed yet)")
    assert by_id(driver, "replay-sent").text.count("would replay to TAX") == 2
    assert by_id(driver, "replay-not-sent").text.count("already delivered to SOCIAL_SECURITY") == 2
    assert tax_state(stack, first) == "failed"
    snapshot(driver, "replay-many-preview")
    by_id(driver, "replay-reason").send_keys("tax restored its schema")
    by_id(driver, "replay-now").click()
    assert shows(driver, "Replay done")
    assert wait_for(lambda: tax_state(stack, first) == tax_state(stack, second) == "delivered", 20)

    driver.find_element("link text", first).click()
    assert shows(driver, "tax restored its schema")
    driver.find_element("css selector", "#replays a.replay-link").click()
    assert shows(driver, "A replay of message")
    assert by_id(driver, "replayed-TAX").find_element("css selector", ".state").text == "delivered"
    snapshot(driver, "replay-child")
    by_id(driver, "original").click()
    assert by_id(driver, "message-id").text == first


def upload(
    driver: Any, stack: HubStack, package: DepartmentPackage, folder: Path, button: str
) -> None:
    path = folder / f"{package.source}.zip"
    path.write_bytes(package.to_zip())
    driver.get(f"{stack.server.url}/console/departments")
    by_id(driver, "package").send_keys(str(path))
    snapshot(driver, "departments-upload")
    by_id(driver, button).click()


def test_an_administrator_uploads_a_package_disables_enables_and_rolls_back_a_department(
    stack: HubStack, driver: Any, tmp_path: Path
) -> None:
    driver.delete_all_cookies()  # no session left from the test before
    log_in(driver, stack, add_account(stack, "cfg-zhou", "read", "configure"))
    good = read_package(PACKAGE)
    files = dict(good.files)
    broken = {
        **files,
        "department.toml": files["department.toml"] + b'\n[[routes]]\nreceives = "NoSuchMessage"\n',
    }
    del broken["mappings/outbound/MarriageRegistered.toml"]

    upload(
        driver,
        stack,
        DepartmentPackage(broken, "public-security-broken"),
        tmp_path,
        "register-package",
    )
    assert shows(driver, "Refused: nothing was changed")
    assert len(driver.find_elements("css selector", "#package-reasons li")) >= 2
    snapshot(driver, "package-refused")
    upload(driver, stack, DepartmentPackage(files, "public-security"), tmp_path, "check-package")
    assert shows(driver, "Every check passed")
    snapshot(driver, "package-checked")
    upload(driver, stack, DepartmentPackage(files, "public-security"), tmp_path, "register-package")
    assert shows(driver, "Registered PUBLIC_SECURITY version 1")
    files["department.toml"] = files["department.toml"].replace(
        b"timeout_seconds = 10", b"timeout_seconds = 5"
    )
    upload(
        driver, stack, DepartmentPackage(files, "public-security-2"), tmp_path, "register-package"
    )
    assert shows(driver, "Registered PUBLIC_SECURITY version 2")

    driver.find_element("link text", "PUBLIC_SECURITY").click()
    by_id(driver, "disable").click()
    assert shows(driver, "Disabled ·")
    by_id(driver, "enable").click()
    assert shows(driver, "Enabled ·")
    by_id(driver, "rollback-1").click()
    assert shows(driver, "package version 1")
    assert (
        "active" in by_id(driver, "version-1").text and by_id(driver, "rollback-2").is_displayed()
    )
    snapshot(driver, "department-configure")


def test_an_administrator_downloads_a_signed_audit_export_that_verifies(
    stack: HubStack, driver: Any, tmp_path: Path
) -> None:
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    driver.delete_all_cookies()  # no session left from the test before
    log_in(driver, stack, add_account(stack, "cfg-wu", "read", "configure"))
    driver.find_element("link text", "Audit").click()
    snapshot(driver, "audit-export")
    by_id(driver, "export").click()

    def downloaded() -> Path | None:
        return next(iter(tmp_path.glob("govhub-audit-*.zip")), None)

    archive = wait_for(downloaded, 15.0)
    assert archive is not None
    manifest = verify_export(archive, audit_public_key(stack))
    assert manifest.entries >= 2


def test_a_read_only_account_sees_none_of_the_forms_that_change_things(
    stack: HubStack, driver: Any
) -> None:
    failed_at_tax(stack)
    driver.delete_all_cookies()  # no session left from the test before
    log_in(driver, stack, add_account(stack, "audit-wang", "read"))
    assert driver.find_elements("id", "messages") and not driver.find_elements("id", "replay-many")
    driver.get(f"{stack.server.url}/console/departments")
    assert not driver.find_elements("id", "package-form")
    driver.get(f"{stack.server.url}/console/departments/TAX")
    assert not driver.find_elements("id", "enabled-form")
    driver.get(f"{stack.server.url}/console/audit")
    assert not driver.find_elements("id", "export-form")
