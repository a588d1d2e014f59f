"""A department system drives the real hub over HTTP with zeep, as it would in production."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import zeep
from hubstack import HUSBAND_ID, WIFE_ID, HubStack, header, marriage, running_hub

from hub.polling import wait_for
from hub.store import delivery_key
from mock_departments.people import Person

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(tmp_path: Path, database_url: str, bus_url: str) -> Iterator[HubStack]:
    with running_hub(tmp_path, database_url=database_url, bus_url=bus_url) as running:
        yield running


def test_a_submitted_marriage_reaches_social_security_and_tax_in_their_own_formats(
    stack: HubStack,
) -> None:
    receipt = stack.client().service.Submit(header=header(), message=marriage())

    assert receipt.state == "accepted"
    assert sorted(receipt.receivers) == ["SOCIAL_SECURITY", "TAX"]
    assert stack.wait_settled(receipt.messageId).state == "delivered"
    social = stack.mocks.social_security.store.get(
        delivery_key(receipt.messageId, "SOCIAL_SECURITY")
    )
    assert 'kind="marriage"' in social.payload and f'id="{HUSBAND_ID}"' in social.payload
    tax = json.loads(stack.mocks.tax.store.get(delivery_key(receipt.messageId, "TAX")).payload)
    assert tax["eventType"] == "MARRIAGE"
    assert tax["taxpayer"] == {
        "idNumber": HUSBAND_ID,
        "fullName": "张伟",
        "sex": "M",
        "birthDate": "1990-03-07",
    }
    assert tax["registeredAt"] == "2026-05-20T00:00:00+08:00"


def test_get_status_shows_every_leg_with_its_state_and_attempts(stack: HubStack) -> None:
    client = stack.client()
    receipt = client.service.Submit(header=header(), message=marriage())
    stack.wait_settled(receipt.messageId)

    status = client.service.GetStatus(receipt.messageId)

    assert status.state == "delivered"
    assert status.messageType == "MarriageRegistered"
    legs = {leg.department: (leg.state, leg.attempts) for leg in status.deliveries}
    assert legs == {"SOCIAL_SECURITY": ("delivered", 1), "TAX": ("delivered", 1)}


def test_a_repeated_idempotency_key_returns_the_first_receipt_and_delivers_nothing_new(
    stack: HubStack,
) -> None:
    client = stack.client()
    first = client.service.Submit(header=header(idempotencyKey="k-1"), message=marriage())
    stack.wait_settled(first.messageId)

    again = client.service.Submit(header=header(idempotencyKey="k-1"), message=marriage())

    assert again.messageId == first.messageId
    assert again.duplicate is True
    assert stack.mocks.tax.store.count() == 1
    assert stack.mocks.social_security.store.count() == 1


def test_a_marriage_entered_once_at_the_registry_counter_reaches_both_departments(
    stack: HubStack,
) -> None:
    number = stack.mocks.marriage_registry.register_marriage(
        Person("张伟", HUSBAND_ID),
        Person("王芳", WIFE_ID),
        day=date(2026, 5, 20),
        office="110105",
    )

    message_id = wait_for(lambda: stack.runtime.store.find_message_id("MARRIAGE_REGISTRY", number))
    assert message_id is not None
    assert stack.wait_settled(message_id).state == "delivered"
    tax = json.loads(stack.mocks.tax.store.get(delivery_key(message_id, "TAX")).payload)
    assert tax["registrationNumber"] == number


def test_an_address_change_entered_at_tax_reaches_the_registry_in_gb18030(
    stack: HubStack,
) -> None:
    change = stack.mocks.tax.record_address_change(
        Person("张伟", HUSBAND_ID),
        region_code="110108",
        line="海淀区中关村大街27号",
        effective=date(2026, 6, 1),
    )

    message_id = wait_for(lambda: stack.runtime.store.find_message_id("TAX", change))
    assert message_id is not None
    assert stack.wait_settled(message_id).state == "delivered"
    record = stack.mocks.marriage_registry.store.get(delivery_key(message_id, "MARRIAGE_REGISTRY"))
    assert record.encoding.upper() == "GB18030"
    assert "海淀区中关村大街27号" in record.payload
    assert "20260601" in record.payload


def test_a_department_that_is_down_gets_the_record_once_it_is_back(stack: HubStack) -> None:
    stack.mocks.tax.faults.down(True)
    receipt = stack.client().service.Submit(header=header(), message=marriage())

    retrying = wait_for(lambda: _leg(stack, receipt.messageId, "TAX", "retrying"))
    assert retrying is not None
    stack.mocks.tax.faults.down(False)

    assert stack.wait_settled(receipt.messageId).state == "delivered"
    assert stack.mocks.tax.store.count() == 1


def test_get_status_of_an_unknown_message_is_a_not_found_fault(stack: HubStack) -> None:
    with pytest.raises(zeep.exceptions.Fault) as fault:
        stack.client().service.GetStatus("00000000-0000-0000-0000-000000000000")
    assert fault.value.code.endswith("Client.NotFound")


def _leg(stack: HubStack, message_id: str, department: str, state: str) -> bool | None:
    legs = stack.runtime.store.message_status(message_id).deliveries
    return (
        True if any(leg.department == department and leg.state == state for leg in legs) else None
    )
