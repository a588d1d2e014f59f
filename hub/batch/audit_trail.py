"""Batch decisions in the hub's hash-chained audit log (hub/security/audit), beside their
own records: a rule-set version made (who, why) and a batch committed (who, what was sent,
which rows were excluded and why). Subjects are "rule set NAME@N" and "batch ID"."""

from __future__ import annotations

from sqlalchemy import Engine

from hub.batch.book import Version
from hub.batch.ledger import BatchRecord
from hub.security import audit


def record_rule_version(engine: Engine, version: Version) -> None:
    audit.AuditLog(engine).append(
        actor=version.actor,
        action=audit.ADMIN_CHANGE,
        subject=f"rule set {version.rule_set.label}",
        details={"reason": version.reason, "parameters": version.rule_set.parameters},
    )


def record_commit(engine: Engine, batch: BatchRecord) -> None:
    audit.AuditLog(engine).append(
        actor=batch.committed_by or "unknown",
        action=audit.ADMIN_CHANGE,
        subject=f"batch {batch.batch_id}",
        details={
            "sender": batch.sender,
            "file_sha256": batch.file_sha256,
            "rule_set": batch.report.rule_set,
            "sent": batch.sent,
            "already_sent": batch.repeats,
            "excluded": [{"row": e.row, "reason": e.reason} for e in batch.exclusions],
        },
    )


def record_held(engine: Engine, batch: BatchRecord, actor: str) -> None:
    """A batch filed and kept for review (nothing sent)."""
    report = batch.report
    audit.AuditLog(engine).append(
        actor=actor,
        action=audit.ADMIN_CHANGE,
        subject=f"batch {batch.batch_id}",
        details={
            "held": report.file,
            "sender": batch.sender,
            "file_sha256": batch.file_sha256,
            "rule_set": report.rule_set,
            "rows": report.rows,
            "failed": report.failed,
        },
    )
