"""QueryAsync's queries kept in the store until their result is fetched: each source's outcome
written as it comes in, so GetQueryResult answers from any API process, and a query whose
process died before its deadline is still answered, its sources marked as they stood."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from hub.errors import NotFound, StoreUnavailable
from hub.query.config import PartRule
from hub.query.dossier import Dossier, Outcome
from hub.query.sources import Fact
from hub.query.tables import query_async, query_async_answers
from hub.store import Store

# How long GetQueryResult can still fetch a dossier after its deadline passed.
KEPT_SECONDS = 600.0
# The outcome of a source its hub process never heard back from.
ORPHANED = "the hub process asking it stopped before it answered"


@dataclass(frozen=True)
class Pending:
    """A stored QueryAsync query: finished, or still running until ``deadline_at``."""

    dossier: Dossier  # sources that have not answered are marked timeout
    deadline_at: datetime
    finished: bool


class PendingQueries:
    def __init__(self, store: Store) -> None:
        self._store = store

    def open(self, dossier: Dossier, deadline_at: datetime) -> None:
        """Keep a query just started (its sections named, no outcome yet); prune the
        expired ones on the way."""
        request = {
            "subject": dossier.subject,
            "purpose": dossier.purpose,
            "askedAt": dossier.asked_at.isoformat(),
            "sections": [
                {"part": rule.name, "merge": rule.merge, "answers": list(rule.answers)}
                for rule, _ in dossier.sections
            ],
        }
        try:
            with self._store.engine.begin() as connection:
                prune(connection, datetime.now(UTC))
                connection.execute(
                    insert(query_async).values(
                        id=dossier.query_id,
                        requester=dossier.requester,
                        deadline_at=deadline_at,
                        expires_at=deadline_at + timedelta(seconds=KEPT_SECONDS),
                        request=self._seal(dossier.query_id, request),
                    )
                )
        except SQLAlchemyError as error:
            raise StoreUnavailable("the query could not be kept; try again") from error

    def answered(self, query_id: str, part: str, outcome: Outcome) -> None:
        """One source's outcome, as it comes in (a late one after ``finish`` is dropped)."""
        with self._store.engine.begin() as connection:
            self._insert(connection, query_id, part, outcome)

    def finish(self, dossier: Dossier) -> None:
        """The query is over: every source still without a row gets its final outcome."""
        with self._store.engine.begin() as connection:
            held = _answered_keys(connection, dossier.query_id)
            for rule, outcomes in dossier.sections:
                for outcome in outcomes:
                    if (rule.name, outcome.department) not in held:
                        self._insert(connection, dossier.query_id, rule.name, outcome)
            connection.execute(
                update(query_async)
                .where(query_async.c.id == dossier.query_id)
                .values(finished_at=datetime.now(UTC))
            )

    def read(self, query_id: str) -> Pending:
        """The query as the store holds it; NotFound when unknown or pruned."""
        query_id = query_id.strip().lower()
        with self._store.engine.connect() as connection:
            row = (
                connection.execute(select(query_async).where(query_async.c.id == query_id))
                .mappings()
                .first()
            )
            if row is None:
                raise NotFound(f"no query {query_id}")
            answers = connection.execute(
                select(query_async_answers).where(query_async_answers.c.query_id == query_id)
            ).mappings()
            outcomes = {
                (a["part"], a["department"]): _outcome(
                    a["department"], self._open(query_id, a["outcome"])
                )
                for a in answers
            }
        request = self._open(query_id, row["request"])
        dossier = Dossier(
            query_id,
            request["subject"],
            row["requester"],
            request["purpose"],
            datetime.fromisoformat(request["askedAt"]),
        )
        for section in request["sections"]:
            rule = PartRule(section["part"], tuple(section["answers"]), section["merge"])
            dossier.sections.append(
                (
                    rule,
                    [
                        outcomes.get((rule.name, code), Outcome(code, "timeout", detail=ORPHANED))
                        for code in rule.answers
                    ],
                )
            )
        return Pending(dossier, row["deadline_at"], row["finished_at"] is not None)

    def _insert(self, connection: Connection, query_id: str, part: str, outcome: Outcome) -> None:
        document = {
            "status": outcome.status,
            "answeredAt": outcome.answered_at.isoformat() if outcome.answered_at else None,
            "facts": [[fact.value, fact.as_of.isoformat()] for fact in outcome.facts],
            "detail": outcome.detail,
        }
        try:
            with connection.begin_nested():
                connection.execute(
                    insert(query_async_answers).values(
                        query_id=query_id,
                        part=part,
                        department=outcome.department,
                        outcome=self._seal(query_id, document),
                    )
                )
        except IntegrityError:
            pass  # this source's outcome is already final (or the query was pruned)

    def _seal(self, query_id: str, document: dict[str, Any]) -> bytes:
        data = json.dumps(document, ensure_ascii=False).encode()
        return self._store.payloads.seal(data, _context(query_id))

    def _open(self, query_id: str, data: bytes) -> Any:
        return json.loads(self._store.payloads.open(data, _context(query_id)))


def prune(connection: Connection, now: datetime) -> int:
    """Forget queries kept past their time; how many."""
    expired = select(query_async.c.id).where(query_async.c.expires_at < now)
    connection.execute(
        delete(query_async_answers).where(query_async_answers.c.query_id.in_(expired))
    )
    return int(
        connection.execute(delete(query_async).where(query_async.c.expires_at < now)).rowcount
    )


def _answered_keys(connection: Connection, query_id: str) -> set[tuple[str, str]]:
    rows = connection.execute(
        select(query_async_answers.c.part, query_async_answers.c.department).where(
            query_async_answers.c.query_id == query_id
        )
    )
    return {(part, department) for part, department in rows}


def _outcome(department: str, document: dict[str, Any]) -> Outcome:
    answered = document["answeredAt"]
    return Outcome(
        department,
        document["status"],
        datetime.fromisoformat(answered) if answered else None,
        tuple(Fact(value, date.fromisoformat(as_of)) for value, as_of in document["facts"]),
        document["detail"],
    )


def _context(query_id: str) -> bytes:
    return f"query_async/{query_id}".encode()
