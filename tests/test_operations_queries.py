"""Listing, showing and tracing messages: filters, every attempt, masked identity numbers."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import responses
from backends import (
    IDENTITY_NUMBER,
    FakeClock,
    PostAdapter,
    canonical_xml,
    departments,
    new_message,
    real_mappings,
)

from hub.delivery import DeliveryHandler
from hub.errors import ClientError, NotFound
from hub.identity import make_number, mask
from hub.operations.queries import list_messages
from hub.operations.show import show_message
from hub.operations.trace import trace
from hub.operations.views import MessageFilter, to_jsonable
from hub.retry import RetryPolicy
from hub.store import Store

TAX_URL = "http://tax.test/deliveries"
OTHER_PERSON = make_number("11010819920815", "242")


def deliver_all(store: Store, delivery_ids: list[int]) -> None:
    handler = DeliveryHandler(
        store,
        real_mappings(),
        departments(),
        PostAdapter,
        RetryPolicy(base_seconds=10, max_seconds=60, max_attempts=3),
        lease_seconds=30,
    )
    for delivery_id in delivery_ids:
        handler.handle(delivery_id)


@pytest.fixture
def traffic(store: Store, clock: FakeClock) -> dict[str, str]:
    """Three messages an hour apart: delivered to TAX, failed at TAX, and another person's."""
    responses.start()
    responses.add(responses.POST, TAX_URL, status=200, body="ok")
    delivered = store.save_accepted(new_message(), ("TAX",), lease_seconds=30)
    deliver_all(store, [delivered.deliveries[0].delivery_id])
    clock.advance(3600)
    responses.replace(responses.POST, TAX_URL, status=400, body="rejected")
    failed = store.save_accepted(new_message(), ("TAX",), lease_seconds=30)
    deliver_all(store, [failed.deliveries[0].delivery_id])
    clock.advance(3600)
    other = dataclasses.replace(
        new_message(), canonical=canonical_xml(OTHER_PERSON), correlation_id="case-2"
    )
    queued = store.save_accepted(other, ("TAX", "SOCIAL_SECURITY"), lease_seconds=30)
    responses.stop()
    responses.reset()
    return {
        "delivered": delivered.message_id,
        "failed": failed.message_id,
        "other": queued.message_id,
    }


def ids(store: Store, **wanted: object) -> list[str]:
    return [m.message_id for m in list_messages(store, MessageFilter(**wanted))]  # type: ignore[arg-type]


def test_list_shows_newest_first_with_every_leg(store: Store, traffic: dict[str, str]) -> None:
    found = list_messages(store, MessageFilter())

    assert [m.message_id for m in found] == [
        traffic["other"],
        traffic["failed"],
        traffic["delivered"],
    ]
    assert [m.state for m in found] == ["accepted", "failed", "delivered"]
    assert [leg.department for leg in found[0].legs] == ["TAX", "SOCIAL_SECURITY"]


def test_list_filters_by_leg_state_department_type_time_and_person(
    store: Store, clock: FakeClock, traffic: dict[str, str]
) -> None:
    assert ids(store, state="failed") == [traffic["failed"]]
    assert ids(store, state="accepted") == [traffic["other"]]
    assert ids(store, state="queued", department="SOCIAL_SECURITY") == [traffic["other"]]
    assert ids(store, state="delivered", department="TAX") == [traffic["delivered"]]
    assert ids(store, since=clock.now - timedelta(minutes=90)) == [
        traffic["other"],
        traffic["failed"],
    ]
    assert ids(store, until=clock.now - timedelta(minutes=90)) == [traffic["delivered"]]
    assert ids(store, person=OTHER_PERSON) == [traffic["other"]]
    assert len(ids(store, person=IDENTITY_NUMBER)) == 2
    assert ids(store, message_type="DivorceRegistered") == []


def test_a_filter_that_cannot_mean_anything_is_refused(store: Store) -> None:
    with pytest.raises(ClientError, match="unknown state"):
        list_messages(store, MessageFilter(state="lost"))
    with pytest.raises(ClientError, match=r"110105\*+"):
        list_messages(store, MessageFilter(person="110105199003071310"))


def test_show_has_every_attempt_and_the_payloads_with_identity_numbers_masked(
    store: Store, traffic: dict[str, str]
) -> None:
    detail = show_message(store, traffic["failed"])

    (leg,) = detail.legs
    (attempt,) = leg.attempts
    assert (leg.leg.state, attempt.outcome, attempt.error_class) == (
        "failed",
        "failed",
        "PermanentDeliveryError",
    )
    assert attempt.outbound_mapping == "TAX/outbound/MarriageRegistered@1"
    assert leg.payload is not None and mask(IDENTITY_NUMBER) in leg.payload
    assert detail.canonical is not None and IDENTITY_NUMBER not in detail.canonical
    assert detail.original == "<JieHunDengJi/>"
    revealed = show_message(store, traffic["failed"], reveal=True)
    assert revealed.canonical is not None and IDENTITY_NUMBER in revealed.canonical
    assert IDENTITY_NUMBER not in str(to_jsonable(detail))


def test_show_of_an_unknown_id_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="no message with id nope"):
        show_message(store, "nope")


def test_trace_answers_did_every_department_get_it_by_id_correlation_or_person(
    store: Store, traffic: dict[str, str]
) -> None:
    (by_id,) = trace(store, traffic["delivered"])
    assert (by_id.everyone, by_id.verdict) == (True, "yes: every department confirmed it")

    (by_correlation,) = trace(store, "case-2")
    assert by_correlation.message.message_id == traffic["other"]
    assert by_correlation.verdict == "no: TAX queued; SOCIAL_SECURITY queued"

    by_person = trace(store, IDENTITY_NUMBER)
    assert [a.message.message_id for a in by_person] == [traffic["failed"], traffic["delivered"]]
    assert by_person[0].verdict.startswith("no: TAX failed (PermanentDeliveryError: HTTP 400")


def test_trace_of_an_unknown_key_is_not_found_and_does_not_print_the_number(
    store: Store,
) -> None:
    with pytest.raises(NotFound) as raised:
        trace(store, OTHER_PERSON)
    assert OTHER_PERSON not in str(raised.value) and mask(OTHER_PERSON) in str(raised.value)
