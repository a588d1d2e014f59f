"""One attempt's outcome, by what the department (faked with `responses`) answers."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import timedelta

import pytest
import requests
import responses
from backends import (
    CANONICAL_NS,
    IDENTITY_NUMBER,
    ExplodingMappings,
    FakeClock,
    PostAdapter,
    canonical_xml,
    departments,
    new_message,
    real_mappings,
)
from lxml import etree
from sqlalchemy import select

from hub.delivery import DeliveryHandler, MappingLookup
from hub.retry import RetryPolicy
from hub.store import Store, delivery_key
from hub.store.models import AttemptRow, DeliveryRow

TAX_URL = "http://tax.test/deliveries"


def handler(
    store: Store, mappings: MappingLookup | None = None, attempts: int = 3
) -> DeliveryHandler:
    return DeliveryHandler(
        store,
        mappings or real_mappings(),
        departments(),
        PostAdapter,
        RetryPolicy(base_seconds=10, max_seconds=60, max_attempts=attempts),
        lease_seconds=30,
    )


def tax_delivery(store: Store) -> int:
    receipt = store.save_accepted(new_message(), ("TAX",), lease_seconds=30)
    return receipt.deliveries[0].delivery_id


def tax_status(store: Store, delivery_id: int) -> tuple[str, int, str | None]:
    status = store.message_status(_message_of(store, delivery_id)).deliveries[0]
    return status.state, status.attempts, status.last_error


def _message_of(store: Store, delivery_id: int) -> str:
    with store.engine.connect() as connection:
        found = connection.scalar(
            select(DeliveryRow.message_id).where(DeliveryRow.id == delivery_id)
        )
    return str(found)


@responses.activate
def test_a_delivered_record_reaches_the_department_mapped_and_with_its_idempotency_key(
    store: Store,
) -> None:
    responses.post(TAX_URL, json={"ok": True})
    delivery_id = tax_delivery(store)
    assert handler(store).handle(delivery_id) == "delivered"
    sent = responses.calls[0].request
    assert isinstance(sent.body, bytes)
    event = json.loads(sent.body)  # the tax bureau's marital event, as its mapping makes it
    assert (event["eventType"], event["taxpayer"]["idNumber"]) == ("MARRIAGE", IDENTITY_NUMBER)
    assert event["taxpayer"]["sex"] == "M" and event["registeredAt"].endswith("+08:00")
    assert store.message_status(_message_of(store, delivery_id)).state == "delivered"
    assert sent.headers["Idempotency-Key"] == delivery_key(_message_of(store, delivery_id), "TAX")
    with store.engine.connect() as connection:
        attempt = connection.execute(select(AttemptRow)).one()
    assert (attempt.outcome, len(attempt.payload_sha256)) == ("delivered", 64)


@responses.activate
def test_a_department_that_already_had_the_record_counts_as_delivered(store: Store) -> None:
    responses.post(TAX_URL, status=409, body="seen this key")
    assert handler(store).handle(tax_delivery(store)) == "delivered"


@responses.activate
def test_a_department_that_is_down_is_retried_with_backoff_then_failed_after_max_attempts(
    store: Store, clock: FakeClock
) -> None:
    responses.post(TAX_URL, body=requests.ConnectionError("refused"))
    delivery_id = tax_delivery(store)
    worker = handler(store, attempts=3)
    assert worker.handle(delivery_id) == "retrying"
    assert worker.handle(delivery_id) is None  # not before its next attempt
    for expected in ("retrying", "failed"):
        clock.advance(60)
        assert [d for d, _ in store.due_for_relay(limit=10)] == [delivery_id]
        assert worker.handle(delivery_id) == expected
    state, attempts, last_error = tax_status(store, delivery_id)
    assert (state, attempts) == ("failed", 3)
    assert last_error is not None and "gave up after 3 attempts" in last_error
    assert len(responses.calls) == 3


@responses.activate
def test_the_backoff_grows_between_half_and_all_of_the_doubled_delay(
    store: Store, clock: FakeClock
) -> None:
    policy = RetryPolicy(base_seconds=10, max_seconds=25, max_attempts=9)
    delays = [policy.delay_seconds(n) for n in (1, 2, 3, 4)]
    assert 5 <= delays[0] <= 10 and 10 <= delays[1] <= 20
    assert all(12.5 <= d <= 25 for d in delays[2:])
    responses.post(TAX_URL, status=503)
    delivery_id = tax_delivery(store)
    handler(store).handle(delivery_id)
    clock.advance(4.9)
    assert store.claim(delivery_id, lease_seconds=30) is None
    clock.advance(5.2)
    assert store.claim(delivery_id, lease_seconds=30) is not None


@responses.activate
def test_a_department_that_rejects_the_content_fails_it_at_once(store: Store) -> None:
    responses.post(TAX_URL, status=422, body="spouse missing")
    delivery_id = tax_delivery(store)
    assert handler(store).handle(delivery_id) == "failed"
    state, attempts, last_error = tax_status(store, delivery_id)
    assert (state, attempts) == ("failed", 1)
    assert last_error == "PermanentDeliveryError: HTTP 422: spouse missing"


@responses.activate
def test_a_record_that_cannot_be_mapped_fails_at_once_without_calling_the_department(
    store: Store,
) -> None:
    without_spouse = etree.fromstring(canonical_xml())
    (spouse,) = without_spouse.iterchildren(f"{{{CANONICAL_NS}}}partyB")
    without_spouse.remove(spouse)  # the tax bureau's marital event needs a spouse
    message = replace(new_message(), canonical=etree.tostring(without_spouse))
    delivery_id = store.save_accepted(message, ("TAX",), lease_seconds=30).deliveries[0].delivery_id
    assert handler(store).handle(delivery_id) == "failed"
    assert len(responses.calls) == 0
    with store.engine.connect() as connection:
        attempt = connection.execute(select(AttemptRow)).one()
    assert (attempt.error_class, attempt.outcome) == ("SchemaInvalid", "failed")


@responses.activate
def test_an_unexpected_error_is_retried_and_logged_without_the_identity_number(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    mappings = ExplodingMappings(KeyError(f"bug near {IDENTITY_NUMBER}"))
    delivery_id = tax_delivery(store)
    with caplog.at_level(logging.INFO):
        assert handler(store, mappings).handle(delivery_id) == "retrying"
    assert "KeyError" in caplog.text and IDENTITY_NUMBER not in caplog.text
    _, _, last_error = tax_status(store, delivery_id)
    assert last_error is not None and IDENTITY_NUMBER not in last_error


@responses.activate
def test_a_replayed_attempt_sends_the_same_idempotency_key(store: Store, clock: FakeClock) -> None:
    responses.post(TAX_URL, status=500)
    delivery_id = tax_delivery(store)
    worker = handler(store)
    worker.handle(delivery_id)
    clock.advance(timedelta(minutes=5).total_seconds())
    worker.handle(delivery_id)
    keys = {call.request.headers["Idempotency-Key"] for call in responses.calls}
    assert len(responses.calls) == 2 and len(keys) == 1
