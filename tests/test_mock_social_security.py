# mypy: disable-error-code="no-untyped-call"
"""The social security mock: SOAP 1.2, called with zeep through its WSDL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
from lxml import etree
from zeep.exceptions import Fault

from hub.identity import make_number
from hub.resources import XSD_ROOT
from mock_departments.runner import RunningDepartment, start_one
from mock_departments.soap import SOAP12
from mock_departments.social_security import SocialSecurity

ZHANG = make_number("11010519900307", "123")
LI = make_number("11010519920611", "124")


@pytest.fixture
def social(tmp_path: Path) -> Iterator[RunningDepartment]:
    running = start_one(SocialSecurity, data_dir=tmp_path, hub_url="http://127.0.0.1:9")
    yield running
    running.stop()


@pytest.fixture
def client(social: RunningDepartment) -> zeep.Client:
    return zeep.Client(social.url + "/soap?wsdl")


def notice(**event: str) -> dict[str, Any]:
    return {
        "Event": {
            "kind": "marriage",
            "date": "2024-05-20",
            "registration": "J1",
            "office": "110105",
            **event,
        },
        "Principal": {
            "id": ZHANG,
            "sex": "1",
            "FullName": "Zhang San",
            "MaritalStatus": {"code": "20"},
        },
        "Spouse": {"id": LI, "sex": "2", "FullName": "Li Si"},
    }


def notify(client: zeep.Client, key: str, **event: str) -> Any:
    return client.service.NotifyMaritalStatus(
        **notice(**event), _soapheaders={"IdempotencyKey": key}
    )


def test_zeep_notifies_a_marriage_over_soap_1_2(
    social: RunningDepartment, client: zeep.Client
) -> None:
    answer = notify(client, "key-1")
    assert (answer.status, answer.reference) == ("accepted", "SI-ACK-00000001")
    record = social.department.store.get("key-1")
    assert record.kind == "MaritalStatusNotice"
    assert [r.idempotency_key for r in social.department.store.received_for(LI)] == ["key-1"]


def test_zeep_updates_a_residence(social: RunningDepartment, client: zeep.Client) -> None:
    answer = client.service.UpdateResidence(
        Insured={"id": ZHANG, "FullName": "Zhang San"},
        Residence={"division": "110105", "Line": "Chaoyang Lu 1", "Postcode": "100020"},
        RecordedAt="2024-05-01T12:00:00+08:00",
        effective="2024-05-01",
        _soapheaders={"IdempotencyKey": "key-2"},
    )
    assert answer.status == "accepted"
    assert social.department.store.count_by_kind() == {"ResidenceUpdate": 1}


def test_social_security_ignores_a_repeated_idempotency_key(
    social: RunningDepartment, client: zeep.Client
) -> None:
    notify(client, "key-1")
    assert notify(client, "key-1", kind="divorce").status == "duplicate"
    assert social.department.store.count() == 1


def test_social_security_answers_as_soap_1_2(social: RunningDepartment) -> None:
    client = zeep.Client(str(XSD_ROOT / SocialSecurity.wsdl))
    envelope = client.create_message(
        client.service, "NotifyMaritalStatus", **notice(), _soapheaders={"IdempotencyKey": "k"}
    )
    answer = requests.post(
        social.url + "/soap",
        data=etree.tostring(envelope),
        headers={"Content-Type": "application/soap+xml; charset=utf-8"},
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/soap+xml")
    assert SOAP12.namespace.encode() in answer.content


def test_social_security_answers_an_invalid_record_with_a_sender_fault(
    social: RunningDepartment, client: zeep.Client
) -> None:
    with pytest.raises(Fault) as caught:
        notify(client, "key-1", office="1101")
    assert caught.value.code == "soap:Sender"
    assert social.department.store.count() == 0


def test_injected_failures_are_receiver_faults(
    social: RunningDepartment, client: zeep.Client
) -> None:
    social.department.faults.fail_next(2)
    for _ in range(2):
        with pytest.raises(Fault) as caught:
            notify(client, "key-1")
        assert caught.value.code == "soap:Receiver"
    assert notify(client, "key-1").status == "accepted"


def test_a_down_department_answers_503_until_it_is_up_again(
    social: RunningDepartment, client: zeep.Client
) -> None:
    social.department.faults.down()
    assert requests.post(social.url + "/soap", data=b"<x/>", timeout=10).status_code == 503
    social.department.faults.down(False)
    assert notify(client, "key-1").status == "accepted"


def test_a_stopped_listener_refuses_connections_and_restarts_on_the_same_port(
    social: RunningDepartment, client: zeep.Client
) -> None:
    port = social.server.port
    social.server.stop()
    with pytest.raises(requests.ConnectionError):
        notify(client, "key-1")
    social.server.start()
    assert social.server.port == port
    assert notify(client, "key-1").status == "accepted"
