"""Native pushes (POST /native/<DEPT>) authenticate like the SOAP API: a SOAP push carries a
WS-Security UsernameToken, a JSON push an HMAC Authorization header, through the running hub."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import requests
from hubstack import HubStack, running_hub

from hub.identity import make_number
from hub.security import audit
from hub.security.credentials import CredentialStore, IssuedSecret
from hub.security.encryption import KeyRing, new_key_text
from hub.security.native_client import authorization_header, with_username_token
from mock_departments.people import Person
from mock_departments.pusher import PushCredentials, load_credentials
from mock_departments.store import PUSHED, REJECTED

pytestmark = pytest.mark.slow
KEYS = new_key_text("k1")
ZHANG = Person("Zhang San", make_number("11010519900307", "123"))
LI = Person("Li Si", make_number("11010519920611", "124"))
TAX_PATH = "/native/TAX/api/v1/address-changes"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    # "registered": MARRIAGE_REGISTRY and TAX get credentials, SOCIAL_SECURITY has none.
    with running_hub(tmp_path_factory.mktemp("native"), encryption_keys=KEYS) as running:
        yield running


@pytest.fixture(scope="module")
def secrets(stack: HubStack) -> dict[str, IssuedSecret]:
    credentials = CredentialStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
    return {
        code: credentials.issue(code, actor="admin-wang") for code in ("MARRIAGE_REGISTRY", "TAX")
    }


def use(stack: HubStack, code: str, issued: IssuedSecret | None) -> None:
    pusher = stack.mocks.running[code].department.pusher
    pusher.credentials = None if issued is None else PushCredentials(issued.username, issued.secret)


def address_change(stack: HubStack, day: int) -> str:
    return stack.mocks.tax.record_address_change(
        ZHANG, region_code="110105", line="朝阳路1号", effective=date(2024, 5, day)
    )


def json_push(stack: HubStack, body: bytes, authorization: str | None) -> requests.Response:
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if authorization:
        headers["Authorization"] = authorization
    return requests.post(stack.server.url + TAX_PATH, data=body, headers=headers, timeout=10)


def a_tax_record(stack: HubStack, day: int) -> bytes:
    """The JSON a tax clerk's entry pushes (kept in the mock's outbox)."""
    key = address_change(stack, day)
    return stack.mocks.tax.store.outbox_entry(key).body


def refusals(stack: HubStack) -> list[dict[str, str]]:
    with stack.runtime.store.engine.connect() as connection:
        return [
            {"actor": e.actor, "subject": e.subject, **json.loads(e.details)}
            for e in audit.entries(connection)
            if e.action == audit.REFUSED
        ]


def test_an_unsigned_push_from_a_department_with_credentials_is_refused_and_audited(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    use(stack, "MARRIAGE_REGISTRY", None)
    number = stack.mocks.marriage_registry.register_marriage(
        ZHANG, LI, day=date(2024, 5, 20), office="110105"
    )
    entry = stack.mocks.marriage_registry.store.outbox_entry(number)
    assert entry.status == REJECTED
    assert entry.last_error is not None and entry.last_error.startswith("HTTP 401")
    assert "Client.NotAuthenticated" in entry.last_error
    assert refusals(stack)[-1]["code"] == "Client.NotAuthenticated"
    assert refusals(stack)[-1]["actor"] == "MARRIAGE_REGISTRY"


def test_a_gb18030_soap_push_with_a_username_token_is_accepted_and_delivered(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    use(stack, "MARRIAGE_REGISTRY", secrets["MARRIAGE_REGISTRY"])
    number = stack.mocks.marriage_registry.register_marriage(
        ZHANG, LI, day=date(2024, 5, 21), office="110105"
    )
    assert stack.mocks.marriage_registry.store.outbox_entry(number).status == PUSHED
    message_id = stack.runtime.store.find_message_id("MARRIAGE_REGISTRY", number)
    assert message_id is not None
    assert stack.wait_settled(message_id).state == "delivered"


def test_a_json_push_with_a_valid_hmac_header_is_accepted(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    use(stack, "TAX", secrets["TAX"])
    key = address_change(stack, 1)
    assert stack.mocks.tax.store.outbox_entry(key).status == PUSHED
    assert stack.runtime.store.find_message_id("TAX", key) is not None


def test_a_json_push_without_an_authorization_header_is_refused_with_401(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    use(stack, "TAX", None)
    key = address_change(stack, 2)
    entry = stack.mocks.tax.store.outbox_entry(key)
    assert entry.status == REJECTED
    answer = json_push(stack, entry.body, None)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "GovHub-HMAC-SHA256"
    assert answer.json()["error"] == "Client.NotAuthenticated"
    assert stack.runtime.store.find_message_id("TAX", key) is None


def test_a_replayed_nonce_is_refused(stack: HubStack, secrets: dict[str, IssuedSecret]) -> None:
    tax = secrets["TAX"]
    body = a_tax_record_unpushed(stack, 3)
    signed = authorization_header(tax.username, tax.secret, "POST", TAX_PATH, body)
    assert json_push(stack, body, signed).status_code == 202
    again = json_push(stack, body, signed)
    assert again.status_code == 401
    assert "replayed nonce" in again.json()["message"]


def test_a_stale_timestamp_is_refused(stack: HubStack, secrets: dict[str, IssuedSecret]) -> None:
    tax = secrets["TAX"]
    body = a_tax_record_unpushed(stack, 4)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    signed = authorization_header(tax.username, tax.secret, "POST", TAX_PATH, body, now=an_hour_ago)
    answer = json_push(stack, body, signed)
    assert answer.status_code == 401
    assert "stale timestamp" in answer.json()["message"]


def test_a_body_other_than_the_signed_one_is_refused(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    tax = secrets["TAX"]
    body = a_tax_record_unpushed(stack, 5)
    signed = authorization_header(tax.username, tax.secret, "POST", TAX_PATH, body)
    changed = body.replace("朝阳路1号".encode(), "朝阳路9号".encode())
    answer = json_push(stack, changed, signed)
    assert answer.status_code == 401
    assert "wrong signature" in answer.json()["message"]


def test_a_signature_for_another_path_is_refused(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    tax = secrets["TAX"]
    body = a_tax_record_unpushed(stack, 6)
    signed = authorization_header(tax.username, tax.secret, "POST", "/native/TAX/other", body)
    assert json_push(stack, body, signed).status_code == 401


def test_one_departments_credential_cannot_push_for_another(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    registry = secrets["MARRIAGE_REGISTRY"]
    body = a_tax_record_unpushed(stack, 7)
    signed = authorization_header(registry.username, registry.secret, "POST", TAX_PATH, body)
    answer = json_push(stack, body, signed)
    assert answer.status_code == 401
    assert "may not act for department TAX" in answer.json()["message"]


def test_a_soap_push_with_a_wrong_secret_is_refused(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    use(stack, "MARRIAGE_REGISTRY", None)
    number = stack.mocks.marriage_registry.register_marriage(
        LI, ZHANG, day=date(2024, 5, 22), office="110105"
    )
    body = stack.mocks.marriage_registry.store.outbox_entry(number).body
    wrong = with_username_token(body, "MARRIAGE_REGISTRY", "not-the-secret")
    answer = requests.post(
        stack.server.url + "/native/MARRIAGE_REGISTRY",
        data=wrong,
        headers={"Content-Type": "text/xml; charset=GB18030"},
        timeout=10,
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "Client.NotAuthenticated"


def test_a_department_without_credentials_still_pushes_while_authentication_is_registered(
    stack: HubStack, secrets: dict[str, IssuedSecret]
) -> None:
    number = stack.mocks.social_security.enroll(
        ZHANG,
        scheme="110",
        employer_credit_code="91110105MA01ABCD2X",
        day=date(2024, 6, 1),
        region="110105",
    )
    assert stack.mocks.social_security.store.outbox_entry(number).status == PUSHED


def a_tax_record_unpushed(stack: HubStack, day: int) -> bytes:
    """A tax record's JSON as its clerk would push it, entered while pushes are refused."""
    use(stack, "TAX", None)
    return a_tax_record(stack, day)


def test_the_mocks_read_their_credentials_from_a_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "mocks.toml"
    path.write_text(
        '[TAX]\nsecret = "s3cret"\n[MARRIAGE_REGISTRY]\nusername = "MR-2025"\nsecret = "x"\n'
    )
    found = load_credentials(path)
    assert found["TAX"] == PushCredentials("TAX", "s3cret")
    assert found["MARRIAGE_REGISTRY"].username == "MR-2025"
    assert "s3cret" not in repr(found)
