"""Untrusted text copied into a fault, the audit log or a log line is cut to a few hundred
characters and says so; a huge Username is neither stored whole nor echoed whole."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator

import pytest
import requests
from hubstack import HubStack, header, marriage, running_hub
from lxml import etree
from zeep.wsse.username import UsernameToken

from hub.api.soap_protocol import fault_from
from hub.errors import RegistrationRefused
from hub.identity import make_number
from hub.logs import MaskIdentityNumbers
from hub.security import audit
from hub.security.credentials import CredentialStore
from hub.security.encryption import KeyRing, new_key_text
from hub.untrusted import MAX_UNTRUSTED_CHARS, shown

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
KEYS = new_key_text("k1")
HUGE = 2_000_000  # characters of the hostile Username (the report's was 9 MB)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    folder = tmp_path_factory.mktemp("untrusted")
    with running_hub(folder, encryption_keys=KEYS, authentication="required") as running:
        # The sender has credentials, so the hub looks its Username up (and names it).
        CredentialStore(running.runtime.store.engine, keys=KeyRing.parse(KEYS)).issue(
            "MARRIAGE_REGISTRY", actor="admin-wang"
        )
        yield running


def submit_with_username(stack: HubStack, username: str) -> bytes:
    client = stack.client()
    envelope = client.create_message(client.service, "Submit", header=header(), message=marriage())
    envelope, _ = UsernameToken(username, "not-the-secret").apply(envelope, {})
    body = etree.tostring(envelope, encoding="UTF-8", xml_declaration=True)
    answer = requests.post(
        stack.soap_url, data=body, headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=60
    )
    return answer.content


def last_audit_entry(stack: HubStack) -> audit.AuditEntry:
    with stack.runtime.store.engine.connect() as connection:
        return list(audit.entries(connection))[-1]


def test_a_huge_username_is_cut_in_the_fault_and_the_audit_entry(stack: HubStack) -> None:
    answer = submit_with_username(stack, "u" * HUGE)

    fault = etree.fromstring(answer).find(f".//{{{SOAP11}}}Fault")
    assert fault is not None
    assert fault.findtext("faultcode", "").endswith("Client.NotAuthenticated")
    faultstring = fault.findtext("faultstring", "")
    assert len(faultstring) <= MAX_UNTRUSTED_CHARS
    assert faultstring.endswith(f"…(cut, {HUGE + len('unknown or revoked user ')} characters)")
    entry = last_audit_entry(stack)
    assert entry.action == audit.REFUSED
    stored = entry.actor + entry.subject + entry.details
    assert len(stored) < 4 * MAX_UNTRUSTED_CHARS
    assert "characters)" in entry.details


def test_an_identity_number_is_masked_before_the_cut_can_split_it() -> None:
    number = make_number("11010519900307", "131")
    text = "x" * 260 + f" {number} " + "y" * 1000

    cut_text = shown(text)

    assert number[6:14] not in cut_text  # neither whole nor its birth date survives
    assert len(cut_text) <= MAX_UNTRUSTED_CHARS


def test_a_huge_value_in_a_log_line_is_cut() -> None:
    record = logging.LogRecord(
        "hub.test", logging.INFO, __file__, 1, "refused %s: %s", ("TAX", "z" * HUGE), None
    )

    MaskIdentityNumbers().filter(record)

    message = record.getMessage()
    assert message.startswith("refused TAX: zzz")
    assert len(message) <= MAX_UNTRUSTED_CHARS + len("refused TAX: ")
    assert message.endswith(f"(cut, {HUGE} characters)")


def test_an_error_with_a_huge_message_is_cut_in_its_log_traceback() -> None:
    try:
        raise ValueError("v" * HUGE)
    except ValueError as error:
        record = logging.LogRecord(
            "hub.test",
            logging.ERROR,
            __file__,
            1,
            "failed: %s",
            (error,),
            (
                type(error),
                error,
                error.__traceback__,
            ),
        )

    MaskIdentityNumbers().filter(record)

    assert len(record.getMessage()) < 10 * MAX_UNTRUSTED_CHARS


def test_a_logged_traceback_keeps_its_last_line_naming_the_error() -> None:
    try:
        {}["missing"]
    except KeyError as error:
        trace = "".join(traceback.format_exception(error)) + "x" * 1000
    record = logging.LogRecord("hub.test", logging.ERROR, __file__, 1, "failed: %s", (trace,), None)

    MaskIdentityNumbers().filter(record)

    assert "KeyError: 'missing'" in record.getMessage()


def test_a_refused_registration_keeps_every_reason_each_cut_on_its_own() -> None:
    reasons = [f"reason {n}: " + "r" * 120 for n in range(5)] + ["bad value " + "q" * HUGE]

    fault = fault_from(RegistrationRefused("package TAX 3", reasons))

    for n in range(5):
        assert f"reason {n}: " in fault.faultstring
    assert fault.faultstring.endswith(f"(cut, {HUGE + len('bad value ')} characters)")
    assert len(fault.faultstring) < 8 * MAX_UNTRUSTED_CHARS
