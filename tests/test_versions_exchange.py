"""Canonical versions side by side, end to end: a real hub (HTTP, SOAP, store, bus, workers),
the mock departments on 1.0 and a department registered as a package that declares 2.0 (its
system a small HTTP server here), exchanging MarriageRegistered both ways; then replay of a
message stored under 1.0 after its receiver moved to 2.0."""

from __future__ import annotations

import json
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from hubstack import HUSBAND_ID, WIFE_ID, HubStack, header, marriage, running_hub
from lxml import etree
from sqlalchemy import select

from hub.configuration.package import read_package
from hub.operations.replay import ReplayRequest, replay
from hub.polling import wait_for
from hub.runtime import configuration_admin
from hub.store.models import DeliveryRow, MessageRow

pytestmark = pytest.mark.slow

CODE = "CIVIL_REGISTRY_V2"
HUB = "urn:govhub:hub:1"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
C2 = "urn:govhub:canonical:2"


@dataclass
class Recorder:
    """The 2.0 department's system: keeps every JSON body POSTed to it; answers ``status``."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    url: str = ""


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recorded = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            recorded.bodies.append(json.loads(body))
            self.send_response(recorded.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    recorded.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield recorded
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def stack(tmp_path: Path, database_url: str) -> Iterator[HubStack]:
    """SQLite, and PostgreSQL where it runs (the distributed mark)."""
    with running_hub(tmp_path, database_url=database_url) as running:
        yield running


PACKAGE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["number", "partyA", "partyB"],
    "properties": {"number": {"type": "string"}},
}


_PARTY = {
    "type": "object",
    "properties": {
        key: {"type": "string"} for key in ("id", "familyName", "givenName", "sex", "nationality")
    },
}
PUSH_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["number", "partyA", "partyB"],
    "properties": {
        **{key: {"type": "string"} for key in ("number", "date", "office", "status")},
        "partyA": _PARTY,
        "partyB": _PARTY,
    },
}


def package(folder: Path, endpoint: str, speaks: str) -> Path:
    """A department package whose outbound mapping reads MarriageRegistered ``speaks``."""
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "mappings" / "outbound").mkdir(parents=True)
    (folder / "mappings" / "inbound").mkdir(parents=True)
    (folder / "schemas").mkdir()
    (folder / "department.toml").write_text(
        f'code = "{CODE}"\nname = "Civil registry on the 2.0 model"\nadapter = "rest"\n'
        f'endpoint = "{endpoint}"\ntimeout_seconds = 5\n'
        'operations = { MarriageRegistered = "/marriages" }\n'
        'inbound = { "/marriages" = "MarriageRegistered" }\n'
        "retry = { max_attempts = 1 }\n"
        '[[routes]]\nsends = "MarriageRegistered"\n[[routes]]\nreceives = "MarriageRegistered"\n',
        "utf-8",
    )
    (folder / "schemas" / "marriage.json").write_text(json.dumps(PACKAGE_SCHEMA), "utf-8")
    (folder / "schemas" / "push.json").write_text(json.dumps(PUSH_SCHEMA), "utf-8")
    if speaks == "2.0":
        source = (
            'schema = "canonical/2.0/MarriageRegistered.xsd"\nroot = "c:MarriageRegistered"\n'
            f'namespaces = {{ c = "{C2}" }}'
        )
        parties = {
            f"party{p}.{key}": f"c:party{p}/c:name/c:{key}"
            for p in "AB"
            for key in ("familyName", "givenName")
        } | {f"party{p}.nationality": f"c:party{p}/c:nationality" for p in "AB"}
    else:
        source = (
            'schema = "canonical/canonical.xsd"\nroot = "c:MarriageRegistered"\n'
            'namespaces = { c = "urn:govhub:canonical:1" }'
        )
        parties = {f"party{p}.name": f"c:party{p}/c:name" for p in "AB"}
    fields = {"number": "c:registrationNumber"} | parties
    (folder / "mappings" / "outbound" / "MarriageRegistered.toml").write_text(
        f'[mapping]\ndepartment = "{CODE}"\ndirection = "outbound"\n'
        'message_type = "MarriageRegistered"\nversion = 1\n'
        f'[source]\nformat = "xml"\n{source}\n'
        f'[target]\nformat = "json"\nschema = "departments/{CODE}/marriage.json"\n'
        + "".join(
            f'[[fields]]\nfrom = "{path}"\nto = "{to}"\n'
            + ("required = false\n" if "nationality" in to else "")
            for to, path in fields.items()
        ),
        "utf-8",
    )
    (folder / "mappings" / "inbound" / "MarriageRegistered.toml").write_text(
        INBOUND_2_0.format(code=CODE, c2=C2), "utf-8"
    )
    return folder


# What the department pushes in its own JSON becomes a canonical 2.0 record (it speaks 2.0).
INBOUND_2_0 = (
    '[mapping]\ndepartment = "{code}"\ndirection = "inbound"\n'
    'message_type = "MarriageRegistered"\nversion = 1\n'
    '[source]\nformat = "json"\nschema = "departments/{code}/push.json"\n'
    '[target]\nformat = "xml"\nschema = "canonical/2.0/MarriageRegistered.xsd"\n'
    'root = "c:MarriageRegistered"\nnamespaces = {{ c = "{c2}" }}\n'
    + "".join(
        f'[[fields]]\nfrom = "{source}"\nto = "{target}"\n'
        + ("required = false\n" if "nationality" in source else "")
        for source, target in [
            ("number", "c:registrationNumber"),
            ("date", "c:registeredOn"),
            ("office", "c:registrationOffice"),
            *(
                (f"party{p}.{key}", f"c:party{p}/{path}")
                for p in "AB"
                for key, path in [
                    ("id", "c:identityNumber"),
                    ("familyName", "c:name/c:familyName"),
                    ("givenName", "c:name/c:givenName"),
                    ("sex", "c:sex"),
                    ("nationality", "c:nationality"),
                ]
            ),
            ("status", "c:maritalStatus"),
        ]
    )
)


def register(stack: HubStack, folder: Path) -> None:
    """Registers the package and waits until the hub runs on it (on a second registration
    the department is known already: its code alone does not say the new package is live)."""
    live = stack.runtime.config
    before = live.current.generation
    admin = configuration_admin(stack.runtime.settings, live.loader, live.wake)
    admin.register(read_package(folder), "admin")
    assert wait_for(
        lambda: live.current.generation != before and CODE in stack.runtime.departments.codes(),
        10,
    )


def submit_2_0(stack: HubStack) -> str:
    """The 2.0 department sends a marriage in 2.0 over SOAP (its names split, a nationality)."""
    message_id = str(uuid.uuid4())
    answer = post_2_0(stack, message_id)
    assert answer.status_code == 200, answer.text
    return message_id


def post_2_0(stack: HubStack, message_id: str, nationality: str = "CHN") -> requests.Response:

    def party(letter: str, number: str, family: str, given: str, sex: str) -> str:
        return (
            f"<c:party{letter}><c:identityNumber>{number}</c:identityNumber><c:name>"
            f"<c:familyName>{family}</c:familyName><c:givenName>{given}</c:givenName></c:name>"
            f"<c:sex>{sex}</c:sex><c:birthDate>1990-03-07</c:birthDate>"
            f"<c:nationality>{nationality}</c:nationality></c:party{letter}>"
        )

    body = f"""<s:Envelope xmlns:s="{SOAP11}" xmlns:h="{HUB}"><s:Body><h:Submit>
  <h:header><h:messageId>{message_id}</h:messageId><h:sender>{CODE}</h:sender>
    <h:messageType>MarriageRegistered</h:messageType><h:schemaVersion>2.0</h:schemaVersion>
    <h:idempotencyKey>k-{message_id}</h:idempotencyKey><h:purpose>marriage registration</h:purpose>
    <h:sentAt>2026-05-20T09:30:00+08:00</h:sentAt></h:header>
  <h:message><c:MarriageRegistered xmlns:c="{C2}">
    <c:registrationNumber>J110105-20260520-0002</c:registrationNumber>
    <c:registeredOn>2026-05-20</c:registeredOn><c:registrationOffice>110105</c:registrationOffice>
    {party("A", HUSBAND_ID, "欧阳", "明", "1")}
    {party("B", WIFE_ID, "王", "芳", "2")}
    <c:maritalStatus>20</c:maritalStatus>
  </c:MarriageRegistered></h:message></h:Submit></s:Body></s:Envelope>"""
    return requests.post(
        stack.soap_url, data=body.encode("utf-8"), headers={"Content-Type": "text/xml"}
    )


def submit_1_0(stack: HubStack) -> str:
    receipt = stack.client().service.Submit(header=header(), message=marriage())
    return str(receipt.messageId)


def versions_delivered(stack: HubStack, message_id: str) -> dict[str, str | None]:
    with stack.runtime.store.engine.connect() as connection:
        rows = connection.execute(
            select(DeliveryRow.department, DeliveryRow.schema_version).where(
                DeliveryRow.message_id == message_id
            )
        )
        return {department: version for department, version in rows}


def version_received(stack: HubStack, message_id: str) -> str:
    with stack.runtime.store.engine.connect() as connection:
        return str(
            connection.execute(
                select(MessageRow.schema_version).where(MessageRow.id == message_id)
            ).scalar_one()
        )


def test_a_department_on_2_0_and_the_mock_departments_on_1_0_exchange_both_ways(
    stack: HubStack, recorder: Recorder, tmp_path: Path
) -> None:
    register(stack, package(tmp_path / "pkg", recorder.url, speaks="2.0"))
    # the catalogue over SOAP: both versions, and who receives which (and the lossy form)
    services = stack.client().service.ListServices(department=CODE).services
    (marriage_service,) = [s for s in services if s.messageType == "MarriageRegistered"]
    assert marriage_service.versions == ["1.0", "2.0"]
    receivers = {r.department: (r.version, r.lossy) for r in marriage_service.receivers}
    assert receivers[CODE] == ("2.0", None)
    assert receivers["TAX"][0] == "1.0" and "nationality" in receivers["TAX"][1]

    # 1.0 in (the marriage registry), 2.0 out to the new department: the names split
    sent_1_0 = submit_1_0(stack)
    assert stack.wait_settled(sent_1_0).state == "delivered"
    assert version_received(stack, sent_1_0) == "1.0"
    assert versions_delivered(stack, sent_1_0) == {
        CODE: "2.0",
        "SOCIAL_SECURITY": "1.0",
        "TAX": "1.0",
    }
    (got,) = recorder.bodies
    assert got["partyA"] == {"familyName": "张", "givenName": "伟"}
    assert got["partyB"] == {"familyName": "王", "givenName": "芳"}

    # 2.0 in (the new department), 1.0 out to tax: the names joined, the nationality lost
    sent_2_0 = submit_2_0(stack)
    assert stack.wait_settled(sent_2_0).state == "delivered"
    assert version_received(stack, sent_2_0) == "2.0"
    delivered = versions_delivered(stack, sent_2_0)
    assert delivered["TAX"] == "1.0" and delivered["SOCIAL_SECURITY"] == "1.0"
    tax_got = stack.mocks.running["TAX"].department.store.received_for(WIFE_ID)[-1].payload
    assert "欧阳明" in tax_got and "CHN" not in tax_got
    with stack.runtime.store.engine.connect() as connection:
        stored = connection.execute(
            select(MessageRow.canonical).where(MessageRow.id == sent_2_0)
        ).scalar_one()
    # stored as received: 2.0, with what 1.0 cannot hold
    assert etree.QName(etree.fromstring(stored)).namespace == C2
    assert b"CHN" in stored


def test_a_message_stored_under_1_0_is_replayed_in_the_version_its_receiver_declares_now(
    stack: HubStack, recorder: Recorder, tmp_path: Path
) -> None:
    register(stack, package(tmp_path / "pkg", recorder.url, speaks="1.0"))
    recorder.status = 400  # the department refuses both: their legs fail
    first, second = submit_1_0(stack), submit_1_0(stack)
    for message_id in (first, second):
        assert stack.wait_settled(message_id).state == "failed"
        assert versions_delivered(stack, message_id)[CODE] == "1.0"

    register(stack, package(tmp_path / "pkg", recorder.url, speaks="2.0"))  # 2.0 current
    recorder.status, recorder.bodies = 200, []
    codes = set(stack.runtime.departments.codes())
    replay(stack.runtime.store, codes, ReplayRequest("ops", "moved to 2.0", (first,)))
    assert stack.wait_settled(first).state == "delivered"
    assert versions_delivered(stack, first)[CODE] == "2.0"
    assert recorder.bodies[-1]["partyA"] == {"familyName": "张", "givenName": "伟"}

    # pinned to the mapping it failed with: 1.0, as that mapping was written for
    pinned = ReplayRequest("ops", "as before", (second,), pin_mapping=True)
    replay(stack.runtime.store, codes, pinned)
    assert stack.wait_settled(second).state == "delivered"
    assert versions_delivered(stack, second)[CODE] == "1.0"
    assert recorder.bodies[-1]["partyA"] == {"name": "张伟"}


def test_a_department_pushing_its_own_json_as_2_0_reaches_a_1_0_receiver(
    stack: HubStack, recorder: Recorder, tmp_path: Path
) -> None:
    register(stack, package(tmp_path / "pkg", recorder.url, speaks="2.0"))
    pushed = {
        "number": "J110105-20260520-0003",
        "date": "2026-05-20",
        "office": "110105",
        "partyA": {"id": HUSBAND_ID, "familyName": "诸葛", "givenName": "亮", "sex": "1"},
        "partyB": {
            "id": WIFE_ID,
            "familyName": "黄",
            "givenName": "月英",
            "sex": "2",
            "nationality": "CHN",
        },
        "status": "20",
    }
    answer = requests.post(
        f"{stack.server.url}/native/{CODE}/marriages",
        data=json.dumps(pushed, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json", "Idempotency-Key": "push-1"},
    )
    assert answer.status_code < 300, answer.text
    message_id = answer.json()["messageId"]
    assert stack.wait_settled(message_id).state == "delivered"
    assert version_received(stack, message_id) == "2.0"
    assert versions_delivered(stack, message_id)["TAX"] == "1.0"
    tax_got = stack.mocks.running["TAX"].department.store.received_for(WIFE_ID)[-1].payload
    assert "诸葛亮" in tax_got and "黄月英" in tax_got
