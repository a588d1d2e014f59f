"""SubmitBatch on /soap through the running hub, with a zeep client made from the WSDL and
the sender's WS-Security: the batch id, counts and failing rows come back; the same file
filed again sends nothing twice; a caller without the sender's credentials is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import zeep
from batch_kit import couple, filled_workbook
from hubstack import running_hub
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

from hub.identity import make_number, mask
from hub.polling import wait_for
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
