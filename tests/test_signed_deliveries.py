"""The hub signs what it delivers to a SOAP department whose options say
``sign_deliveries = true``; the mock department checks it with the hub's certificate. End to
end: running hub, real zeep deliveries, the mock social security office (SOAP 1.2)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hubstack import HubStack, header, marriage, running_hub
from security_kit import KeyPair, make_key_pair

from hub.resources import DEFAULTS_ROOT

SIGNED = 'options = { sign_deliveries = true, result_field = "status"'


def departments_signing_for_social_security(folder: Path) -> Path:
    text = (DEFAULTS_ROOT / "departments.toml").read_text(encoding="utf-8")
    changed = text.replace('options = { result_field = "status"', SIGNED)
    assert changed != text
    path = folder / "departments.toml"
    path.write_text(changed, encoding="utf-8")
    return path


@pytest.fixture
def hub_keys(tmp_path: Path) -> KeyPair:
    return make_key_pair(tmp_path, "hub-signing")


@pytest.fixture
def stack(tmp_path: Path, hub_keys: KeyPair) -> Iterator[HubStack]:
    with running_hub(
        tmp_path,
        departments_file=departments_signing_for_social_security(tmp_path),
        signing_key_file=str(hub_keys.key_file),
        signing_cert_file=str(hub_keys.cert_file),
    ) as stack:
        yield stack


def social_security_checks_with(stack: HubStack, certificate: bytes) -> None:
    department = stack.mocks.running["SOCIAL_SECURITY"].department
    department.hub_certificate = certificate.decode("ascii")  # type: ignore[attr-defined]


def leg(stack: HubStack, message_id: str, department: str) -> tuple[str, str | None]:
    status = stack.wait_settled(message_id)
    found = next(d for d in status.deliveries if d.department == department)
    return found.state, found.last_error


def test_a_signed_delivery_is_accepted_by_a_department_holding_the_hubs_certificate(
    stack: HubStack, hub_keys: KeyPair
) -> None:
    social_security_checks_with(stack, hub_keys.certificate_pem)
    receipt = stack.client().service.Submit(header=header(), message=marriage())
    assert leg(stack, receipt.messageId, "SOCIAL_SECURITY") == ("delivered", None)
    assert leg(stack, receipt.messageId, "TAX")[0] == "delivered"  # REST: unchanged


def test_a_department_checking_with_another_certificate_refuses_the_delivery(
    stack: HubStack, tmp_path: Path
) -> None:
    social_security_checks_with(stack, make_key_pair(tmp_path, "not-the-hub").certificate_pem)
    receipt = stack.client().service.Submit(header=header(), message=marriage())
    state, error = leg(stack, receipt.messageId, "SOCIAL_SECURITY")
    assert state == "failed" and "bad signature" in str(error)


def test_an_unsigned_delivery_is_refused_by_a_checking_department(
    tmp_path: Path, hub_keys: KeyPair
) -> None:
    with running_hub(tmp_path) as stack:  # default departments file: nothing is signed
        social_security_checks_with(stack, hub_keys.certificate_pem)
        receipt = stack.client().service.Submit(header=header(), message=marriage())
        state, error = leg(stack, receipt.messageId, "SOCIAL_SECURITY")
    assert state == "failed" and "not signed" in str(error)
