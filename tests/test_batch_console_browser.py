"""Batches in the console, in real headless Chromium as a clerk's reviewer does it: upload a
workbook made from the template to check it (held, nothing sent), see the failing row with
its column, rule and masked value, tick it out with a reason and commit; the passing rows
reach the departments once, the commit is audited with the account, and the report
downloads as the clerk's workbook with the failing cell red. GOVHUB_CONSOLE_SCREENSHOTS=
<folder> saves the pages (docs/images/ holds the ones docs/console.md shows)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from batch_kit import couple, filled_workbook
from console_kit import add_account, chromium, console_hub, csrf_of, logged_in
from hubstack import HubStack
from openpyxl import load_workbook
from test_security_console_browser import by_id, log_in, shows, snapshot

from hub.batch.ledger import BatchLedger
from hub.polling import wait_for
from hub.security import audit

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with console_hub(tmp_path_factory, "batch-console-browser") as running:
        yield running


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    with chromium() as running:
        yield running


def as_browser(driver: Any) -> requests.Session:
    """A client holding the browser's session cookie (what a download link is fetched with)."""
    client = requests.Session()
    for c in driver.get_cookies():
        client.cookies.set(c["name"], c["value"])
    return client


def test_a_reviewer_uploads_a_workbook_sees_the_failing_row_excludes_it_and_commits(
    stack: HubStack, driver: Any, tmp_path: Path
) -> None:
    workbook = filled_workbook(tmp_path, [couple(1), couple(2), couple(3, partyB_sex="7")])
    log_in(driver, stack, add_account(stack, "ops-li", "read", "operate"))
    driver.get(f"{stack.server.url}/console/batches")
    assert shows(driver, "No batch filed yet")
    by_id(driver, "batch-file").send_keys(str(workbook))
    by_id(driver, "batch-sender").send_keys("MARRIAGE_REGISTRY")
    snapshot(driver, "batches-upload")
    by_id(driver, "batch-check").click()

    assert shows(driver, "3 rows,")
    assert by_id(driver, "batch-state").text == "held"
    failure = driver.find_element("css selector", "#failures tr.row-4")
    assert "partyB_sex" in failure.text and "7" in failure.text
    assert "11010519900307" not in driver.page_source  # identity numbers stay masked
    tax = stack.mocks.tax.store
    assert len(tax.keys()) == 0  # checked and held: nothing sent
    batch_id = driver.current_url.rsplit("/", 1)[-1]

    client = as_browser(driver)
    forged = client.post(
        f"{stack.server.url}/console/batches/{batch_id}/commit", data={}, allow_redirects=False
    )
    assert forged.status_code == 403 and "not from your current session" in forged.text
    report = client.get(f"{stack.server.url}/console/batches/{batch_id}/report.xlsx", timeout=10)
    book = load_workbook(io.BytesIO(report.content))
    sheet = book.worksheets[0]
    red = [c.coordinate for row in sheet.iter_rows() for c in row if c.fill.fill_type == "solid"]
    assert red == [
        "J4"
    ]  # row 4's partyB_sex, the tenth column and "7" in (sheet["J4"].comment.text or "")
    assert book["Summary"]["B6"].value == 1  # failed

    by_id(driver, "exclude-4").click()
    by_id(driver, "commit-reason").send_keys("sex code not on the paper form")
    snapshot(driver, "batch-review")
    by_id(driver, "commit").click()
    assert shows(driver, "Committed by ops-li")
    assert by_id(driver, "batch-state").text == "committed"
    assert "2 rows sent" in by_id(driver, "batch-committed").text
    assert "row 4 by ops-li: sex code not on the paper form" in by_id(driver, "exclusions").text
    assert wait_for(lambda: len(tax.keys()) == 2, 20)
    assert not driver.find_elements("id", "commit")  # a committed batch is not committed twice

    with stack.runtime.store.engine.connect() as connection:
        entries = [e for e in audit.entries(connection) if e.subject == f"batch {batch_id}"]
    assert [e.actor for e in entries] == ["ops-li", "ops-li"]  # filed and held, committed
    committed = json.loads(entries[-1].details)
    assert committed["excluded"] == [{"row": 4, "reason": "sex code not on the paper form"}]

    driver.get(f"{stack.server.url}/console/batches")
    assert by_id(driver, f"batch-{batch_id}").get_attribute("class") == "committed"
    snapshot(driver, "batches")


def test_a_reader_sees_batches_but_has_no_upload_and_cannot_post_one(
    stack: HubStack, driver: Any
) -> None:
    driver.delete_all_cookies()
    log_in(driver, stack, add_account(stack, "read-wu", "read"))
    driver.get(f"{stack.server.url}/console/batches")
    assert shows(driver, "Batches")
    assert not driver.find_elements("id", "batch-form")
    client = as_browser(driver)
    page = client.get(f"{stack.server.url}/console/batches", timeout=10)
    refused = client.post(
        f"{stack.server.url}/console/batches",
        data={"csrf": csrf_of(page), "sender": "MARRIAGE_REGISTRY", "action": "submit"},
        files={"batch": ("batch.xlsx", b"PK")},
        timeout=10,
    )
    assert refused.status_code == 403 and "operate" in refused.text


def test_an_upload_that_is_not_a_batch_is_refused_naming_why_and_nothing_is_filed(
    stack: HubStack, tmp_path: Path
) -> None:
    client, csrf = logged_in(stack, add_account(stack, "ops-zhao", "read", "operate"))
    before = BatchLedger(stack.runtime.store.engine).ids()
    for name, content, reason in (
        ("notes.txt", b"hello", "a batch is an .xlsx workbook or a .csv file"),
        ("monday.xlsx", b"not a zip", "is not an .xlsx workbook"),
    ):
        refused = client.post(
            f"{stack.server.url}/console/batches",
            data={"csrf": csrf, "sender": "MARRIAGE_REGISTRY", "action": "submit"},
            files={"batch": (name, content)},
            timeout=10,
        )
        assert refused.status_code == 400 and reason in refused.text, refused.text
    ticked = client.post(
        f"{stack.server.url}/console/batches/{before[-1]}/commit",
        data={"csrf": csrf, "exclude_rows": "seven"},
        timeout=10,
    )
    assert ticked.status_code == 400 and "rows to exclude are numbers" in ticked.text
    assert BatchLedger(stack.runtime.store.engine).ids() == before
