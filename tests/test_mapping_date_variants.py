"""Every date and time the canonical schema accepts reaches every receiver: ingress rewrites
it into the form each mapping reads, or refuses it at the door naming the element."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import pytest
import xmlschema
from hubstack import header, marriage, running_hub
from lxml import etree

from hub.configuration.compile import compile_package
from hub.configuration.package import read_package
from hub.errors import SchemaInvalid
from hub.ingress import checked_canonical
from hub.mapping import Mapping, MappingRegistry, moments
from hub.mapping.formats import make_converter
from hub.mapping.moments import moment_paths
from hub.resources import CANONICAL_NAMESPACE, CANONICAL_SCHEMA
from hub.schemas import default_registry
from hub.store import delivery_key
from hub.xmlparse import parse

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "canonical"
SCHEMAS = default_registry()


def _every_mapping() -> list[Mapping]:
    """The shipped mappings and those of the example department package (household)."""
    package = read_package(ROOT / "examples" / "departments" / "PUBLIC_SECURITY")
    workspace = Path(tempfile.mkdtemp(prefix="govhub-date-variants-"))
    household = compile_package(package, 1, workspace, SCHEMAS).mappings
    return [*MappingRegistry(schemas=SCHEMAS).all(), *household]


MAPPINGS = _every_mapping()

DATES = [
    "2026-05-20",
    "2026-05-20+08:00",  # JAXB's usual idiom
    "2026-05-20Z",
    "2026-05-20-05:00",
    "2026-05-20+14:00",
    "2026-05-20-14:00",
    "0001-01-01",
    "9999-12-31",
]
DATETIMES = [
    "2026-05-20T09:30:00+08:00",
    "2026-05-20T09:30:00Z",
    "2026-05-20T09:30:00",  # no zone: the hub's +08:00
    "2026-05-20T09:30:00.5",
    "2026-05-20T09:30:00.123456789-05:00",
    "2026-05-20T23:59:59.999+14:00",
    "2026-05-20T24:00:00+08:00",  # the end of the day
    "2026-12-31T24:00:00",
    "2026-05-20T00:00:00-14:00",
]
REFUSED = ["-2026-05-20", "12026-05-20", "10000-01-01T00:00:00Z", "9999-12-31T23:00:00"]


def _outbound_mappings() -> list[str]:
    return sorted({m.message_type for m in MAPPINGS if m.direction == "outbound"})


def _variants() -> list[tuple[str, str, str]]:
    cases = []
    for message_type in _outbound_mappings():
        for path, is_date in moment_paths()[f"{{{CANONICAL_NAMESPACE}}}{message_type}"]:
            name = "/".join(etree.QName(step).localname for step in path)
            values = DATES if is_date else DATETIMES
            cases += [(message_type, name, v) for v in values if _accepted(message_type, name, v)]
    return cases


def _accepted(message_type: str, name: str, value: str) -> bool:
    """Whether the canonical schema takes ``value`` there (a field may narrow xs:dateTime,
    e.g. a case event's or a signal's time must carry its zone)."""
    try:
        _record_with(message_type, name, value)
    except SchemaInvalid:
        return False
    return True


def _record_with(message_type: str, name: str, value: str) -> etree._Element:
    """The example record of ``message_type`` with the element at ``name`` (a path of local
    names, e.g. partyA/birthDate) set to ``value``."""
    record = parse((EXAMPLES / f"{message_type}.xml").read_bytes())
    path = "/".join(f"{{{CANONICAL_NAMESPACE}}}{step}" for step in name.split("/"))
    found = record.findall(path)
    assert found, f"{message_type} example has no {name}"
    for element in found:
        element.text = value
    SCHEMAS.validate_xml(record, CANONICAL_SCHEMA)  # the variant is one the schema accepts
    return record


def test_the_variants_cover_every_date_and_time_field_that_is_mapped() -> None:
    fields = {(message_type, name) for message_type, name, _ in _variants()}
    assert ("MarriageRegistered", "registeredOn") in fields
    assert ("AddressChanged", "recordedAt") in fields
    assert ("MarriageRegistered", "partyB/birthDate") in fields
    assert ("InsuredPersonEnrolled", "person/birthDate") in fields
    assert ("SupervisionSignal", "issuedAt") in fields
    assert any(m.department == "PUBLIC_SECURITY" for m in MAPPINGS)


@pytest.mark.parametrize(("message_type", "name", "value"), _variants(), ids=str)
def test_a_schema_valid_date_or_time_translates_through_every_outbound_mapping(
    message_type: str, name: str, value: str
) -> None:
    record = _record_with(message_type, name, value)
    checked_canonical(SCHEMAS, record)
    mappings = [m for m in MAPPINGS if m.message_type == message_type]
    assert mappings
    for mapping in mappings:
        if mapping.direction == "outbound":
            mapping.translate(record)  # validates the department's document too


def test_a_date_with_an_offset_keeps_its_calendar_day() -> None:
    record = _record_with("MarriageRegistered", "registeredOn", "2026-05-20-05:00")
    checked_canonical(SCHEMAS, record)
    tax = next(m for m in MAPPINGS if m.name == "TAX/outbound/MarriageRegistered@1")
    translated = tax.translate(record)
    assert isinstance(translated, dict)
    assert translated["registeredAt"] == "2026-05-20T00:00:00+08:00"


def test_a_time_without_a_zone_is_read_in_beijing_time() -> None:
    record = _record_with("AddressChanged", "recordedAt", "2026-05-20T24:00:00")
    canonical, _ = checked_canonical(SCHEMAS, record)
    assert b"2026-05-21T00:00:00+08:00" in canonical


@pytest.mark.parametrize("value", REFUSED)
def test_a_year_no_department_can_hold_is_refused_at_the_door(value: str) -> None:
    name = "recordedAt" if "T" in value else "effectiveFrom"
    record = _record_with("AddressChanged", name, value)
    with pytest.raises(SchemaInvalid) as refused:
        checked_canonical(SCHEMAS, record)
    assert refused.value.code == "Client.SchemaInvalid"
    assert refused.value.path == f"/AddressChanged/{name}"
    assert value in refused.value.message


@pytest.mark.slow
def test_a_jaxb_date_with_an_offset_submitted_over_soap_reaches_tax(tmp_path: Path) -> None:
    with running_hub(tmp_path) as stack:  # the whole hub: real SOAP, store and workers
        receipt = stack.client().service.Submit(
            header=header(), message=marriage(registeredOn="2026-05-20+08:00")
        )
        assert stack.wait_settled(receipt.messageId).state == "delivered"
        tax = stack.mocks.tax.store.get(delivery_key(receipt.messageId, "TAX")).payload
        assert '"registeredAt": "2026-05-20T00:00:00+08:00"' in tax


def test_iso_datetime_seconds_cuts_the_fraction_for_a_schema_without_one() -> None:
    to_beijing = make_converter("iso-datetime", "iso-datetime-seconds", "+08:00")

    assert to_beijing("2026-05-20T09:30:00.5Z") == "2026-05-20T17:30:00+08:00"
    assert to_beijing("2026-05-20T09:30:00+08:00") == "2026-05-20T09:30:00+08:00"


def test_a_comment_beside_a_date_does_not_stop_it_being_normalised() -> None:
    record = _record_with("MarriageRegistered", "partyA/birthDate", "1990-03-07Z")
    record.insert(0, etree.Comment(" sent by a JAXB client "))
    record.find(f"{{{CANONICAL_NAMESPACE}}}partyA").insert(0, etree.Comment(" person A "))

    canonical, _ = checked_canonical(SCHEMAS, record)

    assert b"<c:birthDate>1990-03-07</c:birthDate>" in canonical


def test_threads_arriving_together_at_start_read_the_canonical_schemas_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first Submits after start each need the moment paths: one thread reads the
    schemas (a fifth of a second), the others wait for it instead of reading them too."""
    real = xmlschema.XMLSchema10
    reads: list[str] = []

    def counted(source: str) -> xmlschema.XMLSchema10:
        reads.append(source)
        return real(source)

    monkeypatch.setattr(moments, "_built", None)
    monkeypatch.setattr(xmlschema, "XMLSchema10", counted)
    moments.moment_paths.cache_clear()
    arrived = threading.Barrier(8)
    normalised: list[bytes] = []

    def first_submit() -> None:
        record = _record_with("AddressChanged", "recordedAt", "2026-05-20T24:00:00")
        arrived.wait()
        moments.normalise_moments(record)
        normalised.append(etree.tostring(record))

    threads = [threading.Thread(target=first_submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    moments.moment_paths.cache_clear()  # later tests read the real schema objects again
    assert len(normalised) == 8
    assert all(b"2026-05-21T00:00:00+08:00" in document for document in normalised)
    assert len(reads) == len(set(reads)), "a canonical schema was read more than once"
