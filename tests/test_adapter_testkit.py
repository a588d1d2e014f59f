"""The adapter test kit, run as a department's developer would run it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests
from fixtures.adapters.samples import address_change, department
from lxml import etree

from adapters.base import Adapter, DeliveryResult, OutboundDelivery
from adapters.fakedepartment import FakeDepartment, FakeRequest, FakeResponse
from adapters.rest import RestAdapter
from adapters.soap import SoapAdapter
from adapters.testkit import AdapterContractError, check_adapter
from hub.departments import DepartmentConfig
from hub.errors import PermanentDeliveryError, RetryableDeliveryError
from mock_departments.marriage import MarriageRegistry
from mock_departments.runner import RunningDepartment, start_one

ALL_CHECKS = [
    "well formed",
    "delivers",
    "reports duplicates",
    "down is retryable",
    "HTTP 503 retryable",
    "HTTP 400 permanent",
    "close is repeatable",
]


class XmlPostAdapter(Adapter):
    """The minimal third-party adapter of docs/adapters.md: POST the XML document."""

    name = "xml-post"

    def deliver(self, delivery: OutboundDelivery) -> DeliveryResult:
        assert isinstance(delivery.document, etree._Element)
        try:
            response = requests.post(
                self.department.endpoint,
                data=etree.tostring(delivery.document, encoding="UTF-8"),
                headers={"Idempotency-Key": delivery.idempotency_key},
                timeout=self.department.timeout_seconds,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise RetryableDeliveryError(f"{self.department.code} is unreachable") from exc
        if response.status_code >= 500:
            raise RetryableDeliveryError(f"{self.department.code} answered {response.status_code}")
        if response.status_code >= 400:
            raise PermanentDeliveryError(f"{self.department.code} answered {response.status_code}")
        return DeliveryResult("duplicate" if response.status_code == 200 else "accepted")


class LeakyAdapter(XmlPostAdapter):
    """Lets requests' errors escape instead of translating them."""

    def deliver(self, delivery: OutboundDelivery) -> DeliveryResult:
        requests.post(self.department.endpoint, data=b"x", timeout=5).raise_for_status()
        return DeliveryResult("accepted")


class ForgetfulAdapter(XmlPostAdapter):
    """Never tells a repeat from a first delivery."""

    def deliver(self, delivery: OutboundDelivery) -> DeliveryResult:
        super().deliver(delivery)
        return DeliveryResult("accepted")


def remembering_department(request: FakeRequest) -> FakeResponse:
    """201 for a new Idempotency-Key, 200 for one already seen."""
    key = request.headers.get("Idempotency-Key", "")
    seen = remembering_department.seen  # type: ignore[attr-defined]
    status = 200 if key in seen else 201
    seen.add(key)
    return FakeResponse(status, b"ok")


remembering_department.seen = set()  # type: ignore[attr-defined]


@pytest.fixture
def xml_department() -> Iterator[DepartmentConfig]:
    with FakeDepartment(remembering_department) as fake:
        yield department("MARRIAGE_REGISTRY", adapter="xml-post", endpoint=fake.url + "/in")


@pytest.fixture
def marriage_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDepartment]:
    running = start_one(
        MarriageRegistry, data_dir=tmp_path_factory.mktemp("kit"), hub_url="http://127.0.0.1:9"
    )
    yield running
    running.stop()


def test_a_third_party_adapter_that_keeps_the_contract_passes_every_check(
    xml_department: DepartmentConfig,
) -> None:
    assert check_adapter(XmlPostAdapter, xml_department, address_change()) == ALL_CHECKS


def test_an_adapter_leaking_requests_errors_fails_with_a_clear_message(
    xml_department: DepartmentConfig,
) -> None:
    with pytest.raises(
        AdapterContractError, match=r"raised ConnectionError.*RetryableDeliveryError"
    ):
        check_adapter(LeakyAdapter, xml_department, address_change(), live=False)


def test_an_adapter_that_misses_duplicates_fails_the_duplicate_check(
    xml_department: DepartmentConfig,
) -> None:
    with pytest.raises(AdapterContractError, match=r"twice gave 'accepted'.*expected 'duplicate'"):
        check_adapter(ForgetfulAdapter, xml_department, address_change())


def test_without_a_running_department_the_offline_checks_still_run() -> None:
    config = department("MARRIAGE_REGISTRY", adapter="xml-post")
    names = check_adapter(XmlPostAdapter, config, address_change(), live=False)
    assert "delivers" not in names and "HTTP 400 permanent" in names


def test_the_soap_adapter_passes_against_the_marriage_registry_mock(
    marriage_mock: RunningDepartment,
) -> None:
    config = department("MARRIAGE_REGISTRY", endpoint=marriage_mock.url + "/soap")
    assert check_adapter(SoapAdapter, config, address_change()) == ALL_CHECKS


def test_the_rest_adapter_passes_the_offline_checks() -> None:
    config = replace(department("TAX"), endpoint="http://127.0.0.1:9")
    names = check_adapter(RestAdapter, config, {"eventType": "marriage"}, live=False)
    assert names[-1] == "close is repeatable"
