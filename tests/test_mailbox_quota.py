"""The mailbox quota (issue 13): beyond it the hub keeps accepting, holds the department's
further legs in order, tells operators, drops nothing, and lets the held legs into the
mailbox by themselves as the department acknowledges. A quota of 3 (TAX: its own 2), on a
real running hub with zeep."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from backends import fresh_postgresql_database
from console_kit import add_account, chromium
from hubstack import HubStack, header, marriage, running_hub
from sqlalchemy import select
from test_mailboxes import KEYS, fault_code, hub_as, legs, mailbox_departments
from test_observability_metrics import scrape, value
from test_security_console_browser import by_id, log_in, shows, snapshot

from hub.mailbox.store import mailbox_counts
from hub.observability.alert_checks import breaches
from hub.observability.alert_rules import AlertRule
from hub.operations.prune import prune
from hub.operations.queries import list_messages
from hub.operations.render import prune_line
from hub.operations.trace import trace
from hub.operations.views import MessageFilter
from hub.polling import wait_for
from hub.security.credentials import CredentialStore, IssuedSecret
from hub.security.encryption import KeyRing
from hub.store.models import MailboxEntryRow

pytestmark = pytest.mark.slow
QUOTA = 3
TAX_QUOTA = 2
SENT = 5


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.distributed)])
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HubStack]:
    departments = mailbox_departments(tmp_path)
    text = departments.read_text(encoding="utf-8")
    # TAX's own quota, in its options (the package's way).
    text = re.sub(
        r"(\[TAX\][^\[]*?\n)\n",
        rf"\1options = {{ mailbox_quota = {TAX_QUOTA} }}\n\n",
        text,
        count=1,
        flags=re.S,
    )
    departments.write_text(text, encoding="utf-8")
    settings = {"encryption_keys": KEYS, "departments_file": departments, "mailbox_quota": QUOTA}
    if request.param == "sqlite":
        with running_hub(tmp_path, **settings) as running:
            yield running
        return
    with (
        fresh_postgresql_database() as url,
        running_hub(tmp_path, database_url=url, **settings) as running,
    ):
        yield running


def issued(stack: HubStack) -> dict[str, IssuedSecret]:
    credentials = CredentialStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
    return {
        code: credentials.issue(code, actor="admin-wang")
        for code in ("MARRIAGE_REGISTRY", "SOCIAL_SECURITY", "TAX")
    }


def settled_in_mailboxes(stack: HubStack, message_id: str) -> dict[str, str]:
    found = wait_for(
        lambda: (
            (now := legs(stack, message_id))
            and all(state in ("waiting", "held") for state in now.values())
            and now
        ),
        20,
    )
    assert found, legs(stack, message_id)
    return found


def test_beyond_its_quota_a_mailbox_holds_legs_in_order_and_lets_them_in_as_it_drains(
    stack: HubStack, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = issued(stack)
    registry = hub_as(stack, secrets["MARRIAGE_REGISTRY"])
    sent: list[str] = []
    with caplog.at_level(logging.WARNING, logger="hub.mailbox"):
        for _ in range(SENT):  # one at a time: the order of the mailbox is the order sent
            receipt = registry.Submit(header=header(), message=marriage())
            sent.append(str(receipt.messageId))
            settled_in_mailboxes(stack, sent[-1])

    # Accepted every time; the legs beyond each quota are held, nothing failed or dropped.
    states = [legs(stack, message_id) for message_id in sent]
    assert [s["SOCIAL_SECURITY"] for s in states] == ["waiting"] * QUOTA + ["held"] * (SENT - QUOTA)
    assert [s["TAX"] for s in states] == ["waiting"] * TAX_QUOTA + ["held"] * (SENT - TAX_QUOTA)
    full = [r.getMessage() for r in caplog.records if "is full" in r.getMessage()]
    assert len(full) == 2, full  # one line per mailbox, not one per held leg
    assert any("TAX" in line and "quota 2" in line for line in full)

    # Visible where operators and senders look: GetStatus, trace, messages list, /metrics.
    status = registry.GetStatus(sent[-1])
    assert {d.department: d.state for d in status.deliveries}["TAX"] == "held"
    assert status.state == "accepted"
    (answer,) = trace(stack.runtime.store, sent[-1])
    assert "TAX held: its mailbox is at its quota" in answer.verdict
    held_list = list_messages(stack.runtime.store, MessageFilter(state="held", department="TAX"))
    assert sorted(m.message_id for m in held_list) == sorted(sent[TAX_QUOTA:])
    samples = scrape(stack.server.url)
    assert value(samples, "govhub_deliveries_pending", department="TAX", state="held") == 3
    alarm = breaches(
        AlertRule(name="mailbox-full", kind="mailbox_held"),
        stack.runtime.store.engine,
        datetime.now(UTC),
        [],
    )
    assert set(alarm) == {"SOCIAL_SECURITY", "TAX"}
    assert alarm["TAX"] == "3 legs held: its mailbox is at its quota"

    # TAX drains: each Ack lets the oldest held legs in; it receives all five, in order.
    tax = hub_as(stack, secrets["TAX"])
    received: list[str] = []
    while len(received) < SENT:
        batch = tax.Receive(maxMessages=100, waitSeconds=0)
        assert batch, f"received {len(received)} of {SENT}: {[legs(stack, m) for m in sent]}"
        assert len(batch) <= TAX_QUOTA  # never more in the mailbox than its quota
        received += [str(m.messageId) for m in batch]
        assert tax.Ack(leaseToken=[m.leaseToken for m in batch]) == len(batch)
    assert received == sent
    assert all(legs(stack, m)["TAX"] == "delivered" for m in sent)
    # SOCIAL_SECURITY still holds its own, untouched by TAX's drain.
    assert [legs(stack, m)["SOCIAL_SECURITY"] for m in sent].count("held") == SENT - QUOTA
    assert set(
        breaches(
            AlertRule(name="f", kind="mailbox_held"),
            stack.runtime.store.engine,
            datetime.now(UTC),
            [],
        )
    ) == {"SOCIAL_SECURITY"}


def test_a_quota_that_is_not_a_whole_number_is_refused_when_the_departments_are_read(
    tmp_path: Path,
) -> None:
    from hub.departments import DepartmentDirectory
    from hub.errors import ConfigurationError

    path = tmp_path / "departments.toml"
    path.write_text(
        '[TAX]\nname = "Tax"\nadapter = "mailbox"\nendpoint = ""\n'
        'options = { mailbox_quota = "many" }\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError, match="mailbox_quota must be a whole number"):
        DepartmentDirectory.from_file(path)


def test_prune_deletes_settled_mailbox_rows_and_keeps_what_still_waits(stack: HubStack) -> None:
    secrets = issued(stack)
    registry = hub_as(stack, secrets["MARRIAGE_REGISTRY"])
    sent = [str(registry.Submit(header=header(), message=marriage()).messageId) for _ in range(2)]
    for message_id in sent:
        settled_in_mailboxes(stack, message_id)
    tax = hub_as(stack, secrets["TAX"])
    taken = tax.Receive(maxMessages=10, waitSeconds=0)
    assert tax.Ack(leaseToken=[m.leaseToken for m in taken]) == 2

    store = stack.runtime.store
    preview = prune(store, bodies_older_than=timedelta(0), dry_run=True)
    done = prune(store, bodies_older_than=timedelta(0))

    # TAX's two entries and their two leases; SOCIAL_SECURITY's waiting entries stay.
    assert preview.mailbox_rows_pruned == done.mailbox_rows_pruned == 4
    with store.engine.connect() as connection:
        left = connection.execute(select(MailboxEntryRow.department, MailboxEntryRow.state)).all()
    assert sorted(left) == [("SOCIAL_SECURITY", "ready")] * 2
    assert "deleted 4 settled mailbox row(s)" in prune_line(done)
    social = hub_as(stack, secrets["SOCIAL_SECURITY"])
    assert len(social.Receive(maxMessages=10, waitSeconds=0)) == 2  # still there to fetch
    # An Ack with a pruned lease is answered as an unknown one, and changes nothing.
    assert fault_code(tax.Ack, leaseToken=[taken[0].leaseToken]) == "Client.UnknownLease"


def test_a_quota_holds_when_many_messages_reach_the_mailbox_at_once(stack: HubStack) -> None:
    # Sent together, so that the hub's workers park legs of one mailbox at the same moment:
    # none of them may count room that another is taking.
    secrets = issued(stack)
    burst = 8
    with ThreadPoolExecutor(max_workers=4) as pool:
        sent = list(
            pool.map(
                lambda _: str(
                    hub_as(stack, secrets["MARRIAGE_REGISTRY"])
                    .Submit(header=header(), message=marriage())
                    .messageId
                ),
                range(burst),
            )
        )
    for message_id in sent:
        settled_in_mailboxes(stack, message_id)

    with stack.runtime.store.engine.connect() as connection:
        counts = mailbox_counts(connection)
    assert counts["TAX"] == {"ready": TAX_QUOTA, "held": burst - TAX_QUOTA}
    assert counts["SOCIAL_SECURITY"] == {"ready": QUOTA, "held": burst - QUOTA}


def test_operators_see_a_full_mailbox_and_its_held_legs_in_the_console(stack: HubStack) -> None:
    secrets = issued(stack)
    registry = hub_as(stack, secrets["MARRIAGE_REGISTRY"])
    sent = [str(registry.Submit(header=header(), message=marriage()).messageId) for _ in range(4)]
    for message_id in sent:
        settled_in_mailboxes(stack, message_id)

    with chromium() as browser:
        log_in(browser, stack, add_account(stack, "op-zhao", "read"))
        browser.find_element("link text", "Mailboxes").click()
        assert shows(browser, "mailbox-TAX")
        tax = by_id(browser, "mailbox-TAX")
        cells = [cell.text for cell in tax.find_elements("tag name", "td")]
        # TAX: its own quota of 2 in the mailbox, 2 held; SOCIAL_SECURITY: 3 and 1 held.
        assert cells[1:] == ["2", "0", "2", str(TAX_QUOTA), "full: legs held"]
        social = [
            c.text
            for c in by_id(browser, "mailbox-SOCIAL_SECURITY").find_elements("tag name", "td")
        ]
        assert social[1:] == ["3", "0", "1", str(QUOTA), "full: legs held"]
        snapshot(browser, "mailboxes")
        tax.find_element("link text", "2").click()
        assert shows(browser, "held")
        listed = browser.find_elements("css selector", "#messages tbody tr")
        assert len(listed) == 2 and all("held" in row.text for row in listed)
