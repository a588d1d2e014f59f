"""The console's pages: keyset pages of messages, the filters the operations layer gained (sender,
correlation id), a message's page with reveal, bad input answered with a page, the person
trace, the dashboard, the audit page, the departments, a database that is down."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from backends import FakeClock, new_message
from console_kit import add_account, logged_in
from hubstack import HUSBAND_ID, HubStack, header, marriage, running_hub
from sqlalchemy import select

from hub.config import Settings
from hub.console import ConsoleApp, browse
from hub.console.dashboard import department_loads
from hub.console.departments_page import hidden_endpoint
from hub.errors import ClientError
from hub.operations.queries import list_messages
from hub.operations.views import MessageFilter
from hub.security.admins import AdminStore
from hub.security.credentials import IssuedSecret
from hub.security.tables import audit_log
from hub.store import Store


def test_keyset_pages_cover_every_message_once_newest_first(store: Store, clock: FakeClock) -> None:
    saved = []
    for _ in range(5):
        saved.append(store.save_accepted(new_message(), ("TAX",), lease_seconds=30).message_id)
        clock.advance(60)

    seen, cursor = [], None
    for _ in range(3):
        page = browse.page(store, MessageFilter(limit=2), cursor)
        seen += [m.message_id for m in page.messages]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == list(reversed(saved)) and cursor is None


def test_a_damaged_page_link_is_a_clear_error(store: Store) -> None:
    with pytest.raises(ClientError, match="page link is damaged"):
        browse.page(store, MessageFilter(), "yesterday|x")


def test_messages_are_found_by_sender_and_by_correlation_id(store: Store) -> None:
    first = store.save_accepted(new_message(), ("TAX",), lease_seconds=30).message_id
    other = dataclasses.replace(new_message(), sender="HOUSEHOLD", correlation_id="case-9")
    second = store.save_accepted(other, ("TAX",), lease_seconds=30).message_id

    by_sender = list_messages(store, MessageFilter(sender="HOUSEHOLD"))
    by_case = list_messages(store, MessageFilter(correlation_id="case-1"))

    assert [m.message_id for m in by_sender] == [second]
    assert [m.message_id for m in by_case] == [first]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with running_hub(tmp_path_factory.mktemp("console-pages"), max_attempts=2) as running:
        yield running


@pytest.fixture(scope="module")
def revealer(stack: HubStack) -> IssuedSecret:
    return add_account(stack, "dpo-xu", "read", "reveal")


@pytest.fixture(scope="module")
def message_id(stack: HubStack) -> str:
    stack.mocks.tax.faults.fail_next(1, permanent=True)
    receipt = stack.client().service.Submit(header=header(), message=marriage())
    assert stack.wait_settled(receipt.messageId).state == "failed"
    return str(receipt.messageId)


@pytest.mark.slow
def test_a_reveal_with_a_reason_shows_the_number_and_is_audited_with_the_account(
    stack: HubStack, revealer: IssuedSecret, message_id: str
) -> None:
    client, csrf = logged_in(stack, revealer)
    url = f"{stack.server.url}/console/messages/{message_id}/reveal"

    page = client.post(url, data={"csrf": csrf, "reason": "citizen request #42"}, timeout=10)

    assert page.status_code == 200 and HUSBAND_ID in page.text
    query = select(audit_log.c.actor, audit_log.c.subject, audit_log.c.details).where(
        audit_log.c.action == "reveal"
    )
    with stack.runtime.store.engine.connect() as connection:
        entries = list(connection.execute(query))
    assert any(
        actor == "dpo-xu" and subject == message_id and '"via": "console"' in details
        for actor, subject, details in entries
    )


@pytest.mark.slow
def test_a_reveal_without_a_reason_shows_nothing_in_clear(
    stack: HubStack, revealer: IssuedSecret, message_id: str
) -> None:
    client, csrf = logged_in(stack, revealer)
    url = f"{stack.server.url}/console/messages/{message_id}/reveal"

    page = client.post(url, data={"csrf": csrf, "reason": " "}, timeout=10)

    assert page.status_code == 400 and "needs a reason" in page.text
    assert HUSBAND_ID not in page.text


@pytest.mark.slow
def test_bad_input_answers_a_page_not_a_traceback(stack: HubStack, revealer: IssuedSecret) -> None:
    client, csrf = logged_in(stack, revealer)
    base = f"{stack.server.url}/console"

    unknown = client.get(f"{base}/messages/00000000-0000-4000-8000-000000000000", timeout=10)
    bad_number = client.post(
        f"{base}/messages", data={"csrf": csrf, "person": "110105199003071234"}, timeout=10
    )
    bad_time = client.post(f"{base}/messages", data={"csrf": csrf, "since": "soon"}, timeout=10)
    nothing = client.post(f"{base}/messages", data={"csrf": csrf, "sender": "NOBODY"}, timeout=10)
    no_page = client.get(f"{base}/nowhere", timeout=10)

    assert unknown.status_code == 404 and "no message with id" in unknown.text
    assert bad_number.status_code == 400 and "not a valid identity number" in bad_number.text
    assert "110105199003071234" not in bad_number.text
    assert bad_time.status_code == 400 and "is not a time" in bad_time.text
    assert nothing.status_code == 200 and "No message matches" in nothing.text
    assert no_page.status_code == 404


@pytest.mark.slow
def test_the_person_page_says_which_department_did_not_get_it(
    stack: HubStack, revealer: IssuedSecret, message_id: str
) -> None:
    client, csrf = logged_in(stack, revealer)

    page = client.post(
        f"{stack.server.url}/console/person", data={"csrf": csrf, "key": HUSBAND_ID}, timeout=10
    )

    assert page.status_code == 200 and message_id in page.text
    assert "no: TAX failed" in page.text and HUSBAND_ID not in page.text


def test_the_dashboard_counts_legs_per_department_and_finds_the_oldest_undelivered(
    store: Store, clock: FakeClock
) -> None:
    first = clock()
    store.save_accepted(new_message(), ("TAX", "SOCIAL_SECURITY"), lease_seconds=30)
    clock.advance(2 * 3600)
    store.save_accepted(new_message(), ("TAX",), lease_seconds=30)

    loads = {d.department: d for d in department_loads(store, clock())}

    assert loads["TAX"].counts["hour"]["accepted"] == 1
    assert loads["TAX"].counts["day"]["accepted"] == 2
    assert loads["SOCIAL_SECURITY"].counts["hour"]["accepted"] == 0
    assert loads["TAX"].oldest_undelivered == first


@pytest.mark.slow
def test_the_dashboard_page_shows_the_failed_and_the_delivered_leg(
    stack: HubStack, revealer: IssuedSecret, message_id: str
) -> None:
    client, _ = logged_in(stack, revealer)

    page = client.get(f"{stack.server.url}/console/", timeout=10)

    assert page.url.endswith("/console/dashboard") and 'http-equiv="refresh"' in page.text
    assert count_on(page.text, "TAX", "hour", "failed") >= 1
    assert count_on(page.text, "SOCIAL_SECURITY", "day", "delivered") >= 1


@pytest.mark.slow
def test_the_audit_page_verifies_the_chain_and_lists_the_logins_masked(
    stack: HubStack, revealer: IssuedSecret, message_id: str
) -> None:
    client, csrf = logged_in(stack, revealer)

    page = client.post(f"{stack.server.url}/console/audit", data={"csrf": csrf}, timeout=10)

    assert "Audit log intact" in page.text
    assert "dpo-xu" in page.text and "console_login" in page.text
    assert HUSBAND_ID not in page.text


def count_on(page: str, department: str, window: str, count: str) -> int:
    row = page.split(f'id="dept-{department}"', 1)[1].split("</tr>", 1)[0]
    cell = re.search(rf'data-window="{window}" data-count="{count}">(\d+)<', row)
    assert cell, row
    return int(cell.group(1))


def test_an_endpoints_user_name_and_password_are_hidden() -> None:
    shown = hidden_endpoint("https://hub:s3cret@tax.example.gov.cn:8443/receive")

    assert shown == "https://***@tax.example.gov.cn:8443/receive"
    assert hidden_endpoint("http://127.0.0.1:9000/x") == "http://127.0.0.1:9000/x"


@pytest.mark.slow
def test_the_departments_pages_list_them_and_show_each_ones_routes(
    stack: HubStack, revealer: IssuedSecret
) -> None:
    client, _ = logged_in(stack, revealer)
    base = f"{stack.server.url}/console/departments"

    listed = client.get(base, timeout=10)
    tax = client.get(f"{base}/TAX", timeout=10)
    unknown = client.get(f"{base}/NOBODY", timeout=10)

    assert all(f'id="dept-{code}"' in listed.text for code in ("TAX", "SOCIAL_SECURITY"))
    assert tax.status_code == 200 and "MarriageRegistered" in tax.text
    assert "TAX/outbound/MarriageRegistered" in tax.text
    assert unknown.status_code == 404 and "no department NOBODY" in unknown.text


def test_a_database_that_is_down_is_a_page_saying_so(tmp_path: Path) -> None:
    down = Store(f"sqlite:///{tmp_path / 'no-such-folder' / 'hub.db'}")
    console = ConsoleApp(down, AdminStore(down.engine), (), Settings(data_dir=tmp_path))
    environ = {
        "PATH_INFO": "/console/messages",
        "REQUEST_METHOD": "GET",
        "HTTP_COOKIE": "govhub_console=some-session",
    }

    answer = console.answer(environ)

    assert answer.status == "503 Service Unavailable"
    assert b"The database is not reachable now." in answer.body
