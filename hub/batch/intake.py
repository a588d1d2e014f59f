"""A batch filed from outside the command line (SubmitBatch on /soap, the console's upload):
the file's bytes are kept under <data_dir>/batches/<SHA-256>/ (a commit reads the clerk's
file again, and the report is drawn on it), then checked, and sent or held for a reviewer,
as `govhub batch submit` does. The command line shares the checks of sender and type."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from hub.batch.audit_trail import record_commit
from hub.batch.book import RuleBook, parse_reference
from hub.batch.check import check_file
from hub.batch.layouts import Layout, layout_for
from hub.batch.ledger import BatchLedger, BatchRecord
from hub.batch.reading import sheet_name
from hub.batch.rules import RuleSet
from hub.batch.sending import commit_batch, submit_batch
from hub.errors import BatchInvalid
from hub.ingress import Ingress

UPLOADS = "batches"
SUFFIXES = (".xlsx", ".csv")
_UNSAFE = re.compile(r"[^\w.\- ]+")


def kept_upload(data_dir: Path, name: str, content: bytes) -> Path:
    """The uploaded file, kept by its content under its own (cleaned) name."""
    clean = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).strip(" .") or "batch"
    if Path(clean).suffix.lower() not in SUFFIXES:
        raise BatchInvalid(f"{name}: a batch is an .xlsx workbook or a .csv file")
    folder = data_dir / UPLOADS / hashlib.sha256(content).hexdigest()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / clean
    if not target.is_file():
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(content)
        partial.replace(target)  # a reader never sees half a file
    return target


def layout_and_rules(
    hub_rules: Any, engine: Engine, sender: str, message_type: str, rules_ref: str | None
) -> tuple[Layout, RuleSet | None]:
    """The batch's layout and rule set, once its sender is known and allowed to send its
    type (``hub_rules``: the hub's rules, or its ingress)."""
    hub_rules.departments.sender(sender)
    hub_rules.routes.receivers_for(sender, message_type)  # may this department send it?
    rule_set = RuleBook(engine).get(*parse_reference(rules_ref)) if rules_ref else None
    return layout_for(message_type), rule_set


@dataclass(frozen=True)
class Filing:
    """What the filer says of a batch: whose it is, its type (None: the template sheet's),
    the rule set to check it by, and whether to hold it for a reviewer."""

    sender: str
    message_type: str | None
    rules_ref: str | None
    hold: bool
    actor: str


def file_batch(ingress: Ingress, path: Path, filing: Filing) -> BatchRecord:
    """Check the file and record it as a batch; unless held, send the rows that pass (each
    once: hub/batch/sending.py) and audit the commit."""
    engine = ingress.store.engine
    sender = filing.sender
    kind = filing.message_type or _sheet_type(path)
    layout, rule_set = layout_and_rules(ingress, engine, sender, kind, filing.rules_ref)
    ledger = BatchLedger(engine)
    if filing.hold:
        return ledger.new(sender, path, check_file(path, layout, ingress.schemas, rule_set))
    batch = submit_batch(path, layout, sender, ingress, rule_set, ledger, filing.actor)
    record_commit(engine, batch)
    return batch


def commit_held(
    ingress: Ingress, batch_id: str, exclude: Collection[int], actor: str, reason: str
) -> BatchRecord:
    """Send a held batch's passing rows less ``exclude``, by the rule-set version that
    checked it; the commit and its exclusions are audited."""
    engine = ingress.store.engine
    ledger = BatchLedger(engine)
    batch = ledger.get(batch_id)
    used = batch.report.rule_set
    rule_set = RuleBook(engine).get(*parse_reference(used)) if used else None
    ledger.save(commit_batch(batch, ingress, rule_set, exclude, actor, reason))
    record_commit(engine, batch)
    return batch


@dataclass(frozen=True)
class BatchIntake:
    """Batches filed as uploads (SOAP, console): the hub's ingress and its data folder."""

    ingress: Ingress
    data_dir: Path

    def upload(self, file_name: str, content: bytes, filing: Filing) -> BatchRecord:
        return file_batch(self.ingress, kept_upload(self.data_dir, file_name, content), filing)

    def commit(
        self, batch_id: str, exclude: Collection[int], actor: str, reason: str
    ) -> BatchRecord:
        return commit_held(self.ingress, batch_id, exclude, actor, reason)

    @property
    def ledger(self) -> BatchLedger:
        return BatchLedger(self.ingress.store.engine)


def _sheet_type(path: Path) -> str:
    if path.suffix.lower() == ".csv":
        raise BatchInvalid(f"{path.name}: a CSV batch must name its message type")
    return sheet_name(path)
