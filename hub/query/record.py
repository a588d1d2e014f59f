"""The record of queries: each answered query kept (who asked about whom, which parts, why,
what each source answered), and read back for `govhub queries list|show`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError

from hub.errors import NotFound, StoreUnavailable
from hub.identity import mask
from hub.query.dossier import Dossier
from hub.query.tables import query_log
from hub.store import Store


@dataclass(frozen=True)
class QueryRecord:
    id: str
    requester: str
    subject: str  # masked
    parts: tuple[str, ...]
    purpose: str
    asked_at: datetime
    duration_ms: int
    complete: bool
    answered: list[dict[str, Any]]  # {part, department, status, values}

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "requester": self.requester,
            "subject": self.subject,
            "parts": list(self.parts),
            "purpose": self.purpose,
            "askedAt": self.asked_at.isoformat(),
            "durationMs": self.duration_ms,
            "complete": self.complete,
            "answered": self.answered,
        }


class QueryLog:
    def __init__(self, store: Store) -> None:
        self._store = store

    def record(self, dossier: Dossier, duration_ms: int) -> None:
        answered = [
            {
                "part": rule.name,
                "department": outcome.department,
                "status": outcome.status,
                "values": len(outcome.facts),
            }
            for rule, outcomes in dossier.sections
            for outcome in outcomes
        ]
        try:
            self._insert(dossier, duration_ms, answered)
        except SQLAlchemyError as error:  # an unrecorded query is not answered
            raise StoreUnavailable("the query could not be recorded; try again") from error

    def _insert(self, dossier: Dossier, duration_ms: int, answered: list[dict[str, Any]]) -> None:
        with self._store.engine.begin() as connection:
            connection.execute(
                insert(query_log).values(
                    id=dossier.query_id,
                    requester=dossier.requester,
                    subject_hash=self._store.identities.digest(dossier.subject),
                    subject_masked=mask(dossier.subject),
                    parts=",".join(rule.name for rule, _ in dossier.sections),
                    purpose=dossier.purpose[:500],
                    asked_at=dossier.asked_at,
                    duration_ms=duration_ms,
                    complete=dossier.complete,
                    answered=json.dumps(answered),
                )
            )

    def recent(
        self, *, requester: str | None = None, subject: str | None = None, limit: int = 50
    ) -> list[QueryRecord]:
        """The newest queries first; ``subject`` an identity number, found by its hash."""
        query = select(query_log).order_by(query_log.c.asked_at.desc()).limit(limit)
        if requester:
            query = query.where(query_log.c.requester == requester)
        if subject:
            digests = self._store.identities.lookup_digests(subject)
            query = query.where(query_log.c.subject_hash.in_(digests))
        with self._store.engine.connect() as connection:
            return [_record(row) for row in connection.execute(query).mappings()]

    def get(self, query_id: str) -> QueryRecord:
        with self._store.engine.connect() as connection:
            row = (
                connection.execute(select(query_log).where(query_log.c.id == query_id.strip()))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"no query {query_id}")
        return _record(row)


def _record(row: Any) -> QueryRecord:
    return QueryRecord(
        id=row["id"],
        requester=row["requester"],
        subject=row["subject_masked"],
        parts=tuple(p for p in row["parts"].split(",") if p),
        purpose=row["purpose"],
        asked_at=row["asked_at"],
        duration_ms=row["duration_ms"],
        complete=row["complete"],
        answered=json.loads(row["answered"]),
    )
