"""Case events are canonical messages: a department submits them over SOAP like any other,
and the hub keeps each case's state from them, refusing an event that breaks the case's
rules with a fault naming the rule and leaving the case as it was."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import zeep
from hubstack import HUSBAND_ID, HubStack, header, running_hub
from sqlalchemy.exc import OperationalError

from hub.supervision import CaseBook

pytestmark = pytest.mark.slow

DEFAULT_CATALOGUE = Path(__file__).parent.parent / "hub" / "defaults" / "supervision_items.toml"
ITEM = "MZ-HYDJ-001"  # marriage registration: handled, reviewed, approved; 3 days committed
SENDER = "MARRIAGE_REGISTRY"


@pytest.fixture
def catalogue_file(tmp_path: Path) -> Path:
    path = tmp_path / "items.toml"
    shutil.copy(DEFAULT_CATALOGUE, path)
    return path


@pytest.fixture
def stack(tmp_path: Path, database_url: str, catalogue_file: Path) -> Iterator[HubStack]:
    with running_hub(
        tmp_path, database_url=database_url, supervision_catalogue_file=catalogue_file
    ) as running:
        yield running


def hours_ago(hours: float) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)


def submit(stack: HubStack, message_type: str, record: dict[str, Any], **extra: Any) -> Any:
    return stack.client().service.Submit(
        header=header(message_type, SENDER, **extra), message={message_type: record}
    )


def accept(stack: HubStack, case: str, item: str = ITEM, at: float = 30) -> Any:
    record = {
        "itemCode": item,
        "caseNumber": case,
        "applicant": {"identityNumber": HUSBAND_ID},
        "acceptedAt": hours_ago(at),
        "department": SENDER,
    }
    return submit(stack, "CaseAccepted", record)


def step(stack: HubStack, case: str, name: str, at: float) -> Any:
    record = {"caseNumber": case, "step": name, "handler": "李明", "completedAt": hours_ago(at)}
    return submit(stack, "CaseStepCompleted", record)


def conclude(stack: HubStack, case: str, outcome: str, at: float, reason: str = "") -> Any:
    record = {"caseNumber": case, "outcome": outcome, "concludedAt": hours_ago(at)}
    return submit(stack, "CaseConcluded", record | ({"reason": reason} if reason else {}))


def book(stack: HubStack) -> CaseBook:
    case_book = stack.runtime.ingress.case_book
    assert case_book is not None
    return case_book


def new_case() -> str:
    return f"MZ-{uuid.uuid4().hex[:12]}"


def test_a_case_lives_through_its_events_submitted_over_soap(stack: HubStack) -> None:
    case = new_case()

    receipts = [
        accept(stack, case, at=30),
        step(stack, case, "handled", 20),
        submit(
            stack,
            "CaseSuspended",
            {
                "caseNumber": case,
                "suspendedAt": hours_ago(10),
                "reason": "请补正户口簿复印件",
            },
        ),
        submit(stack, "CaseResumed", {"caseNumber": case, "resumedAt": hours_ago(8)}),
        step(stack, case, "reviewed", 6),
        step(stack, case, "approved", 4),
        conclude(stack, case, "approved", 3),
    ]

    assert [(r.duplicate, list(r.receivers)) for r in receipts] == [(False, [])] * 7
    state = book(stack).case(case)
    assert state is not None
    assert (state.status, state.outcome, state.item_code) == ("concluded", "approved", ITEM)
    assert state.steps_done == ("handled", "reviewed", "approved")
    assert [e.kind for e in book(stack).events(case)] == [
        "CaseAccepted",
        "CaseStepCompleted",
        "CaseSuspended",
        "CaseResumed",
        "CaseStepCompleted",
        "CaseStepCompleted",
        "CaseConcluded",
    ]
    accepted = stack.runtime.store.message_status(receipts[0].messageId)
    assert (accepted.message_type, accepted.sender) == ("CaseAccepted", SENDER)


def test_a_repeated_event_is_recorded_once_and_answered_as_a_duplicate(stack: HubStack) -> None:
    case = new_case()
    accept(stack, case)
    record = {"caseNumber": case, "step": "handled", "handler": "李明", "completedAt": hours_ago(5)}
    key = str(uuid.uuid4())

    first = submit(stack, "CaseStepCompleted", record, idempotencyKey=key)
    again = submit(stack, "CaseStepCompleted", record, idempotencyKey=key)

    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.messageId == first.messageId
    assert [e.kind for e in book(stack).events(case)] == ["CaseAccepted", "CaseStepCompleted"]


def _fault(call: Any) -> Any:
    with pytest.raises(zeep.exceptions.Fault) as fault:
        call()
    return fault.value


def test_an_unknown_item_code_is_refused_and_no_case_is_opened(stack: HubStack) -> None:
    case = new_case()

    fault = _fault(lambda: accept(stack, case, item="NO-SUCH-ITEM"))

    assert fault.code.endswith("Client.UnknownItem")
    assert "NO-SUCH-ITEM is not in the supervision catalogue" in fault.message
    assert book(stack).case(case) is None


def test_a_step_out_of_order_is_refused_and_the_case_is_unharmed(stack: HubStack) -> None:
    case = new_case()
    accept(stack, case)

    fault = _fault(lambda: step(stack, case, "reviewed", 5))

    assert fault.code.endswith("Client.StepOutOfOrder")
    assert f"case {case}: step reviewed before step handled" in fault.message
    state = book(stack).case(case)
    assert state is not None and state.steps_done == ()
    assert not step(stack, case, "handled", 4).duplicate  # the right step still goes in
    assert book(stack).case(case).steps_done == ("handled",)  # type: ignore[union-attr]


def test_a_conclusion_for_an_unknown_case_is_refused(stack: HubStack) -> None:
    case = new_case()

    fault = _fault(lambda: conclude(stack, case, "withdrawn", 1))

    assert fault.code.endswith("Client.UnknownCase")
    assert "CaseConcluded for a case never accepted" in fault.message
    assert book(stack).case(case) is None


def test_an_event_dated_in_the_future_is_refused(stack: HubStack) -> None:
    case = new_case()
    accept(stack, case)

    fault = _fault(lambda: step(stack, case, "handled", -2))  # two hours from now

    assert fault.code.endswith("Client.EventInFuture")
    assert f"case {case}: CaseStepCompleted is dated" in fault.message
    assert "after now" in fault.message
    state = book(stack).case(case)
    assert state is not None and state.steps_done == ()
    assert [e.kind for e in book(stack).events(case)] == ["CaseAccepted"]


def test_a_refusal_without_a_reason_is_refused_and_with_one_it_concludes(stack: HubStack) -> None:
    case = new_case()
    accept(stack, case)

    fault = _fault(lambda: conclude(stack, case, "refused", 2))
    unharmed = book(stack).case(case)
    refused = conclude(stack, case, "refused", 1, reason="申请人不符合法定结婚年龄")

    assert fault.code.endswith("Client.ReasonMissing")
    assert "a refusal states its reason" in fault.message
    assert unharmed is not None and (unharmed.status, unharmed.outcome) == ("open", "")
    assert refused.messageId
    state = book(stack).case(case)
    assert state is not None and (state.status, state.outcome) == ("concluded", "refused")


def test_a_case_keeps_the_limits_in_force_when_it_was_accepted(
    stack: HubStack, catalogue_file: Path
) -> None:
    before = new_case()
    accept(stack, before)
    text = catalogue_file.read_text(encoding="utf-8")
    catalogue_file.write_text(
        text.replace("version = 1", "version = 2").replace(
            "legal_days = 10\ncommitted_days = 3", "legal_days = 10\ncommitted_days = 2"
        ),
        encoding="utf-8",
    )
    after = new_case()
    accept(stack, after)

    old, new = book(stack).case(before), book(stack).case(after)
    assert old is not None and new is not None
    assert (old.catalogue_version, old.limits.committed_days) == (1, 3)
    assert (new.catalogue_version, new.limits.committed_days) == (2, 2)


def test_a_message_the_store_fails_to_write_leaves_its_case_unchanged(
    stack: HubStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = new_case()
    accept(stack, case)
    key = str(uuid.uuid4())
    record = {"caseNumber": case, "step": "handled", "handler": "李明", "completedAt": hours_ago(5)}

    def database_fails(*args: object) -> None:  # the disk filled up while the message was written
        raise OperationalError("INSERT INTO messages", {}, OSError("No space left on device"))

    with monkeypatch.context() as patched:
        patched.setattr(stack.runtime.store, "save_accepted_on", database_fails)
        fault = _fault(lambda: submit(stack, "CaseStepCompleted", record, idempotencyKey=key))
    state, events = book(stack).case(case), book(stack).events(case)
    retried = submit(stack, "CaseStepCompleted", record, idempotencyKey=key)  # the sender retries

    assert fault.code.endswith("Server.Unavailable")
    assert state is not None and state.steps_done == ()  # the step waits for its message
    assert [e.kind for e in events] == ["CaseAccepted"]
    assert not retried.duplicate
    assert book(stack).case(case).steps_done == ("handled",)  # type: ignore[union-attr]
    assert stack.runtime.store.message_status(retried.messageId).message_type == "CaseStepCompleted"
