"""`govhub messages`, `replay`, `trace` and `prune` as an operator runs them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hubstack import HUSBAND_ID, HubStack, header, marriage, running_hub

from hub.cli import main
from hub.identity import mask

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with running_hub(tmp_path_factory.mktemp("cli"), max_attempts=2) as running:
        yield running


def govhub(stack: HubStack, *args: str) -> Result:
    data_dir = str(stack.runtime.settings.data_dir)
    return CliRunner().invoke(main, [*args, "--data-dir", data_dir])


def rejected_by_tax(stack: HubStack) -> str:
    stack.mocks.tax.faults.fail_next(1, permanent=True)
    receipt = stack.client().service.Submit(header=header(), message=marriage())
    assert stack.wait_settled(receipt.messageId).state == "failed"
    return str(receipt.messageId)


def test_an_operator_finds_a_failed_message_replays_it_and_sees_every_leg_arrive(
    stack: HubStack,
) -> None:
    message_id = rejected_by_tax(stack)

    listed = govhub(stack, "messages", "list", "--state", "failed", "--person", HUSBAND_ID)
    assert listed.exit_code == 0, listed.output
    assert message_id in listed.output and "TAX:failed(1)" in listed.output

    dry = govhub(stack, "replay", "--state", "failed", "--department", "TAX", "--dry-run")
    assert dry.exit_code == 0 and "would replay to TAX" in dry.output

    done = govhub(stack, "replay", message_id, "--reason", "tax fixed", "--json")
    assert done.exit_code == 0, done.output
    results = {o["department"]: o["result"] for o in json.loads(done.output)["outcomes"]}
    assert results == {"SOCIAL_SECURITY": "skipped", "TAX": "replayed"}
    assert stack.wait_settled(message_id).state == "delivered"

    traced = govhub(stack, "trace", message_id)
    assert "did every department get it? yes" in traced.output


def test_show_prints_every_attempt_and_masks_identity_numbers_unless_revealed(
    stack: HubStack,
) -> None:
    message_id = rejected_by_tax(stack)

    shown = govhub(stack, "messages", "show", message_id)
    revealed = govhub(
        stack, "messages", "show", message_id, "--json", "--reveal", "--reason", "test"
    )

    assert shown.exit_code == 0, shown.output
    assert "#1" in shown.output and "PermanentDeliveryError" in shown.output
    assert "--- as delivered to TAX" in shown.output and "--- as received" in shown.output
    assert HUSBAND_ID not in shown.output and mask(HUSBAND_ID) in shown.output
    assert HUSBAND_ID in json.loads(revealed.output)["canonical"]


def test_bad_input_gets_a_clear_answer_and_an_exit_code(stack: HubStack) -> None:
    unknown = govhub(stack, "messages", "show", "00000000-0000-4000-8000-000000000000")
    nothing = govhub(stack, "messages", "list", "--type", "DivorceRegistered")
    bad_person = govhub(stack, "messages", "list", "--person", "110105199003071310")
    no_reason = govhub(stack, "replay", "00000000-0000-4000-8000-000000000000")
    bad_time = govhub(stack, "messages", "list", "--since", "yesterday")

    assert (unknown.exit_code, nothing.exit_code) == (1, 1)
    assert "no message with id" in unknown.output
    assert "no message matches" in nothing.output
    assert bad_person.exit_code == 2 and "not a valid identity number" in bad_person.output
    assert no_reason.exit_code == 2 and "needs a reason" in no_reason.output
    assert bad_time.exit_code == 2 and "is not a time" in bad_time.output


def test_prune_dry_run_counts_without_changing_anything(stack: HubStack) -> None:
    result = govhub(stack, "prune", "--older-than", "0", "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.output.startswith("would prune the bodies of ")


def test_a_database_that_was_never_migrated_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["messages", "list", "--data-dir", str(tmp_path)])

    assert result.exit_code == 3
    assert "govhub db upgrade" in result.output
