"""SubmitBatch on /soap: a department files a spreadsheet of records (base64, with its name)
and gets what `govhub batch submit` prints: the batch id, its counts and every failing row
(row, column, rule, masked value). Authenticated like Submit (the sender's WS-Security or
TLS client certificate); the same hub/batch code checks and sends (hub/batch/intake.py), so
the same file filed twice sends nothing twice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spyne import Boolean, ByteArray, ComplexModel, Integer, Unicode, rpc
from spyne.service import Service

from hub.api.soap_faults import fault_from
from hub.batch.intake import BatchIntake, Filing
from hub.batch.ledger import BatchRecord
from hub.errors import HubError, SchemaInvalid
from hub.resources import HEADER_NAMESPACE
from hub.security.wsse import claimed_sender


class BatchFailureModel(ComplexModel):  # type: ignore[misc]
    __namespace__ = HEADER_NAMESPACE
    __type_name__ = "BatchFailure"
    _type_info = [  # noqa: RUF012 (spyne reads this class attribute)
        ("row", Integer),
        ("column", Unicode),
        ("rule", Unicode),
        ("message", Unicode),
        ("value", Unicode),
    ]


class BatchResultModel(ComplexModel):  # type: ignore[misc]
    __namespace__ = HEADER_NAMESPACE
    __type_name__ = "BatchResult"
    _type_info = [  # noqa: RUF012 (spyne reads this class attribute)
        ("batchId", Unicode),
        ("state", Unicode),
        ("ruleSet", Unicode),
        ("rows", Integer),
        ("passed", Integer),
        ("failed", Integer),
        ("sent", Integer),
        ("alreadySent", Integer),
        ("failures", BatchFailureModel.customize(max_occurs="unbounded")),
    ]


@dataclass(frozen=True)
class BatchApi:
    """Where filed batches go (hub/batch/intake.py), and its ingress's credentials check
    and audit of refusals."""

    intake: BatchIntake

    def submit(
        self,
        envelope: Any,
        sender: str,
        file_name: str,
        content: bytes,
        message_type: str | None,
        rule_set: str | None,
        hold: bool,
    ) -> BatchRecord:
        verifier = self.intake.ingress.verifier
        if verifier is not None:
            verifier.verify(envelope, sender)
        filing = Filing(sender, message_type, rule_set, hold, f"{sender} (SubmitBatch)")
        return self.intake.upload(file_name, content, filing)


def batch_service(api: BatchApi) -> type[Service]:
    class BatchService(Service):  # type: ignore[misc]
        @rpc(  # type: ignore[untyped-decorator]
            Unicode(min_occurs=1),
            Unicode(min_occurs=1),
            ByteArray(min_occurs=1),
            Unicode(min_occurs=0),
            Unicode(min_occurs=0),
            Boolean(min_occurs=0),
            _returns=BatchResultModel,
        )
        def SubmitBatch(
            ctx: Any,
            sender: str,
            fileName: str,
            content: list[bytes] | None,
            messageType: str | None,
            ruleSet: str | None,
            hold: bool | None,
        ) -> BatchResultModel:
            named = (sender or "").strip()
            try:
                if not content:
                    raise SchemaInvalid("SubmitBatch needs the file's content")
                batch = api.submit(
                    ctx.in_document,
                    named,
                    fileName or "",
                    b"".join(content),
                    (messageType or "").strip() or None,
                    (ruleSet or "").strip() or None,
                    bool(hold),
                )
            except HubError as error:
                api.intake.ingress.record_refusal(
                    claimed_sender(ctx.in_document, named), "SubmitBatch", error
                )
                raise fault_from(error, path=_FIELDS.get(error.code)) from error
            return _result(batch)

    return BatchService


# The request field a SubmitBatch refusal is about.
_FIELDS = {
    "Client.NotAuthenticated": "Header/Security",
    "Client.UnknownSender": "SubmitBatch/sender",
    "Client.NotAuthorized": "SubmitBatch/sender",
    "Client.UnknownMessageType": "SubmitBatch/messageType",
    "Client.NotFound": "SubmitBatch/ruleSet",
    "Client.BatchInvalid": "SubmitBatch/content",
}


def _result(batch: BatchRecord) -> BatchResultModel:
    report = batch.report
    return BatchResultModel(
        batchId=batch.batch_id,
        state=batch.state,
        ruleSet=report.rule_set,
        rows=report.rows,
        passed=report.passed,
        failed=report.failed,
        sent=batch.sent,
        alreadySent=batch.repeats,
        failures=[
            BatchFailureModel(
                row=f.row, column=f.column, rule=f.rule, message=f.message, value=f.value
            )
            for f in report.failures
        ],
    )


__all__ = ["BatchApi", "batch_service"]
