"""SubmitBatch on /soap through the running hub, with a zeep client made from the WSDL and
the sender's WS-Security: the batch id, counts and failing rows come back; the same file
filed again sends nothing twice; a caller without the sender's credentials is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import zeep
from batch_kit import couple, filled_workbook
from hubstack import running_hub
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

from hub.batch.intake import kept_upload
from hub.errors import BatchInvalid
from hub.identity import make_number, mask
from hub.polling import wait_for
from hub.security import audit
from hub.security.credentials import CredentialStore
from hub.security.encryption import KeyRing, new_key_text

pytestmark = pytest.mark.slow

KEYS = new_key_text("k1")


def test_submit_batch_answers_failing_rows_and_sends_a_repeated_file_once(
    tmp_path: Path,
) -> None:
    valid = make_number("31010419920815", "003")
    bad_id = valid[:-1] + ("1" if valid[-1] != "1" else "2")  # a wrong check digit
    rows = [couple(1), couple(2), couple(3, partyB_identityNumber=bad_id)]
    workbook = filled_workbook(tmp_path, rows, "monday.xlsx").read_bytes()
    with running_hub(tmp_path / "hub", encryption_keys=KEYS) as stack:
        credentials = CredentialStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
        issued = credentials.issue("MARRIAGE_REGISTRY", actor="admin-wang")
        token = UsernameToken(issued.username, issued.secret, use_digest=True)
        service: Any = zeep.Client(f"{stack.soap_url}?wsdl", wsse=token).service

        first = service.SubmitBatch(
            sender="MARRIAGE_REGISTRY", fileName="monday.xlsx", content=workbook
        )
        assert (first.state, first.rows, first.passed, first.failed) == ("committed", 3, 2, 1)
        assert (first.sent, first.alreadySent) == (2, 0)
        [failure] = first.failures
        assert (failure.row, failure.column) == (4, "partyB_identityNumber")
        assert failure.value == mask(bad_id) and bad_id not in failure.value
        tax = stack.mocks.tax.store
        assert wait_for(lambda: len(tax.keys()) == 2, 20)

        again = service.SubmitBatch(
            sender="MARRIAGE_REGISTRY", fileName="monday.xlsx", content=workbook
        )
        assert again.batchId != first.batchId
        assert (again.sent, again.alreadySent) == (0, 2)

        held = service.SubmitBatch(
            sender="MARRIAGE_REGISTRY", fileName="tuesday.xlsx", content=workbook, hold=True
        )
        assert (held.state, held.sent) == ("held", 0)
        assert len(tax.keys()) == 2

        stranger: Any = zeep.Client(f"{stack.soap_url}?wsdl").service
        with pytest.raises(Fault) as refused:
            stranger.SubmitBatch(
                sender="MARRIAGE_REGISTRY", fileName="monday.xlsx", content=workbook
            )
        assert refused.value.code.endswith("Client.NotAuthenticated")

        with pytest.raises(Fault) as not_a_batch:
            service.SubmitBatch(sender="MARRIAGE_REGISTRY", fileName="notes.txt", content=b"hello")
        assert not_a_batch.value.code.endswith("Client.BatchInvalid")
        assert ".xlsx" in not_a_batch.value.message

        with pytest.raises(Fault) as no_rules:
            service.SubmitBatch(
                sender="MARRIAGE_REGISTRY",
                fileName="monday.xlsx",
                content=workbook,
                ruleSet="county@2",
            )
        assert no_rules.value.code.endswith("Client.NotFound")
        assert "there is no rule set county" in no_rules.value.message
        assert path_of(no_rules.value) == "SubmitBatch/ruleSet"
        with stack.runtime.store.engine.connect() as connection:
            last = list(audit.entries(connection))[-1]
        assert (last.actor, last.subject) == (issued.username, "SubmitBatch")
        assert json.loads(last.details)["code"] == "Client.NotFound"
        assert len(tax.keys()) == 2  # nothing sent by a refused batch


def path_of(fault: Fault) -> str | None:
    """The refused field the fault's h:HubFault detail names."""
    return fault.detail[0].findtext("{urn:govhub:hub:1}path")


def test_an_uploaded_file_is_kept_by_its_content_under_its_own_name_and_nowhere_else(
    tmp_path: Path,
) -> None:
    kept = kept_upload(tmp_path, "../../etc/monday 周一.xlsx", b"the workbook")
    assert kept.name == "monday 周一.xlsx" and kept.read_bytes() == b"the workbook"
    assert kept.parent.parent == tmp_path / "batches"  # nothing written outside the folder
    assert kept_upload(tmp_path, "monday 周一.xlsx", b"the workbook") == kept
    assert kept_upload(tmp_path, "monday 周一.xlsx", b"corrected") != kept
    with pytest.raises(BatchInvalid, match=r"\.xlsx workbook or a \.csv"):
        kept_upload(tmp_path, "monday.xlsx.exe", b"MZ")
