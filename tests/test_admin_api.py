"""The operators' SOAP API (/admin) with zeep, against a whole hub and the mock departments."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import zeep
from hubstack import HUSBAND_ID, HubStack, header, marriage, running_hub
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

from hub.identity import mask
from hub.security.admins import AdminStore
from hub.security.credentials import IssuedSecret
from hub.security.encryption import KeyRing, new_key_text

pytestmark = pytest.mark.slow


KEYS = new_key_text("k1")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    folder = tmp_path_factory.mktemp("admin")
    with running_hub(folder, max_attempts=2, encryption_keys=KEYS) as running:
        yield running


@pytest.fixture(scope="module")
def operator(stack: HubStack) -> IssuedSecret:
    """/admin answers no one until an account exists."""
    accounts = AdminStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
    return accounts.add("ops-chen", ["read", "operate"], actor="root")


def admin(stack: HubStack, operator: IssuedSecret) -> zeep.Client:
    token = UsernameToken(operator.username, operator.secret, use_digest=True)
    return zeep.Client(f"{stack.server.url}/admin?wsdl", wsse=token)


def rejected_by_tax(stack: HubStack) -> str:
    """A marriage that social security takes and tax rejects once (failed at once)."""
    stack.mocks.tax.faults.fail_next(1, permanent=True)
    receipt = stack.client().service.Submit(header=header(), message=marriage())
    assert stack.wait_settled(receipt.messageId).state == "failed"
    return str(receipt.messageId)


def test_list_show_and_trace_tell_which_leg_failed_and_why(
    stack: HubStack, operator: IssuedSecret
) -> None:
    message_id = rejected_by_tax(stack)
    client = admin(stack, operator)

    listed = client.service.ListMessages(filter={"state": "failed", "department": "TAX"})
    assert message_id in [m.messageId for m in listed]

    shown = client.service.ShowMessage(message_id)
    legs = {h.leg.department: h for h in shown.legs}
    assert legs["SOCIAL_SECURITY"].leg.state == "delivered"
    (attempt,) = legs["TAX"].attempts
    assert (attempt.outcome, attempt.errorClass) == ("failed", "PermanentDeliveryError")
    assert mask(HUSBAND_ID) in shown.canonical and HUSBAND_ID not in shown.canonical
    assert mask(HUSBAND_ID) in legs["TAX"].payload

    traced = client.service.Trace(HUSBAND_ID)
    mine = [t for t in traced if t.message.messageId == message_id]
    assert mine[0].everyone is False and mine[0].verdict.startswith("no: TAX failed")


def test_replay_delivers_the_failed_leg_once_and_a_second_replay_skips_it(
    stack: HubStack, operator: IssuedSecret
) -> None:
    message_id = rejected_by_tax(stack)
    client = admin(stack, operator)

    dry = client.service.Replay(messageIds=[message_id], dryRun=True)
    assert dry.dryRun and "would replay to TAX" in dry.legs[1].note
    assert stack.runtime.store.message_status(message_id).state == "failed"
    done = client.service.Replay(messageIds=[message_id], reason="tax fixed its schema")
    notes = {leg.department: leg.note for leg in done.legs}
    assert notes["SOCIAL_SECURITY"] == "already delivered to SOCIAL_SECURITY, skipped"
    assert stack.wait_settled(message_id).state == "delivered"

    again = client.service.Replay(messageIds=[message_id], reason="twice")
    assert again.replayed == 0
    assert {leg.note for leg in again.legs} == {
        "already delivered to SOCIAL_SECURITY, skipped",
        "already delivered to TAX, skipped",
    }
    assert stack.mocks.social_security.store.count() >= 1
    assert stack.mocks.tax.store.repeats() == 0


def test_bad_input_is_a_clear_fault_not_a_traceback(
    stack: HubStack, operator: IssuedSecret
) -> None:
    client = admin(stack, operator)

    with pytest.raises(Fault) as unknown:
        client.service.ShowMessage("00000000-0000-4000-8000-000000000000")
    with pytest.raises(Fault) as bad_state:
        client.service.ListMessages(filter={"state": "lost"})
    with pytest.raises(Fault) as no_reason:
        client.service.Replay(messageIds=["x"])

    assert unknown.value.code.endswith("Client.NotFound")
    assert "unknown state 'lost'" in bad_state.value.message
    assert "needs a reason" in no_reason.value.message
    assert client.service.ListMessages(filter={"messageType": "DivorceRegistered"}) == []
