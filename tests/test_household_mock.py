"""The household registration mock (PUBLIC_SECURITY), reached through the hub's own SOAP
adapter with the settings of its department package."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from lxml import etree

from adapters.base import Adapter, OutboundDelivery
from adapters.registry import load_adapter
from adapters.soap import SoapAdapter
from adapters.testkit import check_adapter
from hub import xmlparse
from hub.departments import DepartmentConfig
from hub.errors import PermanentDeliveryError
from hub.mapping import canonical_xml
from mock_departments import cli
from mock_departments.household import CONTRACT, PACKAGE
from mock_departments.runner import DEPARTMENTS, MockDepartments, start_mock_departments

EXAMPLES = PACKAGE / "examples" / "outbound"
HJ = "urn:gongan:huji:2025"


@pytest.fixture(scope="module")
def mocks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockDepartments]:
    data_dir = tmp_path_factory.mktemp("household")
    # Nothing listens on port 9; household registration pushes nothing anyway.
    with start_mock_departments(
        data_dir=data_dir,
        ports={"PUBLIC_SECURITY": 0},
        hub_url="http://127.0.0.1:9",
        codes=["PUBLIC_SECURITY"],
    ) as running:
        yield running


def package_config(endpoint: str) -> DepartmentConfig:
    """The department as its package describes it, pointed at the running mock."""
    table = tomllib.loads((PACKAGE / "department.toml").read_text(encoding="utf-8"))
    return DepartmentConfig(
        code=table["code"],
        name=table["name"],
        adapter=table["adapter"],
        endpoint=endpoint,
        # The package's WSDL, as an absolute path: the adapter joins it to xsd/.
        wsdl=str(CONTRACT / "household.wsdl"),
        soap_version=table["soap_version"],
        encoding=table["encoding"],
        timeout_seconds=float(table["timeout_seconds"]),
        operations=table["operations"],
        options=table["options"],
    )


@pytest.fixture(scope="module")
def adapter(mocks: MockDepartments) -> Iterator[Adapter]:
    loaded = load_adapter(package_config(mocks.endpoints()["PUBLIC_SECURITY"]))
    yield loaded
    loaded.close()


def delivery(message_type: str, key: str) -> OutboundDelivery:
    document = xmlparse.parse((EXAMPLES / f"{message_type}.out.xml").read_bytes())
    return OutboundDelivery("PUBLIC_SECURITY", message_type, f"m-{key}", key, document)


@pytest.mark.parametrize("message_type", ["MarriageRegistered", "AddressChanged"])
def test_household_registration_takes_each_record_once_and_answers_a_repeat_as_duplicate(
    mocks: MockDepartments, adapter: Adapter, message_type: str
) -> None:
    sent = delivery(message_type, f"key-{message_type}")
    first = adapter.deliver(sent)
    again = adapter.deliver(replace(sent, message_id="m-again"))
    assert first.status == "accepted"
    assert first.reference is not None and first.reference.startswith("SL")
    assert again.status == "duplicate" and again.reference == first.reference
    assert mocks.household.store.get(f"key-{message_type}") is not None


def test_household_registration_keeps_the_record_as_sent_and_the_people_it_names(
    mocks: MockDepartments, adapter: Adapter
) -> None:
    adapter.deliver(delivery("MarriageRegistered", "key-people"))
    record = mocks.household.store.get("key-people")
    assert record is not None and record.kind == "HYZKBG" and record.encoding == "UTF-8"
    expected = (EXAMPLES / "MarriageRegistered.out.xml").read_bytes()
    assert canonical_xml(record.payload.encode()) == canonical_xml(expected)
    assert len(mocks.household.store.received_for("320102199004152428")) >= 1


def test_household_registration_rejects_a_record_its_schema_refuses(adapter: Adapter) -> None:
    sent = delivery("AddressChanged", "key-bad")
    document = sent.document
    assert isinstance(document, etree._Element)
    broken = etree.fromstring(etree.tostring(document))
    broken.find(f"{{{HJ}}}QRDSSXQ").text = "3201"  # type: ignore[union-attr]
    with pytest.raises(PermanentDeliveryError):
        adapter.deliver(replace(sent, document=broken))


def test_household_registration_serves_the_package_wsdl_with_its_real_address(
    mocks: MockDepartments,
) -> None:
    base = mocks.url("PUBLIC_SECURITY")
    wsdl = requests.get(base + "/soap?wsdl", timeout=10)
    xsd = requests.get(base + "/household.xsd", timeout=10)
    assert wsdl.ok and f'location="{base}/soap"'.encode() in wsdl.content
    assert xsd.content == (CONTRACT / "household.xsd").read_bytes()


def test_the_hub_soap_adapter_keeps_the_adapter_contract_with_household_registration(
    mocks: MockDepartments,
) -> None:
    config = package_config(mocks.endpoints()["PUBLIC_SECURITY"])
    sample = delivery("AddressChanged", "unused").document
    ran = check_adapter(SoapAdapter, config, sample, message_type="AddressChanged")
    assert "reports duplicates" in ran and "HTTP 400 permanent" in ran


def test_household_registration_is_not_one_of_the_default_mocks() -> None:
    assert "PUBLIC_SECURITY" not in DEPARTMENTS


def test_show_lists_what_household_registration_received(
    mocks: MockDepartments, adapter: Adapter
) -> None:
    adapter.deliver(delivery("AddressChanged", "key-show"))
    data_dir = mocks.household.store.path.parent.parent
    result = CliRunner().invoke(
        cli.mock_departments_cli, ["show", "household", "--data-dir", str(data_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "PUBLIC_SECURITY" in result.output and "key=key-show" in result.output


def test_serve_takes_a_port_for_one_department_only(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli.mock_departments_cli,
        ["serve", "PUBLIC_SECURITY", "TAX", "--port", "0", "--data-dir", str(tmp_path)],
    )
    assert result.exit_code == 2
    assert "--port goes with exactly one department" in result.output


def test_serve_refuses_an_unknown_department(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli.mock_departments_cli, ["serve", "CUSTOMS", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "known: " in result.output and "PUBLIC_SECURITY" in result.output
