"""`govhub validate` answers as the hub would: every example and a set of broken documents go
through both, and the verdicts agree.

The hub's verdict is its real ingress (``Ingress.prepare_canonical`` for a Submit,
``prepare_native`` for a department's push: the parser, schemas, routes, mappings, identity
and date checks), stopping before the store: a case event's rules depend on the cases the
hub already holds, which a file alone cannot say.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hubstack import HubStack, running_hub
from lxml import etree

from adapters import soap_envelope
from adapters.soap_transport import encode_xml
from hub.cli import main
from hub.errors import ClientError
from hub.resources import CANONICAL_NAMESPACE, HEADER_NAMESPACE

pytestmark = pytest.mark.slow  # a real hub, mock departments, processes

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
MARRIAGE = (EXAMPLES / "canonical" / "MarriageRegistered.xml").read_text("utf-8")
MARRIAGE_RECORD = MARRIAGE.split("?>", 1)[1]


def _submit(
    record: str = MARRIAGE_RECORD,
    soap: str = SOAP11,
    sender: str = "MARRIAGE_REGISTRY",
    message_type: str = "MarriageRegistered",
    version: str = "1.0",
) -> str:
    return f"""<s:Envelope xmlns:s="{soap}" xmlns:h="{HEADER_NAMESPACE}"><s:Body><h:Submit>
  <h:header><h:messageId>{uuid.uuid4()}</h:messageId><h:sender>{sender}</h:sender>
    <h:messageType>{message_type}</h:messageType><h:schemaVersion>{version}</h:schemaVersion>
    <h:idempotencyKey>k-{uuid.uuid4()}</h:idempotencyKey>
    <h:purpose>marriage registration</h:purpose>
    <h:sentAt>2026-05-20T09:30:00+08:00</h:sentAt></h:header>
  <h:message>{record}</h:message></h:Submit></s:Body></s:Envelope>"""


TAX_PUSH = (EXAMPLES / "mappings" / "TAX" / "inbound" / "AddressChanged.in.json").read_text("utf-8")
BROKEN: dict[str, str] = {
    "any JSON object": '{"foo": 1}',
    "a JSON list": "[]",
    "an empty JSON object": "{}",
    "a tax push without its taxpayer": TAX_PUSH.replace('"taxpayer"', '"payer"'),
    "a Submit envelope the hub accepts": _submit(),
    "a SOAP 1.2 Submit envelope": _submit(soap=SOAP12),
    "a Submit with a JAXB date": _submit(
        MARRIAGE_RECORD.replace("20</c:registeredOn>", "20+08:00</c:registeredOn>")
    ),
    "a Submit with a wrong check character": _submit(MARRIAGE_RECORD.replace("0281<", "0282<")),
    "a Submit with a year past 9999": _submit(
        MARRIAGE_RECORD.replace("2026-05-20<", "12026-05-20<")
    ),
    "a Submit of another schema version": _submit(version="2.0"),
    "a Submit whose header names another type": _submit(message_type="DivorceRegistered"),
    "a Submit from an unknown sender": _submit(sender="POLICE"),
    "a Submit from a department that may not send it": _submit(sender="TAX"),
    "a Submit without its record": _submit(record=""),
    "an empty SOAP body": f'<s:Envelope xmlns:s="{SOAP11}"><s:Body/></s:Envelope>',
    "a canonical record with a wrong code": MARRIAGE.replace(
        "<c:maritalStatus>20", "<c:maritalStatus>77"
    ),
    "not XML at all": "<c:MarriageRegistered",
    "an element nobody sends": "<unknown xmlns='urn:nobody'/>",
}


def _files() -> list[Path]:
    kinds = (".xml", ".json", ".xsd", ".wsdl")  # documents; mapping and department TOML are not
    return sorted(p for p in EXAMPLES.rglob("*") if p.suffix in kinds)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with running_hub(tmp_path_factory.mktemp("hub")) as running:
        yield running


def _header(sender: str, message_type: str) -> etree._Element:
    header = etree.Element(f"{{{HEADER_NAMESPACE}}}header")
    fields = {
        "messageId": str(uuid.uuid4()),
        "sender": sender,
        "messageType": message_type,
        "schemaVersion": "1.0",
        "idempotencyKey": str(uuid.uuid4()),
        "purpose": "a test of govhub validate",
        "sentAt": datetime.now(UTC).isoformat(),
    }
    for name, value in fields.items():
        etree.SubElement(header, f"{{{HEADER_NAMESPACE}}}{name}").text = value
    return header


def _ways_in(stack: HubStack, data: bytes) -> Iterator[Callable[[], object]]:
    """Every way a department could hand the hub these bytes."""
    ingress, departments = stack.runtime.ingress, list(stack.runtime.departments)
    if data.lstrip()[:1] in (b"{", b"["):
        for config in departments:
            for route in config.inbound if config.adapter == "rest" else ():
                headers = {"Content-Type": "application/json"}
                yield lambda c=config, r=route, h=headers: ingress.prepare_native(
                    c.code, data, h, r
                )
        return
    try:
        root = etree.fromstring(data)
    except etree.XMLSyntaxError:
        root = etree.Element("unparsable")
    body = root.find(f"{{{etree.QName(root).namespace}}}Body")
    payload = body[0] if body is not None and len(body) else None
    if payload is not None and payload.tag == f"{{{HEADER_NAMESPACE}}}Submit":
        header = payload.find(f"{{{HEADER_NAMESPACE}}}header")
        wrapper = payload.find(f"{{{HEADER_NAMESPACE}}}message")
        records = [] if wrapper is None else list(wrapper)
        record = records[0] if records else etree.Element("nothing")
        yield lambda: ingress.prepare_canonical(root, header, record, data)
    elif etree.QName(root).namespace == CANONICAL_NAMESPACE:
        kind = etree.QName(root).localname
        for config in departments:  # as the record of a Submit, from whoever may send it
            yield lambda c=config: ingress.prepare_canonical(
                root, _header(c.code, kind), root, data
            )
    for config in departments:  # a SOAP department's push, in its envelope and encoding
        if config.adapter != "soap":
            continue
        if payload is not None or body is not None:
            pushed = data
        else:
            envelope = soap_envelope.build(config.soap_version, "k", copy.deepcopy(root))
            pushed = encode_xml(envelope, config.encoding)
        headers = {"Content-Type": f"text/xml; charset={config.encoding}"}
        yield lambda c=config, p=pushed, h=headers: ingress.prepare_native(c.code, p, h, "/")


def _hub_takes(stack: HubStack, data: bytes) -> bool:
    for attempt in _ways_in(stack, data):
        try:
            attempt()
            return True
        except ClientError:
            continue
    return False


def _validate_says(path: Path, stack: HubStack | None = None) -> bool:
    """`govhub validate`, against the stack's hub (its database too), else the files alone."""
    data_dir = stack.runtime.settings.data_dir if stack is not None else path.parent / "none"
    result = CliRunner().invoke(main, ["validate", str(path), "--data-dir", str(data_dir)])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code == 0


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_validate_and_the_hub_agree_on_every_example(stack: HubStack, path: Path) -> None:
    assert _validate_says(path, stack) == _hub_takes(stack, path.read_bytes())


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_validate_and_the_hub_agree_on_broken_documents(
    stack: HubStack, tmp_path: Path, name: str
) -> None:
    path = tmp_path / ("doc.json" if BROKEN[name].lstrip()[:1] in "{[" else "doc.xml")
    path.write_text(BROKEN[name], "utf-8")
    assert _validate_says(path, stack) == _hub_takes(stack, path.read_bytes())


@pytest.mark.parametrize(
    ("name", "valid", "says"),
    [
        ("any JSON object", False, "INVALID"),
        ("a JSON list", False, "the hub takes a JSON object, not a list"),
        ("a Submit envelope the hub accepts", True, "Submit of MarriageRegistered from"),
        ("a Submit with a JAXB date", True, "Submit of MarriageRegistered"),
        ("a Submit from a department that may not send it", False, "TAX"),
        ("a Submit with a wrong check character", False, "check character"),
    ],
)
def test_validate_says_what_the_issue_reported_wrongly(
    tmp_path: Path, name: str, valid: bool, says: str
) -> None:
    path = tmp_path / ("doc.json" if BROKEN[name].lstrip()[:1] in "{[" else "doc.xml")
    path.write_text(BROKEN[name], "utf-8")
    result = CliRunner().invoke(main, ["validate", str(path), "--data-dir", str(tmp_path)])
    assert (result.exit_code == 0) is valid, result.output
    assert says in result.output


def _registry_push(soap_version: str) -> bytes:
    record = etree.fromstring(
        (EXAMPLES / "mappings/MARRIAGE_REGISTRY/inbound/MarriageRegistered.in.xml").read_bytes()
    )
    return encode_xml(soap_envelope.build(soap_version, "k-1", record), "GB18030")


@pytest.mark.parametrize(("soap_version", "valid"), [("1.1", True), ("1.2", False)])
def test_a_department_push_in_an_envelope_must_be_in_the_soap_version_it_speaks(
    stack: HubStack, tmp_path: Path, soap_version: str, valid: bool
) -> None:
    path = tmp_path / "push.xml"
    path.write_bytes(_registry_push(soap_version))  # the marriage registry speaks SOAP 1.1

    assert _validate_says(path, stack) is valid
    assert _hub_takes(stack, path.read_bytes()) is valid


def test_a_department_registered_at_runtime_is_known_to_validate_through_the_hubs_database(
    tmp_path: Path,
) -> None:
    """A sender that only the hub's database knows of (a route changed at runtime)."""
    data_dir = str(tmp_path / "hub")
    submit = tmp_path / "submit.xml"
    submit.write_text(
        _submit(
            message_type="AddressChanged",
            sender="SOCIAL_SECURITY",
            record=(
                (EXAMPLES / "canonical" / "AddressChanged.xml").read_text("utf-8").split("?>", 1)[1]
            ),
        ),
        "utf-8",
    )
    runner = CliRunner()
    before = runner.invoke(main, ["validate", str(submit), "--data-dir", data_dir])
    assert before.exit_code == 1 and "SOCIAL_SECURITY" in before.output

    added = ["routes", "add", "AddressChanged", "sends", "SOCIAL_SECURITY", "--actor", "admin"]
    assert runner.invoke(main, [*added, "--data-dir", data_dir]).exit_code == 0

    after = runner.invoke(main, ["validate", str(submit), "--data-dir", data_dir])
    assert after.exit_code == 0, after.output
    assert "Submit of AddressChanged from SOCIAL_SECURITY" in after.output
    assert "WARNING" not in after.output
