"""A committed batch's passing rows sent as ordinary messages, through the hub's ingress
(stored with their deliveries in one transaction, then published; hub.ingress).

A row's idempotency key is derived from the batch's sender and type and the row's canonical
record, not from the batch's id: the same file filed twice stores nothing twice, and a
corrected file stores only the rows that changed. Nothing is sent from a batch still held."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

from hub.batch.check import BatchReport, checked_rows, tallied
from hub.batch.layouts import Layout, layout_for
from hub.batch.ledger import COMMITTED, BatchLedger, BatchRecord, Exclusion, file_sha256, now
from hub.batch.reading import MAX_ROWS, refuse_oversized
from hub.batch.records import CheckedRow
from hub.batch.rules import RuleSet
from hub.errors import BatchInvalid
from hub.ingress import Ingress, PreparedMessage
from hub.resources import CANONICAL_SCHEMA_VERSION
from hub.store import NewMessage

PURPOSE = "batch intake"
WORKERS = 16
CHUNK = 512


def row_key(sender: str, message_type: str, canonical: bytes) -> str:
    digest = hashlib.sha256(f"{sender}\n{message_type}\n".encode() + canonical).hexdigest()
    return f"batch-{digest[:40]}"


def commit_batch(
    batch: BatchRecord,
    ingress: Ingress,
    rule_set: RuleSet | None,
    exclude: Collection[int],
    actor: str,
    reason: str,
) -> BatchRecord:
    """Send a held batch's passing rows not in ``exclude``; each exclusion is recorded with
    who and why. The clerk's file is read again and must be the file that was checked."""
    if batch.state == COMMITTED:
        raise BatchInvalid(f"batch {batch.batch_id} was committed by {batch.committed_by}")
    path = Path(batch.file)
    if not path.is_file() or file_sha256(path) != batch.file_sha256:
        raise BatchInvalid(f"{batch.file} is not the file batch {batch.batch_id} checked")
    layout = layout_for(batch.report.message_type)
    _send(checked_rows(path, layout, ingress.schemas, rule_set), batch, ingress, exclude)
    batch.exclusions = [Exclusion(row, actor, reason) for row in sorted(exclude)]
    return _committed(batch, actor)


def submit_batch(
    path: Path,
    layout: Layout,
    sender: str,
    ingress: Ingress,
    rule_set: RuleSet | None,
    ledger: BatchLedger,
    actor: str,
    max_rows: int = MAX_ROWS,
) -> BatchRecord:
    """Check and send in one reading of the file (no review): each row is sent as soon as it
    passes; the batch is recorded with its report, committed by ``actor``. A file over the
    row limit is refused before any row is sent."""
    refuse_oversized(path, layout, max_rows)
    report = BatchReport(path.name, layout.message_type, rule_set.label if rule_set else None)
    batch = ledger.new(sender, path, report)
    rows = tallied(report, checked_rows(path, layout, ingress.schemas, rule_set, max_rows))
    _send(rows, batch, ingress, ())
    ledger.save(_committed(batch, actor))
    return batch


def _send(
    rows: Iterable[CheckedRow], batch: BatchRecord, ingress: Ingress, exclude: Collection[int]
) -> None:
    passing = (r for r in rows if not r.failures and r.number not in exclude)
    # Rows are committed CHUNK at a time from WORKERS threads, so the hub's group commit
    # stores many in one transaction; memory holds one chunk, not the batch.
    with ThreadPoolExecutor(WORKERS, thread_name_prefix="govhub-batch") as pool:
        for chunk in iter(lambda: list(islice(passing, CHUNK)), []):
            prepared = [_prepared(ingress, batch, checked) for checked in chunk]
            for receipt in pool.map(ingress.commit, prepared):
                batch.repeats += receipt.duplicate
                batch.sent += not receipt.duplicate


def _committed(batch: BatchRecord, actor: str) -> BatchRecord:
    batch.state, batch.committed_by, batch.committed_at = COMMITTED, actor, now()
    return batch


def _prepared(ingress: Ingress, batch: BatchRecord, checked: CheckedRow) -> PreparedMessage:
    assert checked.canonical is not None and checked.record is not None  # a passing row
    message_type = batch.report.message_type
    routed = ingress.routes.route_message(batch.sender, message_type, checked.record)
    message = NewMessage(
        message_id=str(uuid.uuid4()),
        message_type=message_type,
        sender=batch.sender,
        correlation_id=f"batch-{batch.batch_id}",
        idempotency_key=row_key(batch.sender, message_type, checked.canonical),
        purpose=PURPOSE,
        sent_at=datetime.now(UTC),
        schema_version=CANONICAL_SCHEMA_VERSION,
        original=checked.canonical,
        original_content_type="application/xml",
        canonical=checked.canonical,
        inbound_mapping=None,
        skipped=routed.skipped,
    )
    return PreparedMessage(message, routed.receivers)
