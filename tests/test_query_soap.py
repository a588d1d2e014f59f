"""Query on /soap through the running hub, a zeep client made from the WSDL and the three mock
departments answering from their own registers in their own formats (the marriage registry
SOAP 1.1 in GB18030, social security SOAP 1.2, tax REST/JSON): one CitizenDossier."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import zeep
from click.testing import CliRunner
from hubstack import HUSBAND_ID, WIFE_ID, HubStack, header, running_hub
from lxml import etree
from zeep.exceptions import Fault
from zeep.plugins import HistoryPlugin
from zeep.wsse.username import UsernameToken

from hub.cli import main
from hub.identity import make_number, mask
from hub.resources import XSD_ROOT
from hub.security import audit
from hub.security.credentials import CredentialStore
from hub.security.encryption import KeyRing, new_key_text

pytestmark = pytest.mark.slow

NOBODY_ID = make_number("11010119800101", "001")
LODGER_ID = make_number("11010219850606", "123")
DOSSIER_SCHEMA = etree.XMLSchema(etree.parse(str(XSD_ROOT / "canonical" / "canonical.xsd")))
CANONICAL = "urn:govhub:canonical:1"
KEYS = new_key_text("k1")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    folder = tmp_path_factory.mktemp("query")
    settings = {"query_deadline_seconds": 1.0, "query_max_deadline_seconds": 1.5}
    with running_hub(folder, encryption_keys=KEYS, **settings) as running:
        enter(running, "MARRIAGE_REGISTRY", HUSBAND_ID, "maritalStatus", "已婚", "2026-05-20")
        enter(running, "SOCIAL_SECURITY", HUSBAND_ID, "socialInsurance", "INSURED", "2019-03-01")
        enter(running, "TAX", HUSBAND_ID, "address", "110105 朝阳区建国路1号", "2024-01-10")
        new_address = "110108 海淀区中关村2号"
        enter(running, "SOCIAL_SECURITY", HUSBAND_ID, "address", new_address, "2025-06-01")
        enter(running, "MARRIAGE_REGISTRY", WIFE_ID, "maritalStatus", "已婚", "not a date")
        enter(running, "TAX", WIFE_ID, "address", "110105 朝阳区建国路1号", "2024-01-10")
        enter(running, "TAX", LODGER_ID, "address", "110102 西城区1号", "10.01.2024")
        enter(running, "SOCIAL_SECURITY", LODGER_ID, "address", "110102 西城区2号", "2023-03-03")
        yield running


def enter(stack: HubStack, code: str, number: str, topic: str, value: str, as_of: str) -> None:
    """The department's clerk records what it knows about a person."""
    record = {"idNumber": number, "topic": topic, "value": value, "asOf": as_of}
    url = stack.mocks.running[code].url + "/query/records"
    requests.post(url, json=record, timeout=5).raise_for_status()


def faults(stack: HubStack, code: str, **settings: Any) -> None:
    url = stack.mocks.running[code].url + "/_control/faults"
    requests.post(url, json=settings, timeout=5).raise_for_status()


def ask(stack: HubStack, subject: str, *parts: str, sender: str = "TAX", **more: Any) -> Any:
    return stack.client().service.Query(
        header=header("Query", sender, purpose="tax assessment, Tax Collection Law art. 54"),
        request={"subject": subject, "part": list(parts), **more},
    )


def sections(dossier: Any) -> dict[str, Any]:
    return {section.part: section for section in dossier.section}


def test_one_query_gives_every_part_from_its_department_in_one_dossier(stack: HubStack) -> None:
    dossier = ask(stack, HUSBAND_ID)

    assert dossier.subject == HUSBAND_ID and dossier.requester == "TAX"
    assert dossier.complete is True
    by_part = sections(dossier)
    assert list(by_part) == ["maritalStatus", "socialInsurance", "address"]
    marital = by_part["maritalStatus"]
    assert [(s.department, s.status) for s in marital.source] == [("MARRIAGE_REGISTRY", "ok")]
    assert marital.source[0].answeredAt is not None
    assert [(v._value_1, v.current) for v in marital.value] == [("married", True)]
    assert by_part["socialInsurance"].value[0]._value_1 == "insured"


def test_the_log_line_of_a_query_masks_the_identity_number(
    stack: HubStack, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="hub.query.service"):
        dossier = ask(stack, HUSBAND_ID, "maritalStatus")

    line = next(r.getMessage() for r in caplog.records if dossier.queryId in r.getMessage())
    assert HUSBAND_ID not in line
    assert mask(HUSBAND_ID) in line and "TAX" in line and "maritalStatus" in line


def test_two_addresses_are_both_kept_and_the_latest_is_current(stack: HubStack) -> None:
    address = sections(ask(stack, HUSBAND_ID, "address"))["address"]

    assert address.merge == "latest"
    kept = {(v.department, str(v.asOf), v._value_1, v.current) for v in address.value}
    assert kept == {
        ("TAX", "2024-01-10", "110105 朝阳区建国路1号", False),
        ("SOCIAL_SECURITY", "2025-06-01", "110108 海淀区中关村2号", True),
    }


def test_the_dossier_is_valid_against_its_canonical_schema(stack: HubStack) -> None:
    history = HistoryPlugin()
    client = stack.client()
    client.plugins.append(history)
    client.service.Query(
        header=header("Query", "TAX", purpose="tax assessment"),
        request={"subject": HUSBAND_ID},
    )
    dossier = history.last_received["envelope"].find(f".//{{{CANONICAL}}}CitizenDossier")
    DOSSIER_SCHEMA.assertValid(dossier)


def test_a_person_a_department_does_not_know_is_marked_not_found(stack: HubStack) -> None:
    dossier = ask(stack, NOBODY_ID)

    statuses = {(s.part, src.department, src.status) for s in dossier.section for src in s.source}
    assert statuses == {
        ("maritalStatus", "MARRIAGE_REGISTRY", "notFound"),
        ("socialInsurance", "SOCIAL_SECURITY", "notFound"),
        ("address", "TAX", "notFound"),
        ("address", "SOCIAL_SECURITY", "notFound"),
    }
    assert all(not s.value for s in dossier.section)


def test_an_answer_that_breaks_its_contract_is_marked_error_and_the_others_kept(
    stack: HubStack,
) -> None:
    by_part = sections(ask(stack, WIFE_ID, "maritalStatus", "address"))

    marital = by_part["maritalStatus"].source[0]
    assert marital.status == "error"
    assert marital.detail.startswith("answer fails departments/query-answer.xsd")
    assert "Answer/record/asOf" in marital.detail
    assert by_part["address"].value[0]._value_1 == "110105 朝阳区建国路1号"


def test_a_json_answer_that_fails_its_schema_is_marked_error_and_the_other_source_kept(
    stack: HubStack,
) -> None:
    address = sections(ask(stack, LODGER_ID, "address"))["address"]

    tax, social = address.source
    assert (tax.department, tax.status) == ("TAX", "error")
    assert tax.detail.startswith("answer fails departments/TAX/query-answer.json")
    assert social.status == "ok"
    assert [(v.department, v._value_1, v.current) for v in address.value] == [
        ("SOCIAL_SECURITY", "110102 西城区2号", True)
    ]


def test_a_slow_source_is_marked_timeout_after_the_deadline_not_waited_for(
    stack: HubStack,
) -> None:
    faults(stack, "SOCIAL_SECURITY", slow=3)
    try:
        dossier = ask(stack, HUSBAND_ID, "maritalStatus", "socialInsurance", deadlineMillis=400)
    finally:
        faults(stack, "SOCIAL_SECURITY", slow=0)
    by_part = sections(dossier)
    assert dossier.complete is False
    assert by_part["socialInsurance"].source[0].status == "timeout"
    assert not by_part["socialInsurance"].value
    assert by_part["maritalStatus"].value[0]._value_1 == "married"


def test_a_deadline_over_the_hubs_bound_is_cut_to_it(stack: HubStack) -> None:
    faults(stack, "SOCIAL_SECURITY", slow=3)
    try:
        dossier = ask(stack, HUSBAND_ID, "socialInsurance", deadlineMillis=60_000)
    finally:
        faults(stack, "SOCIAL_SECURITY", slow=0)
    assert sections(dossier)["socialInsurance"].source[0].status == "timeout"


def test_every_source_down_gives_a_dossier_with_every_section_marked(stack: HubStack) -> None:
    for code in ("MARRIAGE_REGISTRY", "SOCIAL_SECURITY", "TAX"):
        faults(stack, code, down=True)
    try:
        dossier = ask(stack, HUSBAND_ID)
    finally:
        for code in ("MARRIAGE_REGISTRY", "SOCIAL_SECURITY", "TAX"):
            faults(stack, code, down=False)
    statuses = [src.status for section in dossier.section for src in section.source]
    assert statuses == ["error"] * 4
    assert dossier.complete is False


@pytest.mark.parametrize(
    ("subject", "parts", "sender", "code", "path", "named"),
    [
        (HUSBAND_ID[:-1] + "0", [], "TAX", "InvalidIdentityNumber", "Query/request/subject", ""),
        (HUSBAND_ID, ["shoeSize"], "TAX", "UnknownPart", "Query/request/part", "shoeSize"),
        (
            HUSBAND_ID,
            ["address", "socialInsurance"],
            "SOCIAL_SECURITY",
            "NotAuthorized",
            "Query/request/part",
            "socialInsurance",
        ),
    ],
)
def test_bad_requests_are_refused_with_the_field_and_what_is_wrong(
    stack: HubStack, subject: str, parts: list[str], sender: str, code: str, path: str, named: str
) -> None:
    with pytest.raises(Fault) as refused:
        ask(stack, subject, *parts, sender=sender)

    assert refused.value.code.endswith(f"Client.{code}")
    detail = {etree.QName(child).localname: child.text for child in refused.value.detail[0]}
    assert detail["path"] == path
    assert named in refused.value.message


def test_a_query_without_a_purpose_is_refused(stack: HubStack) -> None:
    with pytest.raises(Fault) as refused:
        stack.client().service.Query(
            header=header("Query", "TAX", purpose=" "), request={"subject": HUSBAND_ID}
        )
    assert refused.value.code.endswith("Client.SchemaInvalid")
    assert "purpose" in refused.value.message


def test_query_async_returns_an_id_at_once_and_the_dossier_later(stack: HubStack) -> None:
    service = stack.client().service
    query_id = service.QueryAsync(
        header=header("Query", "TAX", purpose="tax assessment"),
        request={"subject": HUSBAND_ID, "part": ["maritalStatus"]},
    )

    dossier = service.GetQueryResult(queryId=query_id)
    assert dossier.queryId == query_id
    assert sections(dossier)["maritalStatus"].value[0]._value_1 == "married"
    with pytest.raises(Fault) as unknown:
        service.GetQueryResult(queryId="no-such-query")
    assert unknown.value.code.endswith("Client.NotFound")


def test_each_query_is_recorded_for_operators_with_the_subject_masked(stack: HubStack) -> None:
    dossier = stack.client().service.Query(
        header=header("Query", "SOCIAL_SECURITY", purpose="pension claim 2026-0042"),
        request={"subject": WIFE_ID, "part": ["address"]},
    )
    data_dir = ["--data-dir", str(stack.runtime.settings.data_dir)]
    cli = CliRunner(env={"GOVHUB_ENCRYPTION_KEYS": KEYS})  # the key the subject is hashed with

    listed = cli.invoke(
        main,
        [
            "queries",
            "list",
            "--subject",
            WIFE_ID,
            "--requester",
            "SOCIAL_SECURITY",
            "--json",
            *data_dir,
        ],
    )
    assert listed.exit_code == 0, listed.output
    records = json.loads(listed.output)
    assert [r["id"] for r in records] == [dossier.queryId]
    assert WIFE_ID not in listed.output
    assert records[0]["subject"] == mask(WIFE_ID)
    assert (records[0]["requester"], records[0]["parts"]) == ("SOCIAL_SECURITY", ["address"])

    shown = cli.invoke(main, ["queries", "show", dossier.queryId, *data_dir])
    assert shown.exit_code == 0, shown.output
    assert "pension claim 2026-0042" in shown.output
    assert "address          TAX                  ok             1 value(s)" in shown.output
    assert "address          SOCIAL_SECURITY      notFound       0 value(s)" in shown.output


def test_showing_an_unknown_query_says_so(stack: HubStack) -> None:
    data_dir = ["--data-dir", str(stack.runtime.settings.data_dir)]
    shown = CliRunner().invoke(main, ["queries", "show", "no-such-query", *data_dir])
    assert shown.exit_code == 1
    assert "no query no-such-query" in shown.output


def test_soap12_clients_query_too(stack: HubStack) -> None:
    service = stack.client().bind("GovHub", "GovHubSoap12")
    dossier = service.Query(
        header=header("Query", "TAX", purpose="tax assessment"),
        request={"subject": HUSBAND_ID, "part": ["socialInsurance"]},
    )
    assert sections(dossier)["socialInsurance"].value[0]._value_1 == "insured"


def test_a_refused_query_is_in_the_audit_log(stack: HubStack) -> None:
    with pytest.raises(Fault):
        ask(stack, HUSBAND_ID, "socialInsurance", sender="MARRIAGE_REGISTRY")

    with stack.runtime.store.engine.connect() as connection:
        last = [e for e in audit.entries(connection) if e.action == audit.REFUSED][-1]
    assert (last.actor, last.subject) == ("MARRIAGE_REGISTRY", "Query")
    assert json.loads(last.details)["code"] == "Client.NotAuthorized"


def test_a_department_with_credentials_queries_as_the_department_its_token_proves(
    stack: HubStack,
) -> None:
    """Last in this file: from here on MARRIAGE_REGISTRY must authenticate."""
    credentials = CredentialStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
    issued = credentials.issue("MARRIAGE_REGISTRY", actor="admin-wang")
    token = UsernameToken(issued.username, issued.secret, use_digest=True)
    signed_in = zeep.Client(f"{stack.soap_url}?wsdl", wsse=token).service
    purpose = "marriage registration check"

    dossier = signed_in.Query(
        header=header("Query", "MARRIAGE_REGISTRY", purpose=purpose),
        request={"subject": HUSBAND_ID, "part": ["address"]},
    )
    assert dossier.requester == "MARRIAGE_REGISTRY"
    with pytest.raises(Fault) as refused:
        stack.client().service.Query(
            header=header("Query", "MARRIAGE_REGISTRY", purpose=purpose),
            request={"subject": HUSBAND_ID, "part": ["address"]},
        )
    assert refused.value.code.endswith("Client.NotAuthenticated")
