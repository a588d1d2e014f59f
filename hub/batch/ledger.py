"""What the hub remembers of each batch: who filed which file (by its SHA-256), which rule
set version checked it, its counts and failures, its state (held for review, committed),
and every row a reviewer excluded with who and why. One row per batch in the hub's database
(batches); the rows of the file are not kept (they hold identity numbers in clear): a
commit reads the clerk's file again and refuses it if it changed."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, update

from hub.batch.check import BatchReport
from hub.batch.records import CellFailure
from hub.batch.tables import batches
from hub.errors import NotFound

HELD, COMMITTED = "held", "committed"


@dataclass
class Exclusion:
    row: int
    actor: str
    reason: str


@dataclass
class BatchRecord:
    batch_id: str
    sender: str
    file: str  # the clerk's file, as given
    file_sha256: str
    report: BatchReport
    state: str = HELD
    created_at: str = ""
    exclusions: list[Exclusion] = field(default_factory=list)
    committed_by: str | None = None
    committed_at: str | None = None
    sent: int = 0  # rows stored as new messages by the commit
    repeats: int = 0  # rows the hub already had (the same record sent before)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["report"] = self.report.as_dict()
        return data


class BatchLedger:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def new(self, sender: str, file: Path, report: BatchReport) -> BatchRecord:
        record = BatchRecord(
            batch_id=uuid.uuid4().hex[:12],
            sender=sender,
            file=str(file.resolve()),
            file_sha256=file_sha256(file),
            report=report,
            created_at=now(),
        )
        with self.engine.begin() as connection:
            connection.execute(
                insert(batches).values(
                    batch_id=record.batch_id,
                    sender=sender,
                    state=record.state,
                    created_at=datetime.fromisoformat(record.created_at),
                    record=_json(record),
                )
            )
        return record

    def get(self, batch_id: str) -> BatchRecord:
        query = select(batches.c.record).where(batches.c.batch_id == batch_id)
        with self.engine.connect() as connection:
            text = connection.execute(query).scalar()
        if text is None:
            raise NotFound(f"there is no batch {batch_id}")
        data = json.loads(text)
        report = data.pop("report")
        failures = [CellFailure(**f) for f in report.pop("failures")]
        report.pop("failed")  # derived from rows and passed
        exclusions = [Exclusion(**e) for e in data.pop("exclusions")]
        return BatchRecord(
            **data, report=BatchReport(**report, failures=failures), exclusions=exclusions
        )

    def save(self, record: BatchRecord) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(batches)
                .where(batches.c.batch_id == record.batch_id)
                .values(state=record.state, record=_json(record))
            )

    def ids(self) -> list[str]:
        """Every batch's id, oldest first."""
        query = select(batches.c.batch_id).order_by(batches.c.created_at)
        with self.engine.connect() as connection:
            return list(connection.execute(query).scalars())


def _json(record: BatchRecord) -> str:
    return json.dumps(record.as_dict(), ensure_ascii=False)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for chunk in iter(lambda: data.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
