"""The console's accounts over real HTTP: login, session cookie, CSRF, lockout, expiry,
logout, permissions, every action audited with the account's name."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import requests
from console_kit import add_account, csrf_of, logged_in
from hubstack import HUSBAND_ID, HubStack, header, marriage, running_hub
from sqlalchemy import select, update

from hub.console import ConsoleApp
from hub.console.tables import console_login_failures, console_sessions
from hub.observability.pauses import RetryPauses
from hub.security.admins import AdminStore
from hub.security.credentials import IssuedSecret
from hub.security.tables import audit_log

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    folder = tmp_path_factory.mktemp("console")
    settings = {"console_login_failures": 3, "console_address_login_failures": 1000}
    with running_hub(folder, max_attempts=2, **settings) as running:
        yield running


@pytest.fixture(scope="module")
def operator(stack: HubStack) -> IssuedSecret:
    return add_account(stack, "ops-chen", "read", "operate")


@pytest.fixture(scope="module")
def reader(stack: HubStack) -> IssuedSecret:
    return add_account(stack, "audit-wang", "read")


def audited(stack: HubStack, action: str) -> list[tuple[str, str]]:
    query = select(audit_log.c.actor, audit_log.c.subject).where(audit_log.c.action == action)
    with stack.runtime.store.engine.connect() as connection:
        return [(row[0], row[1]) for row in connection.execute(query)]


def login_attempt(
    stack: HubStack, username: str, secret: str, address: str = ""
) -> requests.Response:
    client = requests.Session()
    form = client.get(f"{stack.server.url}/console/login", timeout=10)
    return client.post(
        f"{stack.server.url}/console/login",
        data={"csrf": csrf_of(form), "username": username, "secret": secret},
        timeout=10,
    )


def rejected_by_tax(stack: HubStack) -> str:
    stack.mocks.tax.faults.fail_next(1, permanent=True)
    receipt = stack.client().service.Submit(header=header(), message=marriage())
    assert stack.wait_settled(receipt.messageId).state == "failed"
    return str(receipt.messageId)


def test_a_page_without_a_session_goes_to_the_login_form(stack: HubStack) -> None:
    page = requests.get(f"{stack.server.url}/console/messages", timeout=10)

    assert page.url.endswith("/console/login") and 'id="login"' in page.text


def test_login_sets_an_httponly_samesite_strict_session_cookie_and_is_audited(
    stack: HubStack, operator: IssuedSecret
) -> None:
    client = requests.Session()
    form = client.get(f"{stack.server.url}/console/login", timeout=10)
    answer = client.post(
        f"{stack.server.url}/console/login",
        data={"csrf": csrf_of(form), "username": "ops-chen", "secret": operator.secret},
        allow_redirects=False,
        timeout=10,
    )

    session_cookie = next(
        v for k, v in answer.raw.headers.items() if k == "Set-Cookie" and "govhub_console=" in v
    )
    assert answer.status_code == 303 and answer.headers["Location"] == "/console/messages"
    assert "HttpOnly" in session_cookie and "SameSite=Strict" in session_cookie
    assert "Secure" not in session_cookie  # plain HTTP here; under TLS it is added
    assert ("ops-chen", "console") in audited(stack, "console_login")


def test_the_session_cookie_is_secure_under_tls(stack: HubStack) -> None:
    console = stack.runtime.wsgi_app().console
    assert console is not None
    environ = {"PATH_INFO": "/console/login", "REQUEST_METHOD": "GET", "wsgi.url_scheme": "https"}
    seen: list[list[tuple[str, str]]] = []
    console(environ, lambda status, headers: seen.append(headers))

    (cookie,) = [v for k, v in seen[0] if k == "Set-Cookie"]
    assert cookie.endswith("; Secure")


def test_a_wrong_secret_is_refused_and_audited_with_the_name_typed(stack: HubStack) -> None:
    add_account(stack, "ops-zhao", "read")

    answer = login_attempt(stack, "ops-zhao", "not-the-secret")

    assert answer.status_code == 401 and "wrong account name or secret" in answer.text
    assert ("ops-zhao", "console POST /login") in audited(stack, "refused")


def test_repeated_failures_lock_the_account_even_for_the_right_secret(stack: HubStack) -> None:
    account = add_account(stack, "ops-liu", "read")
    for _ in range(3):
        assert login_attempt(stack, "ops-liu", "guess").status_code == 401

    locked = login_attempt(stack, "ops-liu", account.secret)

    assert locked.status_code == 401 and "too many failed logins" in locked.text


def test_failures_from_one_address_lock_every_account_from_it(stack: HubStack) -> None:
    first, second = add_account(stack, "ops-qian", "read"), add_account(stack, "ops-ma", "read")
    settings = replace(stack.runtime.settings, console_address_login_failures=2)
    engine = stack.runtime.store.engine
    console = ConsoleApp(stack.runtime.store, AdminStore(engine), (), settings)

    def attempt(address: str, username: str, secret: str) -> str:
        form = urlencode({"csrf": "t", "username": username, "secret": secret}).encode()
        environ = {
            "PATH_INFO": "/console/login",
            "REQUEST_METHOD": "POST",
            "REMOTE_ADDR": address,
            "HTTP_COOKIE": "govhub_console_login=t",
            "CONTENT_LENGTH": str(len(form)),
            "wsgi.input": io.BytesIO(form),
        }
        return console.answer(environ).status

    attempt("10.0.0.9", "ops-qian", "guess")
    attempt("10.0.0.9", "ops-ma", "guess")

    assert attempt("10.0.0.9", "ops-qian", first.secret).startswith("401")
    assert attempt("10.0.0.9", "ops-ma", second.secret).startswith("401")
    assert attempt("10.0.0.10", "ops-ma", second.secret).startswith("303")


def test_a_lock_ends_after_its_time_and_a_good_login_clears_the_count(stack: HubStack) -> None:
    account = add_account(stack, "ops-sun", "read")
    for _ in range(3):
        login_attempt(stack, "ops-sun", "guess")
    with stack.runtime.store.engine.begin() as connection:
        past = datetime.now(UTC) - timedelta(seconds=1)
        mine = console_login_failures.c.key == "account:ops-sun"
        connection.execute(update(console_login_failures).where(mine).values(locked_until=past))

    assert login_attempt(stack, "ops-sun", account.secret).url.endswith("/console/messages")


def test_an_expired_session_goes_back_to_the_login_page_saying_so(
    stack: HubStack, operator: IssuedSecret
) -> None:
    client, _ = logged_in(stack, operator)
    with stack.runtime.store.engine.begin() as connection:
        past = datetime.now(UTC) - timedelta(seconds=1)
        connection.execute(
            update(console_sessions)
            .where(console_sessions.c.username == "ops-chen")
            .values(expires_at=past)
        )

    page = client.get(f"{stack.server.url}/console/messages", timeout=10)

    assert page.url.endswith("/console/login?expired=1")
    assert "Your session ended" in page.text


def test_a_form_with_a_wrong_csrf_token_is_refused_and_nothing_is_replayed(
    stack: HubStack, operator: IssuedSecret
) -> None:
    message_id = rejected_by_tax(stack)
    client, _ = logged_in(stack, operator)

    answer = client.post(
        f"{stack.server.url}/console/messages/{message_id}/replay",
        data={"csrf": "forged", "action": "replay", "reason": "sneaky"},
        timeout=10,
    )

    assert answer.status_code == 403 and "not from your current session" in answer.text
    assert stack.runtime.store.message_status(message_id).state == "failed"


def test_a_read_only_account_is_refused_replay_with_a_clear_403(
    stack: HubStack, reader: IssuedSecret
) -> None:
    message_id = rejected_by_tax(stack)
    client, csrf = logged_in(stack, reader)

    answer = client.post(
        f"{stack.server.url}/console/messages/{message_id}/replay",
        data={"csrf": csrf, "action": "replay", "reason": "try"},
        timeout=10,
    )

    assert answer.status_code == 403
    assert "lacks the &#39;operate&#39; permission needed for replay" in answer.text
    assert stack.runtime.store.message_status(message_id).state == "failed"
    assert ("audit-wang", f"console POST /messages/{message_id}/replay") in audited(
        stack, "refused"
    )


def test_a_read_only_account_sees_who_paused_a_department_but_is_refused_resume_with_403(
    stack: HubStack, reader: IssuedSecret
) -> None:
    pauses = RetryPauses(stack.runtime.store.engine)
    pauses.pause("TAX", actor="ops-chen", reason="TAX maintenance")
    try:
        client, csrf = logged_in(stack, reader)
        page = client.get(f"{stack.server.url}/console/departments/TAX", timeout=10)
        answers = [
            client.post(
                f"{stack.server.url}/console/departments/TAX/{action}",
                data={"csrf": csrf, "reason": "try"},
                timeout=10,
            )
            for action in ("resume", "pause")
        ]

        assert "ops-chen" in page.text and "TAX maintenance" in page.text
        assert 'id="resume"' not in page.text and 'id="pause"' not in page.text
        assert [answer.status_code for answer in answers] == [403, 403]
        assert "needed for pausing or resuming a department" in answers[0].text
        assert [(p.paused_by, p.reason) for p in pauses.all_pauses()] == [
            ("ops-chen", "TAX maintenance")
        ]
        assert ("audit-wang", "console POST /departments/TAX/resume") in audited(stack, "refused")
    finally:
        pauses.resume("TAX", actor="test-cleanup")


def test_a_pause_without_a_reason_and_a_resume_of_flowing_deliveries_are_refused(
    stack: HubStack, operator: IssuedSecret
) -> None:
    client, csrf = logged_in(stack, operator)
    base = f"{stack.server.url}/console/departments/TAX"

    silent = client.post(f"{base}/pause", data={"csrf": csrf, "reason": "  "}, timeout=10)
    flowing = client.post(f"{base}/resume", data={"csrf": csrf}, timeout=10)

    assert silent.status_code == 400 and "say why" in silent.text
    assert flowing.status_code == 404 and "deliveries to TAX are not paused" in flowing.text
    assert not RetryPauses(stack.runtime.store.engine).all_pauses()


def test_logout_ends_the_session_and_is_audited(stack: HubStack, operator: IssuedSecret) -> None:
    client, csrf = logged_in(stack, operator)
    cookie = client.cookies["govhub_console"]

    client.post(f"{stack.server.url}/console/logout", data={"csrf": csrf}, timeout=10)
    again = requests.get(
        f"{stack.server.url}/console/messages", cookies={"govhub_console": cookie}, timeout=10
    )

    assert again.url.endswith("/console/login?expired=1")
    assert ("ops-chen", "console") in audited(stack, "console_logout")


def test_a_revoked_account_loses_its_open_session(stack: HubStack) -> None:
    account = add_account(stack, "ops-gone", "read")
    client, _ = logged_in(stack, account)
    AdminStore(stack.runtime.store.engine).revoke("ops-gone", actor="test-root")

    assert client.get(f"{stack.server.url}/console/messages", timeout=10).url.endswith(
        "/console/login?expired=1"
    )


def test_the_login_form_without_its_own_token_is_refused(
    stack: HubStack, operator: IssuedSecret
) -> None:
    answer = requests.post(
        f"{stack.server.url}/console/login",
        data={"csrf": "x", "username": "ops-chen", "secret": operator.secret},
        timeout=10,
    )

    assert "The login form expired" in answer.text
    assert "govhub_console=" not in answer.headers.get("Set-Cookie", "").split(";")[0]


def test_an_identity_number_never_appears_on_the_messages_page(
    stack: HubStack, operator: IssuedSecret
) -> None:
    message_id = rejected_by_tax(stack)
    client, csrf = logged_in(stack, operator)

    page = client.post(
        f"{stack.server.url}/console/messages",
        data={"csrf": csrf, "person": HUSBAND_ID, "state": "failed"},
        timeout=10,
    )
    shown = client.get(f"{stack.server.url}/console/messages/{message_id}", timeout=10)

    assert message_id in page.text
    assert HUSBAND_ID not in shown.text
