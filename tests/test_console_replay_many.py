"""Replay many from the console's messages list, over real HTTP on a whole hub: a dry-run
preview of the picked messages (or all matching the filter) that changes nothing, a reason
required, the same rules as `govhub replay` (a delivered leg is never sent twice), each
replay a child of its message; the next page of a filter by identity number carries no
number."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from console_kit import add_account, console_hub, failed_at_tax, logged_in
from hubstack import HubStack
from sqlalchemy import select

from hub.console import browse, replay_pages
from hub.identity import make_number
from hub.polling import wait_for
from hub.security.credentials import IssuedSecret
from hub.security.tables import audit_log

pytestmark = pytest.mark.slow
_SEALED = re.compile(r'name="sealed" value="([^"]+)"')
_REPLAY_LINK = re.compile(r'href="/console/replays/(\d+)"')
OTHER_ID = make_number("11010519850101", "123")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with console_hub(tmp_path_factory, "console-replays") as running:
        yield running


@pytest.fixture(scope="module")
def operator(stack: HubStack) -> IssuedSecret:
    return add_account(stack, "ops-chen", "read", "operate")


def tax_state(stack: HubStack, message_id: str) -> str:
    status = stack.runtime.store.message_status(message_id)
    return next(leg.state for leg in status.deliveries if leg.department == "TAX")


def replays(client: requests.Session, stack: HubStack, data: dict[str, str]) -> requests.Response:
    return client.post(f"{stack.server.url}/console/replays", data=data, timeout=30)


def sealed_filter(page: requests.Response) -> str:
    found = _SEALED.search(page.text)
    assert found, page.text
    return found.group(1)


def test_a_preview_of_picked_messages_shows_what_would_be_sent_and_what_not_and_changes_nothing(
    stack: HubStack, operator: IssuedSecret
) -> None:
    first, second = failed_at_tax(stack), failed_at_tax(stack)
    client, csrf = logged_in(stack, operator)

    page = replays(
        client,
        stack,
        {"csrf": csrf, "scope": "picked", f"pick-{first}": "1", f"pick-{second}": "1"},
    )

    assert page.status_code == 200 and "Replay preview (nothing changed yet)" in page.text
    sent = page.text.split('id="replay-sent"')[1].split("</ul>")[0]
    not_sent = page.text.split('id="replay-not-sent"')[1].split("</ul>")[0]
    assert sent.count("would replay to TAX") == 2 and first in sent and second in sent
    assert not_sent.count("already delivered to SOCIAL_SECURITY") == 2
    assert 'id="replay-now"' in page.text and "Replay 2 leg(s)" in page.text
    assert tax_state(stack, first) == tax_state(stack, second) == "failed"


def test_a_replay_without_a_reason_is_refused_and_changes_nothing(
    stack: HubStack, operator: IssuedSecret
) -> None:
    message_id = failed_at_tax(stack)
    client, csrf = logged_in(stack, operator)

    page = replays(client, stack, {"csrf": csrf, "action": "replay", f"pick-{message_id}": "1"})

    assert page.status_code == 400 and "a replay needs a reason" in page.text
    assert tax_state(stack, message_id) == "failed"


def test_nothing_picked_is_a_clear_error(stack: HubStack, operator: IssuedSecret) -> None:
    client, csrf = logged_in(stack, operator)

    page = replays(client, stack, {"csrf": csrf, "scope": "picked"})

    assert page.status_code == 400 and "select at least one message" in page.text


def test_a_confirmed_replay_delivers_each_leg_once_audited_and_shown_as_a_child_of_its_message(
    stack: HubStack, operator: IssuedSecret
) -> None:
    first, second = failed_at_tax(stack), failed_at_tax(stack)
    client, csrf = logged_in(stack, operator)
    picks = {f"pick-{first}": "1", f"pick-{second}": "1"}

    done = replays(
        client, stack, {"csrf": csrf, "action": "replay", "reason": "tax fixed", **picks}
    )

    assert done.status_code == 200 and "Replay done" in done.text
    assert wait_for(lambda: tax_state(stack, first) == tax_state(stack, second) == "delivered", 20)
    again = replays(client, stack, {"csrf": csrf, "action": "replay", "reason": "twice?", **picks})
    assert again.text.count("already delivered to TAX, skipped") == 2
    assert "replayed to TAX" not in again.text
    with stack.runtime.store.engine.connect() as connection:
        entries = connection.execute(
            select(audit_log.c.actor, audit_log.c.subject, audit_log.c.details).where(
                audit_log.c.action == "replayed", audit_log.c.subject.in_([first, second])
            )
        ).all()
    assert {subject for actor, subject, details in entries if "tax fixed" in details} == {
        first,
        second,
    }
    assert {actor for actor, _, _ in entries} == {"ops-chen"}

    message_page = client.get(f"{stack.server.url}/console/messages/{first}", timeout=10)
    children = _REPLAY_LINK.findall(message_page.text)
    assert len(children) == 2 and "to TAX: <q>tax fixed</q>" in message_page.text
    child = client.get(f"{stack.server.url}/console/replays/{children[0]}", timeout=10)
    assert f'href="/console/messages/{first}" id="original"' in child.text
    assert "by <strong>ops-chen</strong>" in child.text and "tax fixed" in child.text
    tax_row = child.text.split('id="replayed-TAX"')[1].split("</tr>")[0]
    attempts_since = tax_row.split("<td>")[-1]  # the failed attempt before it is not one
    assert 'state-delivered">delivered' in tax_row and attempts_since.count("UTC delivered") == 1
    assert attempts_since.count("<br>") == 1


def test_all_matching_a_filter_by_identity_number_replays_only_that_persons_failed_legs(
    stack: HubStack, operator: IssuedSecret
) -> None:
    mine, other = failed_at_tax(stack, OTHER_ID), failed_at_tax(stack)
    client, csrf = logged_in(stack, operator)
    listed = client.post(
        f"{stack.server.url}/console/messages",
        data={"csrf": csrf, "person": OTHER_ID, "state": "failed"},
        timeout=10,
    )
    assert OTHER_ID not in listed.text

    preview = replays(
        client, stack, {"csrf": csrf, "scope": "all", "sealed": sealed_filter(listed)}
    )

    assert mine in preview.text and other not in preview.text and OTHER_ID not in preview.text
    assert "Every message matching the filter" in preview.text
    done = replays(
        client,
        stack,
        {
            "csrf": csrf,
            "scope": "all",
            "sealed": sealed_filter(preview),
            "action": "replay",
            "reason": "one citizen's records",
        },
    )
    assert "Replay done" in done.text and "replayed to TAX" in done.text
    assert wait_for(lambda: tax_state(stack, mine) == "delivered", 20)
    assert tax_state(stack, other) == "failed"


def test_the_next_page_of_a_filter_by_identity_number_carries_no_number(
    stack: HubStack, operator: IssuedSecret, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed_at_tax(stack, OTHER_ID)
    failed_at_tax(stack, OTHER_ID)
    monkeypatch.setattr(browse, "PAGE_SIZE", 1)
    client, csrf = logged_in(stack, operator)
    first = client.post(
        f"{stack.server.url}/console/messages", data={"csrf": csrf, "person": OTHER_ID}, timeout=10
    )
    after = re.search(r'name="after" value="([^"]+)"', first.text)
    assert after and OTHER_ID not in first.text and OTHER_ID not in first.url

    second = client.post(
        f"{stack.server.url}/console/messages",
        data={"csrf": csrf, "sealed": sealed_filter(first), "after": after.group(1)},
        timeout=10,
    )

    assert second.status_code == 200 and OTHER_ID not in second.text
    assert "Only messages about identity number" in second.text
    listed = re.findall(r'class="message-link">([^<]+)<', second.text)
    assert len(listed) == 1 and listed[0] not in first.text
    stranger, stranger_csrf = logged_in(stack, operator)  # another session cannot open it
    stolen = stranger.post(
        f"{stack.server.url}/console/messages",
        data={"csrf": stranger_csrf, "sealed": sealed_filter(first)},
        timeout=10,
    )
    assert stolen.status_code == 400 and "from another session" in stolen.text


def test_all_matching_stops_at_the_consoles_cap_and_says_so(
    stack: HubStack, operator: IssuedSecret, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed_at_tax(stack)
    failed_at_tax(stack)
    monkeypatch.setattr(replay_pages, "MAX_LEGS", 1)
    client, csrf = logged_in(stack, operator)
    listed = client.post(
        f"{stack.server.url}/console/messages", data={"csrf": csrf, "state": "failed"}, timeout=10
    )

    preview = replays(
        client, stack, {"csrf": csrf, "scope": "all", "sealed": sealed_filter(listed)}
    )

    assert preview.text.count("would replay to TAX") == 1
    assert "These are the first 1 matching legs" in preview.text
