# mypy: disable-error-code="no-untyped-call"
"""The marriage registry mock: SOAP 1.1, GB18030, called with zeep through its WSDL."""

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
from mock_departments.marriage import MarriageRegistry
from mock_departments.runner import RunningDepartment, start_one
from mock_departments.soap import SOAP11

NS = "urn:mz:hydj:2019"
ZHANG = make_number("11010519900307", "123")


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RunningDepartment]:
    running = start_one(MarriageRegistry, data_dir=tmp_path, hub_url="http://127.0.0.1:9")
    yield running
    running.stop()


@pytest.fixture
def client(registry: RunningDepartment) -> zeep.Client:
    return zeep.Client(registry.url + "/soap?wsdl")


def address_change(**changes: str) -> dict[str, Any]:
    fields = {
        "ShenFenZhengHao": ZHANG,
        "XingMing": "Zhang San",
        "XingZhengQuHua": "110105",
        "XiangXiDiZhi": "Chaoyang Lu 1",
        "ShengXiaoRiQi": "20240501",
        "DengJiShiJian": "20240501120000",
    }
    return {**fields, **changes}


def send(client: zeep.Client, key: str, **changes: str) -> Any:
    return client.service.JieShouDiZhiBianGeng(
        **address_change(**changes), _soapheaders={"IdempotencyKey": key}
    )


def raw_envelope(body: str, key: str = "raw-1", encoding: str = "GB18030") -> bytes:
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>'
        f'<s:Envelope xmlns:s="{SOAP11.namespace}"><s:Header>'
        f'<h:IdempotencyKey xmlns:h="urn:govhub:hub:1">{key}</h:IdempotencyKey></s:Header>'
        f"<s:Body>{body}</s:Body></s:Envelope>"
    )
    return text.encode(encoding)


def dizhi(name: str) -> str:
    return (
        f'<hy:DiZhiBianGeng xmlns:hy="{NS}"><hy:ShenFenZhengHao>{ZHANG}</hy:ShenFenZhengHao>'
        f"<hy:XingMing>{name}</hy:XingMing><hy:XingZhengQuHua>110105</hy:XingZhengQuHua>"
        "<hy:XiangXiDiZhi>朝阳路1号</hy:XiangXiDiZhi><hy:ShengXiaoRiQi>20240501</hy:ShengXiaoRiQi>"
        "<hy:DengJiShiJian>20240501120000</hy:DengJiShiJian></hy:DiZhiBianGeng>"
    )


def test_zeep_puts_the_idempotency_key_in_the_soap_header_declared_by_the_wsdl() -> None:
    client = zeep.Client(str(XSD_ROOT / MarriageRegistry.wsdl))
    message = client.create_message(
        client.service,
        "JieShouDiZhiBianGeng",
        **address_change(),
        _soapheaders={"IdempotencyKey": "key-1"},
    )
    header = message.find(f"{{{SOAP11.namespace}}}Header")
    assert header is not None
    assert header.findtext("{urn:govhub:hub:1}IdempotencyKey") == "key-1"


def test_zeep_delivers_an_address_change_with_the_idempotency_header(
    registry: RunningDepartment, client: zeep.Client
) -> None:
    answer = send(client, "key-1")
    assert (answer.JieGuo, answer.HuiZhiBianHao) == ("JIESHOU", "HZ00000001")
    record = registry.department.store.get("key-1")
    assert record.kind == "DiZhiBianGeng"
    assert "Chaoyang Lu 1" in record.payload
    assert registry.department.store.received_for(ZHANG) == [record]


def test_registry_ignores_a_repeated_idempotency_key(
    registry: RunningDepartment, client: zeep.Client
) -> None:
    first = send(client, "key-1")
    again = send(client, "key-1", XiangXiDiZhi="Somewhere else")
    assert again.JieGuo == "CHONGFU"
    assert again.HuiZhiBianHao == first.HuiZhiBianHao
    assert registry.department.store.count() == 1


def test_registry_answers_in_gb18030(registry: RunningDepartment) -> None:
    answer = requests.post(
        registry.url + "/soap",
        data=raw_envelope(dizhi("张三")),
        headers={"Content-Type": "text/xml; charset=GB18030"},
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/xml; charset=GB18030"
    assert answer.content.startswith(b"<?xml version='1.0' encoding='GB18030'?>")


def test_registry_keeps_a_gb18030_delivery_as_decoded_text(registry: RunningDepartment) -> None:
    requests.post(registry.url + "/soap", data=raw_envelope(dizhi("张三")), timeout=10)
    record = registry.department.store.get("raw-1")
    assert record.encoding == "GB18030"
    assert "<hy:XingMing>张三</hy:XingMing>" in record.payload
    assert "朝阳路1号" in record.payload


def test_registry_reads_gb18030_named_only_in_the_http_charset(
    registry: RunningDepartment,
) -> None:
    body = raw_envelope(dizhi("李四")).split(b"?>", 1)[1]  # no XML declaration
    requests.post(
        registry.url + "/soap",
        data=body,
        headers={"Content-Type": "text/xml; charset=GB18030"},
        timeout=10,
    )
    assert "李四" in registry.department.store.get("raw-1").payload


def test_registry_answers_an_invalid_record_with_a_client_fault(
    registry: RunningDepartment, client: zeep.Client
) -> None:
    with pytest.raises(Fault) as caught:
        send(client, "key-1", XingZhengQuHua="11")
    assert caught.value.code == "soap:Client"
    assert "marriage-registry.xsd" in caught.value.message
    assert registry.department.store.count() == 0


def test_registry_refuses_a_wrong_identity_check_character(
    registry: RunningDepartment, client: zeep.Client
) -> None:
    wrong = ZHANG[:17] + ("0" if ZHANG[17] != "0" else "1")
    with pytest.raises(Fault) as caught:
        send(client, "key-1", ShenFenZhengHao=wrong)
    assert caught.value.code == "soap:Client"
    assert wrong not in caught.value.message  # masked


def test_registry_refuses_a_document_type_declaration(registry: RunningDepartment) -> None:
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>'
        + raw_envelope(dizhi("x"), encoding="UTF-8").split(b"?>", 1)[1]
    )
    answer = requests.post(registry.url + "/soap", data=hostile, timeout=10)
    assert answer.status_code == 500
    fault = etree.fromstring(answer.content).find(f".//{{{SOAP11.namespace}}}Fault")
    assert fault is not None
    assert fault.findtext("faultcode") == "soap:Client"


def test_injected_failures_are_server_faults_then_it_recovers(
    registry: RunningDepartment, client: zeep.Client
) -> None:
    registry.department.faults.fail_next(1)
    with pytest.raises(Fault) as caught:
        send(client, "key-1")
    assert caught.value.code == "soap:Server"
    assert send(client, "key-1").JieGuo == "JIESHOU"


def test_injected_rejections_are_client_faults(
    registry: RunningDepartment, client: zeep.Client
) -> None:
    registry.department.faults.fail_next(1, permanent=True)
    with pytest.raises(Fault) as caught:
        send(client, "key-1")
    assert caught.value.code == "soap:Client"
    assert registry.department.store.count() == 0


def test_the_served_wsdl_names_the_address_it_was_fetched_from(
    registry: RunningDepartment,
) -> None:
    wsdl = requests.get(registry.url + "/soap?wsdl", timeout=10).text
    assert f'location="{registry.url}/soap"' in wsdl
    assert requests.get(registry.url + "/marriage-registry.xsd", timeout=10).ok


def test_the_hub_can_override_the_endpoint_of_the_packaged_wsdl(
    registry: RunningDepartment,
) -> None:
    client = zeep.Client(str(XSD_ROOT / MarriageRegistry.wsdl))
    service = client.create_service(
        "{urn:mz:hydj:2019:service}HunYinDengJiSoap11", registry.url + "/soap"
    )
    answer = service.JieShouDiZhiBianGeng(
        **address_change(), _soapheaders={"IdempotencyKey": "key-9"}
    )
    assert answer.JieGuo == "JIESHOU"
