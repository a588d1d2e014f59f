"""The console's department page says which canonical version a department receives and
what it loses, in headless Chromium as an operator reads it. GOVHUB_CONSOLE_SCREENSHOTS=<folder>
saves the page (docs/images/console-department-versions.png is the one docs/versions.md shows)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from console_kit import add_account, chromium, console_hub
from hubstack import HubStack
from test_security_console_browser import by_id, log_in, snapshot
from test_versions_exchange import CODE, package

from hub.configuration.package import read_package
from hub.polling import wait_for
from hub.runtime import configuration_admin

pytestmark = pytest.mark.slow


def test_an_operator_sees_who_receives_1_0_and_loses_the_nationality(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    with console_hub(tmp_path_factory, "versions-console") as stack, chromium() as driver:
        look_at_the_department_pages(stack, driver, tmp_path)


def look_at_the_department_pages(stack: HubStack, driver: Any, tmp_path: Path) -> None:
    admin = configuration_admin(
        stack.runtime.settings, stack.runtime.config.loader, stack.runtime.config.wake
    )
    admin.register(read_package(package(tmp_path / "pkg", "http://127.0.0.1:9/", "2.0")), "a")
    assert wait_for(lambda: CODE in stack.runtime.departments.codes(), 10)
    log_in(driver, stack, add_account(stack, "ops-li", "read"))

    driver.get(f"{stack.server.url}/console/departments/TAX")
    rows = by_id(driver, "canonical-versions").find_elements("css selector", "tbody tr")
    cells = [[cell.text for cell in row.find_elements("css selector", "td")] for row in rows]
    assert cells == [
        [
            "MarriageRegistered",
            "1.0",
            "from 2.0: partyA/nationality and partyB/nationality: 1.0 has no field for a "
            "nationality",
        ]
    ]
    snapshot(driver, "department-versions")

    driver.get(f"{stack.server.url}/console/departments/{CODE}")
    row = by_id(driver, "canonical-versions").find_element("css selector", "tbody tr")
    assert [cell.text for cell in row.find_elements("css selector", "td")] == [
        "MarriageRegistered",
        "2.0",
        "nothing",
    ]
