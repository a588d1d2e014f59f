"""The catalogue on /soap, through the running hub and a zeep client made from the WSDL alone:
ListServices (every type, its schema, senders and receivers, its resource metadata, and what
the calling department may do) and GetSchema (the XSD a sender validates with)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
from click.testing import CliRunner
from hubstack import HubStack, running_hub
from lxml import etree
from zeep.exceptions import Fault
from zeep.plugins import HistoryPlugin
from zeep.wsse.username import UsernameToken

from hub.cli import main
from hub.polling import wait_for
from hub.resources import XSD_ROOT
from hub.security import audit
from hub.security.credentials import CredentialStore, IssuedSecret
from hub.security.encryption import KeyRing, new_key_text
from hub.versions import read_versions

pytestmark = pytest.mark.slow

KEYS = new_key_text("k1")
HUB = "urn:govhub:hub:1"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
API_SCHEMA = etree.XMLSchema(etree.parse(str(XSD_ROOT / "hub" / "soap-api.xsd")))
CASE_EVENTS = ["CaseAccepted", "CaseConcluded", "CaseResumed", "CaseStepCompleted", "CaseSuspended"]
PEOPLE_EVENTS = [
    "AddressChanged",
    "DivorceRegistered",
    "InsuredPersonEnrolled",
    "MarriageRegistered",
]
ROUTED = sorted([*CASE_EVENTS, *PEOPLE_EVENTS, "SupervisionSignal"])


@pytest.fixture(scope="module")
def admins_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The deployment's catalogue file (GOVHUB_RESOURCE_CATALOGUE_FILE), empty at the start."""
    path = tmp_path_factory.mktemp("etc") / "catalogue.toml"
    path.write_text("", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, admins_file: Path) -> Iterator[HubStack]:
    folder = tmp_path_factory.mktemp("catalogue")
    settings = {"encryption_keys": KEYS, "resource_catalogue_file": str(admins_file)}
    with running_hub(folder, **settings) as running:
        yield running


@pytest.fixture(scope="module")
def tax_secret(stack: HubStack) -> IssuedSecret:
    credentials = CredentialStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
    return credentials.issue("TAX", actor="admin-wang")


def as_tax(stack: HubStack, issued: IssuedSecret, secret: str | None = None) -> Any:
    token = UsernameToken(issued.username, secret or issued.secret, use_digest=True)
    return zeep.Client(f"{stack.soap_url}?wsdl", wsse=token).service


def by_type(catalogue: Any) -> dict[str, Any]:
    return {service.messageType: service for service in catalogue.services}


def test_every_routed_type_is_listed_with_its_schema_senders_receivers_and_metadata(
    stack: HubStack,
) -> None:
    catalogue = stack.client().service.ListServices(department="MARRIAGE_REGISTRY")
    services = by_type(catalogue)

    assert sorted(services) == ROUTED
    marriage = services["MarriageRegistered"]
    assert marriage.schema == "canonical/MarriageRegistered.xsd"
    assert marriage.namespace == "urn:govhub:canonical:1"
    assert marriage.senders == ["MARRIAGE_REGISTRY"]
    assert [r.department for r in marriage.receivers] == ["SOCIAL_SECURITY", "TAX"]
    resource = marriage.resource
    assert (resource.name, resource.identifier) == ("结婚登记信息", "GOVHUB/MZ-0001")
    assert resource.provider == "Marriage registry (civil affairs)"
    assert (resource.sharingType, resource.openType) == ("conditional", "none")
    assert resource.sharingCondition  # a conditional share says on what condition
    assert services["SupervisionSignal"].senders == []  # the hub issues it itself
    assert services["SupervisionSignal"].receivers[0].department == "SUPERVISION"


def test_a_department_is_told_what_it_may_send_receive_and_read(
    stack: HubStack, tax_secret: IssuedSecret
) -> None:
    allowed = as_tax(stack, tax_secret).ListServices().allowed

    assert allowed.department == "TAX"
    assert allowed.sends == ["AddressChanged", *CASE_EVENTS]
    assert allowed.receives == ["DivorceRegistered", "InsuredPersonEnrolled", "MarriageRegistered"]
    assert allowed.reads == sorted(allowed.sends + allowed.receives)


def test_a_department_with_credentials_cannot_list_without_them(
    stack: HubStack, tax_secret: IssuedSecret
) -> None:
    with pytest.raises(Fault) as refused:
        stack.client().service.ListServices(department="TAX")
    assert refused.value.code.endswith("Client.NotAuthenticated")


@pytest.mark.parametrize(
    ("department", "secret", "code", "path"),
    [
        (None, "wrong", "Client.NotAuthenticated", "Header/Security"),
        ("MARRIAGE_REGISTRY", None, "Client.NotAuthorized", "ListServices/department"),
    ],
)
def test_a_wrong_password_or_another_departments_name_is_a_clear_fault(
    stack: HubStack,
    tax_secret: IssuedSecret,
    department: str | None,
    secret: str | None,
    code: str,
    path: str,
) -> None:
    with pytest.raises(Fault) as refused:
        as_tax(stack, tax_secret, secret).ListServices(department=department)
    assert refused.value.code.endswith(code)
    assert detail(refused.value)["path"] == path
    last = last_refusal(stack)  # operators see who tried, in the chained audit log
    assert (last.subject, json.loads(last.details)["code"]) == ("ListServices", code)


def test_an_anonymous_caller_naming_no_department_is_refused(stack: HubStack) -> None:
    with pytest.raises(Fault) as refused:
        stack.client().service.ListServices()
    assert refused.value.code.endswith("Client.NotAuthenticated")
    assert "department" in refused.value.message


def test_an_unknown_department_is_a_clear_fault(stack: HubStack) -> None:
    with pytest.raises(Fault) as refused:
        stack.client().service.ListServices(department="NO_SUCH_OFFICE")
    assert refused.value.code.endswith("Client.UnknownSender")


@pytest.mark.parametrize(
    ("message_type", "example"),
    [("MarriageRegistered", "MarriageRegistered"), ("CaseAccepted", "CaseAccepted")],
)
def test_a_sender_validates_its_record_with_the_schema_getschema_gives(
    stack: HubStack, message_type: str, example: str
) -> None:
    answer = stack.client().service.GetSchema(message_type)
    schema = etree.XMLSchema(etree.fromstring(answer.schema.encode("utf-8")))
    record = etree.parse(str(EXAMPLES / "canonical" / f"{example}.xml")).getroot()

    assert answer.namespace == "urn:govhub:canonical:1"
    assert schema.validate(record), schema.error_log
    broken = etree.fromstring(etree.tostring(record))
    broken.remove(broken[0])  # its first required field gone
    assert not schema.validate(broken)


def test_getschema_gives_version_2_0_alone_when_asked_and_1_0_by_default(stack: HubStack) -> None:
    service = stack.client().service
    newer = service.GetSchema("MarriageRegistered", schemaVersion="2.0")
    schema = etree.XMLSchema(etree.fromstring(newer.schema.encode("utf-8")))  # nothing imported
    example = read_versions().find("MarriageRegistered", "2.0").examples[-1]
    record = etree.fromstring(example.newer.strip())

    assert (newer.schemaVersion, newer.namespace) == ("2.0", "urn:govhub:canonical:2")
    assert newer.location == "canonical/2.0/MarriageRegistered.xsd"
    assert schema.validate(record), schema.error_log
    wrong = etree.fromstring(etree.tostring(record).replace(b"11010519900307013X", b"1101051990"))
    assert not schema.validate(wrong)  # 1.0's identity-number type, copied in, still holds
    older = etree.parse(str(EXAMPLES / "canonical" / "MarriageRegistered.xml")).getroot()
    assert not schema.validate(older)

    default = service.GetSchema("MarriageRegistered")
    assert (default.schemaVersion, default.namespace) == ("1.0", "urn:govhub:canonical:1")
    assert default.schema == service.GetSchema("MarriageRegistered", schemaVersion="1.0").schema


def test_getschema_of_an_unknown_version_is_a_fault_naming_the_versions_offered(
    stack: HubStack,
) -> None:
    with pytest.raises(Fault) as refused:
        stack.client().service.GetSchema("MarriageRegistered", schemaVersion="3.0")
    assert refused.value.code.endswith("Client.SchemaInvalid")
    assert detail(refused.value)["path"] == "GetSchema/schemaVersion"
    assert "MarriageRegistered has no schema version 3.0; this hub offers 1.0, 2.0" in (
        refused.value.message
    )


def test_getschema_of_an_unknown_type_is_a_fault_naming_the_known_ones(stack: HubStack) -> None:
    with pytest.raises(Fault) as refused:
        stack.client().service.GetSchema("BirthRegistered")
    assert refused.value.code.endswith("Client.UnknownMessageType")
    assert detail(refused.value)["path"] == "GetSchema/messageType"
    assert "MarriageRegistered" in refused.value.message


def test_soap12_clients_get_the_catalogue_too(stack: HubStack) -> None:
    service = stack.client().bind("GovHub", "GovHubSoap12")
    allowed = service.ListServices(department="SOCIAL_SECURITY").allowed
    assert allowed.sends == [*CASE_EVENTS, "InsuredPersonEnrolled"]
    assert "MarriageRegistered" in service.GetSchema("MarriageRegistered").schema


def test_the_wsdl_declares_both_operations_with_typed_messages_and_the_hub_fault(
    stack: HubStack,
) -> None:
    wsdl = etree.fromstring(requests.get(f"{stack.soap_url}?wsdl", timeout=10).content)
    for name in ("ListServices", "GetSchema"):
        operation = wsdl.find(f"{{{WSDL}}}portType/{{{WSDL}}}operation[@name='{name}']")
        assert operation is not None
        assert operation.find(f"{{{WSDL}}}input").get("message") == f"h:{name}Request"
        assert operation.find(f"{{{WSDL}}}fault").get("message") == "h:HubFault"
        for binding in wsdl.findall(f"{{{WSDL}}}binding"):
            assert binding.find(f"{{{WSDL}}}operation[@name='{name}']") is not None


def test_the_answers_match_the_published_schema(stack: HubStack) -> None:
    """What the hub writes is what soap-api.xsd (and so the WSDL) promises."""
    history = HistoryPlugin()
    service = zeep.Client(f"{stack.soap_url}?wsdl", plugins=[history]).service
    service.ListServices(department="MARRIAGE_REGISTRY")
    listed = history.last_received["envelope"].find(f"{{{SOAP11}}}Body")[0]
    service.GetSchema("AddressChanged")
    schema = history.last_received["envelope"].find(f"{{{SOAP11}}}Body")[0]

    for answer in (listed, schema):
        assert API_SCHEMA.validate(answer), API_SCHEMA.error_log


def test_departments_and_routes_added_at_runtime_are_in_the_catalogue(
    stack: HubStack, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    shutil.copytree(EXAMPLES / "departments" / "PUBLIC_SECURITY", package)
    with (package / "department.toml").open("a", encoding="utf-8") as description:
        description.write('\n[[routes]]\nsends = "CaseAccepted"\n')
    (package / "catalogue.toml").write_text(
        '[CaseAccepted]\nprovider = "Public security bureau, Xuanwu district"\n',
        encoding="utf-8",
    )
    data_dir = str(stack.runtime.settings.data_dir)
    for command in (
        ["departments", "register", str(package), "--actor", "admin"],
        ["routes", "add", "AddressChanged", "sends", "SOCIAL_SECURITY", "--actor", "admin"],
    ):
        result = CliRunner().invoke(main, [*command, "--data-dir", data_dir])
        assert result.exit_code == 0, result.output
    client = stack.client().service

    def reloaded() -> Any:
        try:
            catalogue = client.ListServices(department="PUBLIC_SECURITY")
        except Fault:  # the hub has not reloaded its configuration yet
            return None
        return (
            catalogue if "SOCIAL_SECURITY" in by_type(catalogue)["AddressChanged"].senders else None
        )

    catalogue = wait_for(reloaded, 15)
    assert catalogue is not None
    assert catalogue.allowed.receives == ["AddressChanged", "MarriageRegistered"]
    assert catalogue.allowed.sends == ["CaseAccepted"]
    receivers = {
        r.department: r.condition for r in by_type(catalogue)["MarriageRegistered"].receivers
    }
    assert "320102" in receivers["PUBLIC_SECURITY"]  # it receives its district's only
    # The package describes the resource it provides; the shipped entry fills the rest.
    case_accepted = by_type(catalogue)["CaseAccepted"].resource
    assert case_accepted.provider == "Public security bureau, Xuanwu district"
    assert case_accepted.identifier == "GOVHUB/DB-0001"


def test_an_admins_edit_of_the_catalogue_file_is_served_without_a_restart(
    stack: HubStack, admins_file: Path
) -> None:
    client = stack.client().service
    before = by_type(client.ListServices(department="MARRIAGE_REGISTRY"))["DivorceRegistered"]
    admins_file.write_text(
        '[DivorceRegistered]\nidentifier = "320100/MZ-0002"\nopen = "conditional"\n',
        encoding="utf-8",
    )

    after = by_type(client.ListServices(department="MARRIAGE_REGISTRY"))["DivorceRegistered"]

    assert before.resource.identifier == "GOVHUB/MZ-0002"
    assert (after.resource.identifier, after.resource.openType) == ("320100/MZ-0002", "conditional")
    assert after.resource.name == before.resource.name  # the fields it does not give stay
    admins_file.write_text('[DivorceRegistered]\nopen = "sometimes"\n', encoding="utf-8")
    with pytest.raises(Fault) as refused:
        client.ListServices(department="MARRIAGE_REGISTRY")
    assert refused.value.code.endswith("Server.ConfigurationError")
    assert "open must be one of" in refused.value.message
    admins_file.write_text("", encoding="utf-8")


def last_refusal(stack: HubStack) -> Any:
    with stack.runtime.store.engine.connect() as connection:
        return [e for e in audit.entries(connection) if e.action == audit.REFUSED][-1]


def detail(fault: Fault) -> dict[str, str]:
    return {etree.QName(child).localname: child.text or "" for child in fault.detail[0]}
