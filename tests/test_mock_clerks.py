"""The clerks: what they enter is kept in the outbox and pushed to the hub, retried while
the hub is down, recorded as rejected when the hub refuses it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
import requests

from hub import xmlparse
from hub.identity import make_number
from hub.schemas import default_registry
from mock_departments.fake_hub import FakeHub
from mock_departments.marriage import MarriageRegistry
from mock_departments.people import Person
from mock_departments.runner import RunningDepartment, start_one
from mock_departments.server import MockServer
from mock_departments.soap import SOAP11, SOAP12
from mock_departments.social_security import SocialSecurity
from mock_departments.store import PENDING, PUSHED, REJECTED
from mock_departments.tax import Tax

ZHANG = Person("Zhang San", make_number("11010519900307", "123"))
LI = Person("Li Si", make_number("11010519920611", "124"))
CREDIT_CODE = "91110105MA01ABCD2X"


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Poll for something a background thread does; fail only after a generous deadline."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


@pytest.fixture
def hub() -> Iterator[tuple[FakeHub, MockServer]]:
    fake = FakeHub()
    server = fake.serve()
    yield fake, server
    server.stop()


def start(cls: type, tmp_path: Path, hub_url: str) -> RunningDepartment:
    return start_one(cls, data_dir=tmp_path, hub_url=hub_url, retry_seconds=0.05)


@pytest.fixture
def registry(tmp_path: Path, hub: tuple[FakeHub, MockServer]) -> Iterator[RunningDepartment]:
    running = start(MarriageRegistry, tmp_path, hub[1].url)
    yield running
    running.stop()


def marriage(running: RunningDepartment) -> MarriageRegistry:
    assert isinstance(running.department, MarriageRegistry)
    return running.department


def test_a_registered_marriage_is_pushed_as_gb18030_soap_1_1(
    registry: RunningDepartment, hub: tuple[FakeHub, MockServer]
) -> None:
    number = marriage(registry).register_marriage(
        Person("张三", ZHANG.id_number), LI, day=date(2024, 5, 20), office="110105"
    )
    [pushed] = hub[0].received
    assert pushed.path == "/native/MARRIAGE_REGISTRY"
    assert pushed.headers["idempotency-key"] == number
    assert pushed.headers["content-type"] == "text/xml; charset=GB18030"
    assert "张三".encode("gb18030") in pushed.body
    envelope = xmlparse.parse(pushed.body)
    document = envelope.find(f"{{{SOAP11.namespace}}}Body")[0]  # type: ignore[index]
    default_registry().validate_xml(document, MarriageRegistry.schema)
    assert document.findtext("{urn:mz:hydj:2019}DengJiBianHao") == number
    assert marriage(registry).store.outbox_entry(number).status == PUSHED


def test_a_divorce_fills_the_parties_from_their_identity_numbers(
    registry: RunningDepartment, hub: tuple[FakeHub, MockServer]
) -> None:
    marriage(registry).register_divorce(
        ZHANG, LI, day=date(2025, 1, 2), office="110105", registration_number="L-1"
    )
    body = hub[0].received[0].body.decode("gb18030")
    assert "LiHunDengJi" in body
    assert "<hy:ChuShengRiQi>19900307</hy:ChuShengRiQi>" in body
    assert "<hy:XingBie>2</hy:XingBie>" in body  # LI's 17th digit is even


def test_the_clerk_registers_a_marriage_over_http(
    registry: RunningDepartment, hub: tuple[FakeHub, MockServer]
) -> None:
    answer = requests.post(
        registry.url + "/clerk/marriages",
        json={
            "husband": {"name": "Zhang San", "idNumber": ZHANG.id_number},
            "wife": {"name": "Li Si", "idNumber": LI.id_number},
            "date": "2024-05-20",
            "office": "110105",
        },
        timeout=10,
    )
    assert answer.status_code == 201
    assert answer.json()["push"] == PUSHED
    assert hub[0].received[0].headers["idempotency-key"] == answer.json()["registrationNumber"]


def test_the_clerk_refuses_an_incomplete_registration(registry: RunningDepartment) -> None:
    answer = requests.post(
        registry.url + "/clerk/marriages", json={"husband": {"name": "x"}}, timeout=10
    )
    assert answer.status_code == 400
    assert marriage(registry).store.outbox() == []


def test_a_registration_number_is_registered_only_once(registry: RunningDepartment) -> None:
    marriage(registry).register_marriage(
        ZHANG, LI, day=date(2024, 5, 20), office="110105", registration_number="J-1"
    )
    with pytest.raises(Exception, match="already registered"):
        marriage(registry).register_marriage(
            ZHANG, LI, day=date(2024, 5, 20), office="110105", registration_number="J-1"
        )


def test_a_refusal_from_the_hub_is_recorded_as_rejected(
    registry: RunningDepartment, hub: tuple[FakeHub, MockServer]
) -> None:
    hub[0].status = 403
    number = marriage(registry).register_marriage(ZHANG, LI, day=date(2024, 5, 20), office="110105")
    entry = marriage(registry).store.outbox_entry(number)
    assert entry.status == REJECTED
    assert entry.last_error is not None and "403" in entry.last_error


def test_a_hub_error_keeps_the_record_pending_and_it_is_retried(
    registry: RunningDepartment, hub: tuple[FakeHub, MockServer]
) -> None:
    hub[0].status = 503
    number = marriage(registry).register_marriage(ZHANG, LI, day=date(2024, 5, 20), office="110105")
    assert marriage(registry).store.outbox_entry(number).status == PENDING
    hub[0].status = 202
    wait_until(lambda: marriage(registry).store.outbox_entry(number).status == PUSHED)
    keys = {p.headers["idempotency-key"] for p in hub[0].received}
    assert keys == {number}


def test_records_entered_while_the_hub_is_down_are_pushed_when_it_comes_up(
    tmp_path: Path,
) -> None:
    fake = FakeHub()
    hub_server = fake.serve()
    hub_server.stop()  # now nothing listens on its port
    running = start(MarriageRegistry, tmp_path, hub_server.url)
    try:
        numbers = [
            marriage(running).register_marriage(ZHANG, LI, day=date(2024, 5, day), office="110105")
            for day in (1, 2, 3)
        ]
        assert marriage(running).store.count_outbox() == {PENDING: 3}
        hub_server.start()
        wait_until(lambda: marriage(running).store.count_outbox() == {PUSHED: 3})
        pushed_keys = [p.headers["idempotency-key"] for p in fake.received]
        assert sorted(set(pushed_keys)) == sorted(numbers)
    finally:
        running.stop()
        hub_server.stop()


def test_social_security_pushes_an_enrollment_as_soap_1_2(
    tmp_path: Path, hub: tuple[FakeHub, MockServer]
) -> None:
    running = start(SocialSecurity, tmp_path, hub[1].url)
    try:
        department = running.department
        assert isinstance(department, SocialSecurity)
        number = department.enroll(
            ZHANG,
            scheme="110",
            employer_credit_code=CREDIT_CODE,
            day=date(2024, 5, 1),
            region="110105",
        )
        [pushed] = hub[0].received
        assert pushed.path == "/native/SOCIAL_SECURITY"
        assert pushed.headers["idempotency-key"] == number
        assert pushed.headers["content-type"].startswith("application/soap+xml; charset=UTF-8")
        envelope = xmlparse.parse(pushed.body)
        assert envelope.tag == f"{{{SOAP12.namespace}}}Envelope"
    finally:
        running.stop()


def test_the_social_security_clerk_enrolls_over_http(
    tmp_path: Path, hub: tuple[FakeHub, MockServer]
) -> None:
    running = start(SocialSecurity, tmp_path, hub[1].url)
    try:
        answer = requests.post(
            running.url + "/clerk/enrollments",
            json={
                "person": {"name": "Zhang San", "idNumber": ZHANG.id_number},
                "scheme": "310",
                "employerCreditCode": CREDIT_CODE,
                "date": "2024-05-01",
                "region": "110105",
            },
            timeout=10,
        )
        assert answer.status_code == 201
        assert answer.json()["push"] == PUSHED
    finally:
        running.stop()


def test_tax_pushes_an_address_change_as_json(
    tmp_path: Path, hub: tuple[FakeHub, MockServer]
) -> None:
    running = start(Tax, tmp_path, hub[1].url)
    try:
        answer = requests.post(
            running.url + "/clerk/address-changes",
            json={
                "person": {"name": "张三", "idNumber": ZHANG.id_number},
                "regionCode": "110105",
                "line": "朝阳路1号",
                "postalCode": "100020",
                "effectiveDate": "2024-05-01",
            },
            timeout=10,
        )
        assert answer.status_code == 201
        [pushed] = hub[0].received
        assert pushed.path == "/native/TAX/api/v1/address-changes"
        assert pushed.headers["idempotency-key"] == answer.json()["changeNumber"]
        document = json.loads(pushed.body.decode("utf-8"))
        default_registry().validate_json(document, "departments/TAX/address-change.json")
        assert document["taxpayer"]["sex"] == "M"
        assert document["recordedAt"].endswith("+08:00")
    finally:
        running.stop()
