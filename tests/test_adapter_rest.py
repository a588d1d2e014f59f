from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import requests
import responses
from department_fakes import department_fake
from fixtures.adapters.samples import ID_NUMBER, department

from adapters.base import OutboundDelivery
from adapters.rest import RestAdapter
from hub.errors import (
    ConfigurationError,
    DeliveryError,
    MalformedJSON,
    PermanentDeliveryError,
    RetryableDeliveryError,
    UnknownMessageType,
)
from hub.identity import mask

URL = "http://departments.test/api/v1/marital-events"
KEY = "9f1c2d34-0000-4000-8000-000000000002"
EVENT: dict[str, Any] = {"eventType": "marriage", "person": {"idNumber": ID_NUMBER, "name": "张三"}}


@pytest.fixture
def fake() -> Iterator[responses.RequestsMock]:
    with department_fake() as mock:
        yield mock


@pytest.fixture
def tax() -> Iterator[RestAdapter]:
    adapter = RestAdapter(department("TAX"))
    yield adapter
    adapter.close()


def to_tax(document: object = EVENT) -> OutboundDelivery:
    return OutboundDelivery("TAX", "MarriageRegistered", "m-1", KEY, document)  # type: ignore[arg-type]


def test_a_record_is_posted_as_utf8_json_with_the_idempotency_key(
    fake: responses.RequestsMock, tax: RestAdapter
) -> None:
    fake.post(URL, json={"status": "accepted", "reference": "T-1"}, status=201)
    result = tax.deliver(to_tax())
    request = fake.calls[0].request
    assert request.headers["Idempotency-Key"] == KEY
    assert request.headers["Content-Type"].startswith("application/json")
    assert isinstance(request.body, bytes)
    assert json.loads(request.body.decode("utf-8")) == EVENT
    assert "张三".encode() in request.body
    assert (result.status, result.reference) == ("accepted", "T-1")


def test_an_answer_saying_duplicate_is_a_duplicate(
    fake: responses.RequestsMock, tax: RestAdapter
) -> None:
    fake.post(URL, json={"status": "duplicate", "id": 42})
    result = tax.deliver(to_tax())
    assert (result.status, result.reference) == ("duplicate", "42")


def test_a_success_without_a_json_answer_is_accepted(
    fake: responses.RequestsMock, tax: RestAdapter
) -> None:
    fake.post(URL, body="", status=204)
    assert tax.deliver(to_tax()).status == "accepted"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (requests.ConnectionError("Connection refused"), RetryableDeliveryError),
        (requests.ReadTimeout("read timed out"), RetryableDeliveryError),
        (requests.exceptions.InvalidURL("bad url"), PermanentDeliveryError),
    ],
    ids=["connection refused", "timeout", "invalid url"],
)
def test_requests_errors_are_translated(
    fake: responses.RequestsMock, tax: RestAdapter, answer: Exception, expected: type[DeliveryError]
) -> None:
    fake.post(URL, body=answer)
    with pytest.raises(expected) as caught:
        tax.deliver(to_tax())
    assert caught.value.__cause__ is answer


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (500, RetryableDeliveryError),
        (503, RetryableDeliveryError),
        (408, RetryableDeliveryError),
        (429, RetryableDeliveryError),
        (400, PermanentDeliveryError),
        (409, PermanentDeliveryError),
        (422, PermanentDeliveryError),
        (302, PermanentDeliveryError),
    ],
)
def test_http_statuses_are_classified(
    fake: responses.RequestsMock, tax: RestAdapter, status: int, expected: type[DeliveryError]
) -> None:
    fake.post(URL, json={"error": f"bad {ID_NUMBER}"}, status=status)
    with pytest.raises(expected, match=f"HTTP {status}") as caught:
        tax.deliver(to_tax())
    assert mask(ID_NUMBER) in (caught.value.detail or "")
    assert ID_NUMBER not in str(caught.value)


def test_an_xml_document_for_a_json_department_is_permanent(tax: RestAdapter) -> None:
    with pytest.raises(PermanentDeliveryError, match="takes JSON objects"):
        tax.deliver(to_tax(document=None))


def test_a_message_type_without_a_url_is_permanent(tax: RestAdapter) -> None:
    delivery = OutboundDelivery("TAX", "AddressChanged", "m", KEY, EVENT)
    with pytest.raises(PermanentDeliveryError, match="no URL for AddressChanged"):
        tax.deliver(delivery)


def test_duplicate_detection_follows_the_departments_options(fake: responses.RequestsMock) -> None:
    options = {"result_field": "outcome", "duplicate_value": "seen", "reference_field": "ticket"}
    adapter = RestAdapter(department("TAX", options=options))
    fake.post(URL, json={"outcome": "seen", "ticket": "X9"})
    result = adapter.deliver(to_tax())
    assert (result.status, result.reference) == ("duplicate", "X9")


def test_a_push_is_routed_by_its_path_and_parsed(tax: RestAdapter) -> None:
    body = json.dumps({"idNumber": ID_NUMBER, "address": "北京"}, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "idempotency-key": "k-9"}
    record = tax.decode_inbound(body, headers, "/api/v1/address-changes/?source=web")
    assert record.message_type == "AddressChanged"
    assert record.document == {"idNumber": ID_NUMBER, "address": "北京"}
    assert (record.idempotency_key, record.raw) == ("k-9", body)


def test_a_push_to_an_unknown_path_is_an_unknown_message_type(tax: RestAdapter) -> None:
    with pytest.raises(UnknownMessageType, match="sends nothing to /api/v1/other"):
        tax.decode_inbound(b"{}", {}, "/api/v1/other")


def test_a_push_that_is_not_json_by_content_type_is_refused(tax: RestAdapter) -> None:
    with pytest.raises(MalformedJSON, match="expected application/json"):
        tax.decode_inbound(b"<x/>", {"Content-Type": "text/xml"}, "/api/v1/address-changes")


def test_a_push_with_a_json_array_is_refused(tax: RestAdapter) -> None:
    with pytest.raises(MalformedJSON, match="got an array"):
        tax.decode_inbound(b"[1, 2]", {}, "/api/v1/address-changes")


def test_the_hub_authenticates_with_the_credentials_its_reference_points_to(
    fake: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAX_HUB_CREDENTIALS", "govhub:s3cret")
    adapter = RestAdapter(replace(department("TAX"), credentials="env:TAX_HUB_CREDENTIALS"))
    fake.post(URL, json={"status": "accepted", "reference": "T-1"}, status=201)

    adapter.deliver(to_tax())

    expected = "Basic " + base64.b64encode(b"govhub:s3cret").decode()
    assert fake.calls[0].request.headers["Authorization"] == expected


def test_a_credentials_reference_that_points_nowhere_stops_the_adapter_naming_only_the_reference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TAX_HUB_CREDENTIALS", raising=False)
    with pytest.raises(ConfigurationError, match="env:TAX_HUB_CREDENTIALS cannot be read"):
        RestAdapter(replace(department("TAX"), credentials="env:TAX_HUB_CREDENTIALS"))
