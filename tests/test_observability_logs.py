"""The server log of a real running hub: every refusal at /soap and /native is one line with
its fault code and sender, identity numbers masked; a retry line names its error."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import requests
import zeep.exceptions
from hubstack import HUSBAND_ID, header, marriage, running_hub

from hub.polling import wait_for

# A well-formed identity number whose check digit is wrong: refused, and quoted in the reason.
WRONG_CHECK_DIGIT = HUSBAND_ID[:-1] + ("0" if HUSBAND_ID[-1] != "0" else "1")


def refusal_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "hub.refusals"]


def test_a_refused_soap_submit_is_logged_with_its_code_and_sender_masked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    party = dict(marriage()["MarriageRegistered"]["partyA"], identityNumber=WRONG_CHECK_DIGIT)
    with running_hub(tmp_path) as hub, pytest.raises(zeep.exceptions.Fault) as fault:
        hub.client().service.Submit(header=header(), message=marriage(partyA=party))
    lines = refusal_lines(caplog)
    assert len(lines) == 1, lines
    code = fault.value.code.rpartition(":")[2]  # zeep keeps the prefix: soap11env:Client.X
    assert code == "Client.InvalidIdentityNumber"
    assert lines[0].startswith(f"refused at /soap: {code} from MARRIAGE_REGISTRY: identity ")
    assert WRONG_CHECK_DIGIT not in caplog.text


def test_a_soap_request_that_is_not_xml_is_logged_as_refused_from_an_unknown_sender(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with running_hub(tmp_path) as hub:
        answer = requests.post(
            hub.soap_url, data=b"<not xml", headers={"Content-Type": "text/xml"}, timeout=10
        )
    assert answer.status_code == 500
    lines = refusal_lines(caplog)
    assert len(lines) == 1, lines
    assert lines[0].startswith("refused at /soap: Client.MalformedXML from unknown: ")


def test_a_refused_native_push_is_logged_with_its_code_and_department(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    path = "/native/TAX/api/v1/address-changes"
    body = f'{{"identityNumber": "{WRONG_CHECK_DIGIT}"'.encode()  # not even JSON
    with running_hub(tmp_path) as hub:
        answer = requests.post(
            hub.server.url + path,
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
    code = answer.json()["error"]
    assert answer.status_code in (400, 401)
    assert refusal_lines(caplog) == [
        f"refused at {path}: {code} from TAX: {answer.json()['message']}"
    ]
    assert WRONG_CHECK_DIGIT not in caplog.text


def test_a_retry_line_names_the_error_of_the_failed_attempt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with running_hub(tmp_path) as hub:
        hub.mocks.tax.faults.fail_next(1)
        receipt = hub.client().service.Submit(header=header(), message=marriage())
        status = hub.wait_settled(receipt.messageId)
        retries = wait_for(lambda: retry_lines(caplog), 10)
    assert status.state == "delivered"
    assert retries, "a retry was logged"
    assert ": retry -> " in retries[0]
    assert "Error: " in retries[0].split(": retry -> ", 1)[1], retries[0]


def retry_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    lines = [r.getMessage() for r in caplog.records if r.name == "hub.delivery"]
    return [line for line in lines if ": retry -> " in line]
