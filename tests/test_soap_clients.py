"""The SOAP clients department systems use, each generated from /soap?wsdl alone, against
the running hub: zeep and suds (Python), node's `soap` (npm) and a JAX-WS client made by
`wsimport` (Java). Each submits a marriage with Chinese names, repeats it (a duplicate),
reads the status, and has a record refused, reading the fault's code, over SOAP 1.1 and,
where the client speaks it, 1.2."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hubstack import HUSBAND_ID, HubStack, header, marriage, running_hub
from suds.client import Client as SudsClient
from tools import require_tools, run

pytestmark = pytest.mark.slow

CLIENTS = Path(__file__).resolve().parent / "clients"
HUB = "urn:govhub:hub:1"
WRONG_CHECK = HUSBAND_ID[:17] + ("0" if HUSBAND_ID[17] != "0" else "1")
JAXWS_CLASSPATH = "/usr/share/java/jaxws-tools.jar"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with running_hub(tmp_path_factory.mktemp("clients")) as running:
        yield running


def test_suds_submits_repeats_reads_the_status_and_reads_a_fault_code(stack: HubStack) -> None:
    client = SudsClient(f"{stack.soap_url}?wsdl", cache=None, faults=False)
    fields, record = header(), marriage()["MarriageRegistered"]
    fields["sentAt"] = fields["sentAt"].isoformat()
    message = {"MarriageRegistered": record}

    status_code, receipt = client.service.Submit(header=fields, message=message)
    _, again = client.service.Submit(
        header={**fields, "messageId": str(uuid.uuid4())}, message=message
    )
    _, status = client.service.GetStatus(receipt.messageId)
    refused_record = {**record, "partyA": {**record["partyA"], "identityNumber": WRONG_CHECK}}
    refused_code, refused = client.service.Submit(
        header={**fields, "messageId": str(uuid.uuid4()), "idempotencyKey": "other"},
        message={"MarriageRegistered": refused_record},
    )

    assert (status_code, receipt.state, receipt.duplicate) == (200, "accepted", False)
    assert sorted(receipt.receivers) == ["SOCIAL_SECURITY", "TAX"]
    assert (again.messageId, again.duplicate) == (receipt.messageId, True)
    assert (status.sender, status.messageType) == ("MARRIAGE_REGISTRY", "MarriageRegistered")
    assert refused_code == 500
    assert refused.faultcode.split(":")[-1] == "Client.InvalidIdentityNumber"
    assert refused.detail.HubFault.code == "Client.InvalidIdentityNumber"


@pytest.fixture(scope="module")
def node_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tools("node", "npm")
    folder = tmp_path_factory.mktemp("node")
    run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(folder), "soap@1"], folder)
    script = folder / "govhub-client.js"
    script.write_text((CLIENTS / "govhub-client.js").read_text("utf-8"), "utf-8")
    return script


@pytest.mark.parametrize("version", ["11", "12"])
def test_node_soap_submits_repeats_reads_the_status_and_reads_a_fault_code(
    stack: HubStack, node_client: Path, version: str
) -> None:
    output = run(["node", str(node_client), f"{stack.soap_url}?wsdl", version], node_client.parent)
    seen = json.loads(output)

    assert (seen["submit"]["state"], seen["submit"]["duplicate"]) == ("accepted", False)
    assert sorted(seen["submit"]["receivers"]) == ["SOCIAL_SECURITY", "TAX"]
    assert seen["duplicate"]["messageId"] == seen["submit"]["messageId"]
    assert seen["duplicate"]["duplicate"] is True
    assert seen["status"]["sender"] == "MARRIAGE_REGISTRY"
    refused = seen["refused"]
    if version == "11":
        assert refused["status"] == 500
        assert refused["code"].split(":")[-1] == "Client.InvalidIdentityNumber"
    else:
        assert refused["status"] == 400
        assert refused["code"].split(":")[-1] == "Sender"
        assert refused["subcode"].split(":")[-1] == "InvalidIdentityNumber"


JAXWS_BINDINGS = """<jaxws:bindings wsdlLocation="{wsdl}"
    xmlns:jaxws="http://java.sun.com/xml/ns/jaxws" xmlns:jaxb="http://java.sun.com/xml/ns/jaxb"
    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <jaxws:package name="govhub.client"/>
  <jaxws:bindings node="wsdl:definitions/wsdl:types/xs:schema[@targetNamespace='{hub}']">
    <jaxb:schemaBindings><jaxb:package name="govhub.client"/></jaxb:schemaBindings>
  </jaxws:bindings>
  <jaxws:bindings node="wsdl:definitions/wsdl:types/xs:schema[@targetNamespace='{c1}']">
    <jaxb:schemaBindings><jaxb:package name="govhub.client"/></jaxb:schemaBindings>
  </jaxws:bindings>
  <jaxws:bindings node="wsdl:definitions/wsdl:types/xs:schema[@targetNamespace='{c2}']">
    <jaxb:schemaBindings><jaxb:package name="govhub.client.v2"/></jaxb:schemaBindings>
  </jaxws:bindings>
</jaxws:bindings>
"""


@pytest.fixture(scope="module")
def java_client(stack: HubStack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """wsimport's client of the hub's WSDL (-extension: it generates SOAP 1.2 ports only
    with it), compiled with the test's main class."""
    require_tools("wsimport", "javac", "java")
    folder = tmp_path_factory.mktemp("java")
    (folder / "gen").mkdir()
    # One Java package for everything, except canonical 2.0 (hub/versions): its records have
    # 1.0's names (MarriageRegistered, Person), so they get a package of their own.
    bindings = folder / "versions.xjb"
    namespaces = {"hub": HUB, "c1": "urn:govhub:canonical:1", "c2": "urn:govhub:canonical:2"}
    wsdl = f"{stack.soap_url}?wsdl"
    bindings.write_text(JAXWS_BINDINGS.format(wsdl=wsdl, **namespaces), "utf-8")
    wsimport = ["wsimport", "-extension", "-Xnocompile", "-d", "gen"]
    warnings = run([*wsimport, "-b", bindings.name, f"{stack.soap_url}?wsdl"], folder)
    # The one warning JAX-WS gives for any SOAP 1.2 binding in a WSDL 1.1 document.
    complaints = [line for line in warnings.splitlines() if line.startswith("[")]
    assert complaints == [
        '[WARNING] SOAP port "GovHubSoap12": uses a non-standard SOAP 1.2 binding.'
    ], warnings
    sources = sorted(str(path) for path in (folder / "gen").rglob("*.java"))
    main = folder / "GovHubClient.java"
    main.write_text((CLIENTS / "GovHubClient.java").read_text("utf-8"), "utf-8")
    javac = ["javac", "-encoding", "UTF-8", "-nowarn", "-cp", JAXWS_CLASSPATH, "-d", "classes"]
    run([*javac, *sources, str(main)], folder)
    return folder


@pytest.mark.parametrize("version", ["11", "12"])
def test_a_wsimport_client_submits_repeats_reads_the_status_and_reads_the_fault_qname(
    stack: HubStack, java_client: Path, version: str
) -> None:
    classpath = f"classes:{JAXWS_CLASSPATH}"
    command = ["java", "-cp", classpath, "GovHubClient", f"{stack.soap_url}?wsdl", version]
    lines = dict(line.split(" ", 1) for line in run(command, java_client).splitlines())

    assert lines["submit"] == "accepted false SOCIAL_SECURITY,TAX"
    assert lines["duplicate"] == "true true"
    assert lines["status"] == "MARRIAGE_REGISTRY MarriageRegistered"
    path = "Submit/message/MarriageRegistered/partyA/identityNumber"
    assert lines["refused"] == f"Client.InvalidIdentityNumber {path}"
    if version == "11":
        assert lines["qname"] == "Client.NotFound"
    else:
        assert lines["qname"] == f"Sender {HUB} NotFound"
