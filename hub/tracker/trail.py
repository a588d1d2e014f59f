"""A person's trail, assembled from what the hub already keeps: messages naming them (through
the identity index) with their deliveries, queries about them (query_log), operators' reveals
(the audit chain) and replays (operator_actions). Only metadata is read, so the trail is the
same after the bodies are pruned. Every identity number in free text is masked but the
subject's."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select

from hub.identity import mask_in_text, verify
from hub.query.tables import query_log
from hub.security.tables import audit_log
from hub.store import Store
from hub.store.models import DeliveryRow, MessageIdentityRow, MessageRow, OperatorActionRow
from hub.tracker.exemptions import Exemption, Exemptions
from hub.tracker.fields import fields_of

MESSAGE = "message"
QUERY = "query"
REVEAL = "reveal"
REPLAY = "replay"
OPERATOR = "operator"  # everything, exempted entries marked with their exemption
CITIZEN = "citizen"  # exempted departments' accesses withheld


@dataclass(frozen=True)
class Leg:
    """A department the entry reached: a delivery (state, attempts) or a query's source."""

    department: str
    state: str
    at: datetime | None = None
    attempts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "department": self.department,
            "state": self.state,
            "at": None if self.at is None else self.at.isoformat(),
            "attempts": self.attempts,
        }


@dataclass(frozen=True)
class TrailEntry:
    kind: str  # message | query | reveal | replay
    at: datetime
    reference: str  # the message id or the query id
    actor: str  # the sending or asking department, or the operator
    what: str  # the message type, or the parts asked for
    purpose: str  # the purpose or legal basis given, or the operator's reason
    fields: tuple[str, ...] = ()
    legs: tuple[Leg, ...] = ()
    pruned: bool = False
    confidential: tuple[Exemption, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at": self.at.isoformat(),
            "reference": self.reference,
            "actor": self.actor,
            "what": self.what,
            "purpose": self.purpose,
            "fields": list(self.fields),
            "legs": [leg.as_dict() for leg in self.legs],
            "pruned": self.pruned,
            "confidential": [exemption.as_dict() for exemption in self.confidential],
        }


@dataclass(frozen=True)
class TrailPage:
    subject: str
    total: int
    page: int
    page_size: int
    entries: tuple[TrailEntry, ...]


class Trail:
    def __init__(self, store: Store, exemptions: Exemptions) -> None:
        self._store = store
        self._exemptions = exemptions

    def entries(
        self, person: str, *, since: datetime | None = None, view: str = OPERATOR
    ) -> list[TrailEntry]:
        """Every entry about ``person``, newest first (InvalidIdentityNumber first)."""
        verify(person, where="identityNumber")
        digests = self._store.identities.lookup_digests(person)
        running = self._exemptions.in_force(digests)
        with _no_collections(), self._store.engine.connect() as connection:
            found = _read(connection, digests, since, _Shown(person))
            found.sort(key=_newest_first, reverse=True)
            return list(_applied(found, running, view))

    def page(
        self,
        person: str,
        *,
        page: int = 1,
        page_size: int = 100,
        since: datetime | None = None,
        view: str = OPERATOR,
    ) -> TrailPage:
        """One page, newest first. While no exemption runs for the person, only the newest
        ``page * page_size`` entries of each kind are read and the total is counted in SQL;
        otherwise (withheld entries change the count) the whole trail is assembled."""
        verify(person, where="identityNumber")
        digests = self._store.identities.lookup_digests(person)
        start = (page - 1) * page_size
        if self._exemptions.in_force(digests):
            entries = self.entries(person, since=since, view=view)
            return TrailPage(
                person, len(entries), page, page_size, tuple(entries[start:][:page_size])
            )
        newest = page * page_size
        with _no_collections(), self._store.engine.connect() as connection:
            total = sum(connection.execute(count).scalar_one() for count in _counts(digests, since))
            found = _read(connection, digests, since, _Shown(person), newest)
        found.sort(key=_newest_first, reverse=True)
        return TrailPage(person, total, page, page_size, tuple(found[start:newest]))


def _read(
    connection: Connection,
    digests: Sequence[str],
    since: datetime | None,
    shown: _Shown,
    newest: int | None = None,
) -> list[TrailEntry]:
    """Every entry of each kind, or only the ``newest`` of each."""
    return [
        *_messages(connection.execute(_message_query(digests, since, newest)).all(), shown),
        *_queries(
            _rows(connection, _query_query(digests, since), query_log.c.asked_at, newest), shown
        ),
        *_reveals(_rows(connection, _reveal_query(digests, since), audit_log.c.at, newest), shown),
        *_replays(
            _rows(connection, _replay_query(digests, since), OperatorActionRow.at, newest), shown
        ),
    ]


def _counts(digests: Sequence[str], since: datetime | None) -> list[Any]:
    sources = (
        _message_ids(digests, since),
        _query_query(digests, since),
        _reveal_query(digests, since),
        _replay_query(digests, since),
    )
    return [select(func.count()).select_from(source.subquery()) for source in sources]


def _rows(connection: Connection, query: Any, at: Any, newest: int | None) -> Sequence[Any]:
    return connection.execute(_newest(query, at, newest)).all()


def _newest(query: Any, at: Any, newest: int | None) -> Any:
    """The query's newest ``newest`` rows by ``at`` (None: all of them)."""
    return query if newest is None else query.order_by(at.desc()).limit(newest)


@contextmanager
def _no_collections() -> Iterator[None]:
    """A trail of 10,000 entries makes some 100,000 objects, all kept: the cyclic garbage
    collector's full passes over the whole process while they are made cost more than
    making them (measured: bench/tracker.py). Nothing made here forms a cycle."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Shown:
    """shown_text for one subject, each distinct text masked once (purposes repeat)."""

    def __init__(self, person: str) -> None:
        self._person = person
        self._done: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        done = self._done.get(text)
        if done is None:
            done = self._done[text] = shown_text(text, self._person)
        return done


def _newest_first(entry: TrailEntry) -> tuple[datetime, str, str]:
    return (entry.at, entry.kind, entry.reference)


def _identified(digests: Sequence[str], message_id: Any) -> Any:
    """Rows of a message naming the person (the identity index, under every key)."""
    return and_(
        MessageIdentityRow.message_id == message_id,
        MessageIdentityRow.identity_sha256.in_(digests),
    )


def _message_ids(digests: Sequence[str], since: datetime | None) -> Any:
    query = select(MessageRow.id).join(MessageIdentityRow, _identified(digests, MessageRow.id))
    return query if since is None else query.where(MessageRow.received_at >= since)


def _message_query(digests: Sequence[str], since: datetime | None, newest: int | None) -> Any:
    query = select(
        MessageRow.id,
        MessageRow.message_type,
        MessageRow.sender,
        MessageRow.purpose,
        MessageRow.received_at,
        MessageRow.pruned_at,
        DeliveryRow.department,
        DeliveryRow.state,
        DeliveryRow.delivered_at,
        DeliveryRow.attempts,
    ).outerjoin(DeliveryRow, DeliveryRow.message_id == MessageRow.id)
    if newest is not None:  # the newest messages' ids first, then their legs
        window = _newest(_message_ids(digests, since), MessageRow.received_at, newest).subquery()
        return query.join(window, window.c.id == MessageRow.id)
    query = query.join(MessageIdentityRow, _identified(digests, MessageRow.id))
    return query if since is None else query.where(MessageRow.received_at >= since)


def _query_query(digests: Sequence[str], since: datetime | None) -> Any:
    query = select(query_log).where(query_log.c.subject_hash.in_(digests))
    return query if since is None else query.where(query_log.c.asked_at >= since)


def _reveal_query(digests: Sequence[str], since: datetime | None) -> Any:
    query = select(audit_log.c.at, audit_log.c.actor, audit_log.c.subject, audit_log.c.details)
    query = query.join(MessageIdentityRow, _identified(digests, audit_log.c.subject)).where(
        audit_log.c.action == REVEAL
    )
    return query if since is None else query.where(audit_log.c.at >= since)


def _replay_query(digests: Sequence[str], since: datetime | None) -> Any:
    query = (
        select(OperatorActionRow)
        .join(MessageIdentityRow, _identified(digests, OperatorActionRow.message_id))
        .where(OperatorActionRow.action == REPLAY, OperatorActionRow.dry_run.is_(False))
    )
    return query if since is None else query.where(OperatorActionRow.at >= since)


def _messages(rows: Iterable[Any], shown: _Shown) -> list[TrailEntry]:
    """One entry per message from its rows (one per leg): each entry is made once."""
    firsts: dict[str, Any] = {}
    legs: dict[str, list[Leg]] = {}
    for row in rows:
        if row.id not in firsts:
            firsts[row.id] = row
            legs[row.id] = []
        if row.department is not None:
            legs[row.id].append(Leg(row.department, row.state, row.delivered_at, row.attempts))
    return [
        TrailEntry(
            MESSAGE,
            row.received_at,
            message_id,
            row.sender,
            row.message_type,
            shown(row.purpose),
            fields=fields_of(row.message_type),
            legs=tuple(sorted(legs[message_id], key=_by_department)),
            pruned=row.pruned_at is not None,
        )
        for message_id, row in firsts.items()
    ]


def _by_department(leg: Leg) -> str:
    return leg.department


def _queries(rows: Iterable[Any], shown: _Shown) -> list[TrailEntry]:
    return [
        TrailEntry(
            QUERY,
            row.asked_at,
            row.id,
            row.requester,
            row.parts,
            shown(row.purpose),
            legs=tuple(
                Leg(answer["department"], answer["status"]) for answer in json.loads(row.answered)
            ),
        )
        for row in rows
    ]


def _reveals(rows: Iterable[Any], shown: _Shown) -> list[TrailEntry]:
    entries = []
    for row in rows:
        details = json.loads(row.details)
        entries.append(
            TrailEntry(
                REVEAL,
                row.at,
                row.subject,
                row.actor,
                f"identity numbers in clear ({details.get('via', '')})",
                shown(str(details.get("reason", ""))),
            )
        )
    return entries


def _replays(rows: Iterable[Any], shown: _Shown) -> list[TrailEntry]:
    entries = []
    for row in rows:
        detail = json.loads(row.detail) or {}
        legs = tuple(
            Leg(str(leg.get("department", "")), str(leg.get("result", "")), row.at)
            for leg in detail.get("legs", [])
        )
        entries.append(
            TrailEntry(
                REPLAY,
                row.at,
                row.message_id,
                row.actor,
                REPLAY,
                shown(row.reason),
                legs=legs,
            )
        )
    return entries


def _applied(
    entries: Iterable[TrailEntry], running: dict[str, Exemption], view: str
) -> Iterable[TrailEntry]:
    """The operator's view marks exempted accesses; the citizen's leaves them out: an entry
    whose actor is exempted, or the exempted legs of an entry (the entry too if none stay)."""
    if not running:  # the everyday case: nothing to mark or leave out
        yield from entries
        return
    for entry in entries:
        exempted = [
            running[name]
            for name in dict.fromkeys([entry.actor, *(leg.department for leg in entry.legs)])
            if name in running
        ]
        if not exempted:
            yield entry
        elif view == OPERATOR:
            yield replace(entry, confidential=tuple(exempted))
        elif entry.actor not in running:
            kept = tuple(leg for leg in entry.legs if leg.department not in running)
            if kept or entry.kind != REPLAY:
                yield replace(entry, legs=kept)


def shown_text(text: str, person: str) -> str:
    """Free text with every identity number masked but the subject's own."""
    if person not in text:
        return mask_in_text(text)
    return person.join(mask_in_text(part) for part in text.split(person))
