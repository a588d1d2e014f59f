"""Pausing a department's deliveries on a real running hub: the CLI sets the pause in the
database, the workers hold every attempt within one poll, nothing is failed or lost, and a
resume delivers what waited. Both are audited."""

from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner
from hubstack import HubStack, header, marriage, running_hub

from hub.cli import main
from hub.polling import wait_for
from hub.security import audit

# Long enough for several relay passes (0.2 s) and retry periods (at most 0.5 s) of the
# test hub: had the pause not held, attempts would have been made in it.
HELD_SECONDS = 2.0


def govhub(hub: HubStack, *args: str) -> str:
    database = hub.runtime.settings.effective_database_url
    result = CliRunner().invoke(main, [*args, "--database-url", database, "--log-level", "WARNING"])
    assert result.exit_code == 0, result.output
    return result.output


def tax_attempts(hub: HubStack, message_id: str) -> tuple[str, int]:
    status = hub.runtime.store.message_status(message_id)
    leg = next(leg for leg in status.deliveries if leg.department == "TAX")
    return leg.state, leg.attempts


def test_a_paused_department_gets_no_attempt_until_resumed_then_everything_is_delivered(
    tmp_path: Path, database_url: str
) -> None:
    with running_hub(tmp_path, database_url=database_url) as hub:
        workers = hub.runtime.workers
        assert workers is not None
        hub.mocks.tax.faults.down()
        failing = hub.client().service.Submit(header=header(), message=marriage())
        assert wait_for(lambda: tax_attempts(hub, failing.messageId)[1] >= 1, 10)

        govhub(hub, "retries", "pause", "TAX", "--actor", "alice", "--reason", "TAX is down")
        assert wait_for(lambda: workers.pauses.holds("TAX"), 5), "held within a poll"
        assert wait_for(lambda: tax_attempts(hub, failing.messageId)[0] != "delivering", 10)
        attempts_when_paused = tax_attempts(hub, failing.messageId)
        first = hub.client().service.Submit(
            header=header(), message=marriage(registrationNumber="J110105-20260520-0002")
        )
        time.sleep(HELD_SECONDS / 2)
        hub.mocks.tax.faults.clear()  # back up, but still paused: still nothing is sent
        time.sleep(HELD_SECONDS / 2)

        assert tax_attempts(hub, failing.messageId) == attempts_when_paused
        assert tax_attempts(hub, first.messageId) == ("queued", 0)
        listed = json.loads(govhub(hub, "retries", "list", "--json"))
        assert [(p["department"], p["pausedBy"]) for p in listed] == [("TAX", "alice")]
        assert hub.mocks.tax.store.count() == 0

        govhub(hub, "retries", "resume", "TAX", "--actor", "bob")
        settled = [hub.wait_settled(r.messageId) for r in (failing, first)]
        with hub.runtime.store.engine.connect() as connection:
            changes = [
                (e.actor, json.loads(e.details)["change"])
                for e in audit.entries(connection)
                if e.action == audit.ADMIN_CHANGE and e.subject == "department TAX"
            ]
        assert hub.mocks.tax.store.count() == 2
    assert [status.state for status in settled] == ["delivered", "delivered"]
    assert changes == [("alice", "pause retries"), ("bob", "resume retries")]
    assert "no department is paused" in govhub(hub, "retries", "list")


def test_pausing_an_unknown_department_or_without_a_reason_and_resuming_one_not_paused_are_refused(
    tmp_path: Path,
) -> None:
    def run(*args: str) -> tuple[int, str]:
        options = ["--data-dir", str(tmp_path), "--log-level", "WARNING"]
        result = CliRunner().invoke(main, ["retries", *args, *options])
        return result.exit_code, result.output

    assert run("pause", "NOPE", "--actor", "alice", "--reason", "why") == (
        1,
        "Error: no department 'NOPE'\n",
    )
    assert run("pause", "TAX", "--actor", "alice", "--reason", " ") == (
        1,
        "Error: say why the department's deliveries are paused\n",
    )
    assert run("resume", "TAX", "--actor", "bob") == (
        1,
        "Error: deliveries to TAX are not paused\n",
    )
    assert run("list") == (0, "no department is paused\n")


def test_a_message_sent_straight_after_a_resume_is_delivered_without_waiting_for_a_poll(
    tmp_path: Path,
) -> None:
    # A relay interval far longer than the wait: the workers' view of the pause is still
    # the paused one when the task arrives, and only the check against the database at
    # that moment lets it through (before, the leg waited for its lease to end).
    with running_hub(tmp_path, relay_interval_seconds=60.0) as hub:
        workers = hub.runtime.workers
        assert workers is not None
        govhub(hub, "retries", "pause", "TAX", "--actor", "alice", "--reason", "maintenance")
        workers.pauses.refresh()
        govhub(hub, "retries", "resume", "TAX", "--actor", "alice")

        receipt = hub.client().service.Submit(header=header(), message=marriage())

        assert hub.wait_settled(receipt.messageId, seconds=10).state == "delivered"
        assert hub.mocks.tax.store.count() == 1
