"""The citizen's data tracker through a running hub: marriages submitted over SOAP and
delivered by the mock departments, a query, an operator's reveal and replay, bodies pruned;
then `govhub tracker` (text, JSON, PDF read back with pypdf), `govhub exemptions grant`, and
GetDataUsage on /soap (1.1 and 1.2) for a citizen portal, its answer valid against its XSD."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
from click.testing import CliRunner, Result
from hubstack import HUSBAND_ID, WIFE_ID, HubStack, header, marriage, running_hub
from lxml import etree
from pypdf import PdfReader
from zeep.exceptions import Fault
from zeep.plugins import HistoryPlugin
from zeep.wsse.username import UsernameToken

from hub.cli import main
from hub.identity import make_number, mask
from hub.operations.prune import prune
from hub.operations.replay import ReplayRequest, replay
from hub.operations.reveal import record_reveal
from hub.resources import XSD_ROOT
from hub.security import audit
from hub.security.admins import AdminStore
from hub.security.credentials import CredentialStore, IssuedSecret
from hub.security.encryption import KeyRing, new_key_text

pytestmark = pytest.mark.slow

KEYS = new_key_text("k1")
NOBODY_ID = make_number("11010119800101", "001")
USAGE_SCHEMA = etree.XMLSchema(etree.parse(str(XSD_ROOT / "hub" / "data-usage.xsd")))
H = "{urn:govhub:hub:1}"
RULES = """
portals = ["TAX"]
[exemptions]
SOCIAL_SECURITY = ["prosecutor-liaison"]
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    folder = tmp_path_factory.mktemp("tracker")
    rules = folder / "tracker.toml"
    rules.write_text(RULES, encoding="utf-8")
    settings = {"query_deadline_seconds": 1.0, "tracker_rules_file": str(rules)}
    with running_hub(folder, encryption_keys=KEYS, **settings) as running:
        accounts = AdminStore(running.runtime.store.engine)
        accounts.add("ops-li", ["read", "tracker"], actor="test-root")
        accounts.add("reader-wu", ["read"], actor="test-root")
        accounts.add("prosecutor-liaison", ["read"], actor="test-root")
        _history(running)
        yield running


def _history(stack: HubStack) -> None:
    """Two marriages naming the husband (delivered to SOCIAL_SECURITY and TAX), a query
    about him by TAX, an operator's reveal and a replay of the first; then every body pruned."""
    store = stack.runtime.store
    first = _married(stack, purpose=f"marriage of {HUSBAND_ID} and {WIFE_ID}")
    _married(stack, purpose="marriage registration, Marriage Registration Regulations art. 7")
    stack.client().service.Query(
        header=header("Query", "TAX", purpose="tax assessment, Tax Collection Law art. 54"),
        request={"subject": HUSBAND_ID, "part": ["address"]},
    )
    record_reveal(store, actor="ops-li", message_ids=[first], reason="court order 7", via="cli")
    replay(
        store,
        stack.runtime.departments,
        ReplayRequest(actor="ops-li", reason="TAX lost it", message_ids=(first,)),
    )
    stack.wait_settled(first)
    prune(store, bodies_older_than=timedelta(0), actor="ops-li")


def _married(stack: HubStack, purpose: str) -> str:
    record = marriage()
    receipt = stack.client().service.Submit(header=header(purpose=purpose), message=record)
    assert stack.wait_settled(receipt.messageId).state == "delivered"
    return str(receipt.messageId)


def govhub(stack: HubStack, *args: str) -> Result:
    settings = stack.runtime.settings
    return CliRunner().invoke(
        main,
        [*args, "--data-dir", str(settings.data_dir)],
        env={
            "GOVHUB_TRACKER_RULES_FILE": settings.tracker_rules_file,
            "GOVHUB_ENCRYPTION_KEYS": KEYS,
        },
    )


def trail(stack: HubStack, person: str = HUSBAND_ID, *more: str) -> list[dict[str, Any]]:
    result = govhub(stack, "tracker", person, "--actor", "ops-li", "--json", *more)
    assert result.exit_code == 0, result.output
    entries: list[dict[str, Any]] = json.loads(result.output)
    return entries


def test_the_trail_names_every_message_query_reveal_and_replay_after_bodies_are_pruned(
    stack: HubStack,
) -> None:
    entries = trail(stack)

    kinds = sorted(entry["kind"] for entry in entries)
    assert kinds == ["message", "message", "query", "replay", "reveal"]
    message = next(e for e in entries if e["kind"] == "message")
    assert message["actor"] == "MARRIAGE_REGISTRY" and message["pruned"] is True
    assert message["what"] == "MarriageRegistered"
    assert {"identityNumber", "name", "birthDate"} <= set(message["fields"])
    assert {leg["department"] for leg in message["legs"]} == {"SOCIAL_SECURITY", "TAX"}
    assert all(leg["state"] == "delivered" and leg["at"] for leg in message["legs"])
    query = next(e for e in entries if e["kind"] == "query")
    assert query["actor"] == "TAX" and query["what"] == "address"
    assert query["purpose"].startswith("tax assessment")
    reveal = next(e for e in entries if e["kind"] == "reveal")
    assert (reveal["actor"], reveal["purpose"]) == ("ops-li", "court order 7")
    replayed = next(e for e in entries if e["kind"] == "replay")
    assert replayed["purpose"] == "TAX lost it"
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)


def test_other_peoples_identity_numbers_are_masked_and_the_subjects_kept(
    stack: HubStack,
) -> None:
    purposes = [e["purpose"] for e in trail(stack) if e["kind"] == "message"]

    named = next(p for p in purposes if "marriage of" in p)
    assert named == f"marriage of {HUSBAND_ID} and {mask(WIFE_ID)}"
    wife_view = [e["purpose"] for e in trail(stack, WIFE_ID) if e["kind"] == "message"]
    assert f"marriage of {mask(HUSBAND_ID)} and {WIFE_ID}" in wife_view


def test_since_leaves_out_older_entries(stack: HubStack) -> None:
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert trail(stack, HUSBAND_ID, "--since", later) == []


def test_each_use_is_audited_and_a_refusal_too(stack: HubStack) -> None:
    assert govhub(stack, "tracker", HUSBAND_ID, "--actor", "ops-li").exit_code == 0
    refused = govhub(stack, "tracker", HUSBAND_ID, "--actor", "reader-wu")
    nobody = govhub(stack, "tracker", HUSBAND_ID, "--actor", "no-such-account")

    assert refused.exit_code == 1
    assert "'tracker' permission" in refused.output and "'tracker'" in nobody.output
    entries = audit_entries(stack)
    looks = [e for e in entries if e.action == "tracker_view"]
    assert looks[-1].actor == "ops-li" and looks[-1].subject == f"person:{mask(HUSBAND_ID)}"
    assert HUSBAND_ID not in looks[-1].subject + looks[-1].details
    refusals = [e for e in entries if e.action == audit.REFUSED and e.actor == "reader-wu"]
    assert refusals and "tracker" in refusals[-1].details


def test_bad_input_an_invalid_number_and_a_person_with_no_entries(stack: HubStack) -> None:
    invalid = govhub(stack, "tracker", HUSBAND_ID[:-1] + "0", "--actor", "ops-li")
    empty = govhub(stack, "tracker", NOBODY_ID, "--actor", "ops-li")

    assert invalid.exit_code == 1 and "check character" in invalid.output
    assert HUSBAND_ID[:-1] not in invalid.output
    assert empty.exit_code == 0 and "no entry" in empty.output


def test_the_pdf_holds_the_trail(stack: HubStack, tmp_path: Path) -> None:
    target = tmp_path / "trail.pdf"
    result = govhub(stack, "tracker", HUSBAND_ID, "--actor", "ops-li", "--pdf", str(target))

    assert result.exit_code == 0, result.output
    text = "".join(page.extract_text() for page in PdfReader(target).pages)
    assert f"Data usage of {HUSBAND_ID}" in text
    for expected in ("MarriageRegistered", "MARRIAGE_REGISTRY", "court order 7", "TAX lost it"):
        assert expected in text
    assert WIFE_ID not in text


_ISSUED: dict[str, IssuedSecret] = {}


def portal(stack: HubStack, *, soap12: bool = False, history: HistoryPlugin | None = None) -> Any:
    """TAX, the configured portal, signed in with its UsernameToken."""
    if "TAX" not in _ISSUED:
        credentials = CredentialStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
        _ISSUED["TAX"] = credentials.issue("TAX", actor="admin-wang")
    issued = _ISSUED["TAX"]
    client = zeep.Client(
        f"{stack.soap_url}?wsdl",
        wsse=UsernameToken(issued.username, issued.secret, use_digest=True),
        plugins=[history] if history else [],
    )
    return client.bind("GovHub", "GovHubSoap12") if soap12 else client.service


def test_get_data_usage_answers_the_citizens_view_paged_and_valid_against_its_schema(
    stack: HubStack,
) -> None:
    history = HistoryPlugin()
    first = portal(stack, history=history).GetDataUsage(
        signedInAs=HUSBAND_ID, identityNumber=HUSBAND_ID, page=1, pageSize=2
    )
    answer = history.last_received["envelope"].find(f".//{H}DataUsage")
    second = portal(stack, soap12=True).GetDataUsage(
        signedInAs=HUSBAND_ID, identityNumber=HUSBAND_ID, page=3, pageSize=2
    )

    USAGE_SCHEMA.assertValid(etree.ElementTree(answer))
    assert first.total == 5 and len(first.entry) == 2 and first.page == 1
    assert len(second.entry) == 1 and second.page == 3
    assert first.entry[0].at >= first.entry[1].at >= second.entry[0].at


def test_get_data_usage_for_a_person_with_no_entries_is_empty(stack: HubStack) -> None:
    answer = portal(stack).GetDataUsage(signedInAs=NOBODY_ID, identityNumber=NOBODY_ID)

    assert answer.total == 0 and not answer.entry


@pytest.mark.parametrize(
    ("signed_in", "asked", "code"),
    [
        (WIFE_ID, HUSBAND_ID, "Client.NotAuthorized"),
        (HUSBAND_ID[:-1] + "0", HUSBAND_ID[:-1] + "0", "Client.InvalidIdentityNumber"),
    ],
)
def test_get_data_usage_refuses_another_persons_data_and_an_invalid_number(
    stack: HubStack, signed_in: str, asked: str, code: str
) -> None:
    with pytest.raises(Fault) as refused:
        portal(stack).GetDataUsage(signedInAs=signed_in, identityNumber=asked)

    assert refused.value.code.endswith(code)
    assert asked not in str(refused.value.message)


def test_get_data_usage_refuses_a_page_size_over_its_bound(stack: HubStack) -> None:
    with pytest.raises(Fault) as refused:
        portal(stack).GetDataUsage(signedInAs=HUSBAND_ID, identityNumber=HUSBAND_ID, pageSize=501)

    assert refused.value.code.endswith("Client.SchemaInvalid")
    assert "500" in refused.value.message


def test_json_and_pdf_together_are_refused(stack: HubStack, tmp_path: Path) -> None:
    both = govhub(
        stack, "tracker", HUSBAND_ID, "--actor", "ops-li", "--json", "--pdf", str(tmp_path / "x")
    )

    assert both.exit_code == 2 and "choose one" in both.output


def test_get_data_usage_refuses_a_department_that_is_no_portal(stack: HubStack) -> None:
    credentials = CredentialStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
    issued = credentials.issue("SOCIAL_SECURITY", actor="admin-wang")
    token = UsernameToken(issued.username, issued.secret, use_digest=True)
    client = zeep.Client(f"{stack.soap_url}?wsdl", wsse=token)

    with pytest.raises(Fault) as refused:
        client.service.GetDataUsage(signedInAs=HUSBAND_ID, identityNumber=HUSBAND_ID)
    with pytest.raises(Fault) as anonymous:
        stack.client().service.GetDataUsage(signedInAs=HUSBAND_ID, identityNumber=HUSBAND_ID)

    assert refused.value.code.endswith("Client.NotAuthorized")
    assert "not a citizen portal" in refused.value.message
    assert anonymous.value.code.endswith("Client.NotAuthenticated")


def test_an_exemption_withholds_the_access_from_the_citizen_and_shows_operators_why(
    stack: HubStack,
) -> None:
    """Last of the trail tests: from here on SOCIAL_SECURITY's access to the wife is exempt."""
    until = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d")
    by_department = govhub(
        stack, *_grant(WIFE_ID, until), "--actor", "SOCIAL_SECURITY", "--reason", "case 114"
    )
    by_liaison = govhub(
        stack, *_grant(WIFE_ID, until), "--actor", "prosecutor-liaison", "--reason", "case 114"
    )

    assert by_department.exit_code == 1 and "may not exempt" in by_department.output
    assert by_liaison.exit_code == 0, by_liaison.output
    operator_view = [e for e in trail(stack, WIFE_ID) if e["kind"] == "message"]
    assert all(e["confidential"][0]["reason"] == "case 114" for e in operator_view)
    citizen = portal(stack).GetDataUsage(signedInAs=WIFE_ID, identityNumber=WIFE_ID)
    reached = {leg.department for entry in citizen.entry for leg in entry.reached}
    assert reached == {"TAX"} and citizen.total == len(trail(stack, WIFE_ID))
    entries = audit_entries(stack)
    granted = [e for e in entries if e.action == "tracker_exemption"]
    assert len(granted) == 1 and granted[0].actor == "prosecutor-liaison"
    assert any(e.action == audit.REFUSED and e.actor == "SOCIAL_SECURITY" for e in entries)


def audit_entries(stack: HubStack) -> list[audit.AuditEntry]:
    with stack.runtime.store.engine.connect() as connection:
        return list(audit.entries(connection))


def _grant(person: str, until: str) -> tuple[str, ...]:
    return ("exemptions", "grant", person, "--department", "SOCIAL_SECURITY", "--until", until)


def test_the_wsdl_declares_get_data_usage(stack: HubStack) -> None:
    wsdl = requests.get(f"{stack.soap_url}?wsdl", timeout=10).text
    assert 'name="GetDataUsage"' in wsdl and 'name="DataUsage"' in wsdl
