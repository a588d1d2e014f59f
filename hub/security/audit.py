"""The append-only, hash-chained audit log.

Entry ``n`` stores ``prev_hash`` = hash of entry ``n-1`` (the genesis hash for entry 1) and
``hash`` = SHA-256 over its own fields and ``prev_hash``. One head row (``audit_head``) holds the
last seq and hash; every append updates it first, which takes the write lock on SQLite and the
row lock on PostgreSQL, so concurrent writers form one line. ``verify`` walks the chain and
names the first entry that was edited, inserted or deleted; an attacker who rewrites the chain
from some entry on (and the head), or deletes its tail and rolls the head back, is caught by
hashes kept outside the database (``anchors``: a signed export, signed checkpoints).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, bindparam, insert, select, text, update

from hub.errors import AuditChainBroken
from hub.identity import mask_in_text
from hub.security.tables import (
    ACTION_CHARS,
    ACTOR_CHARS,
    GENESIS_HASH,
    SUBJECT_CHARS,
    audit_archives,
    audit_head,
    audit_log,
)
from hub.store.arrays import ArrayInsert
from hub.store.direct import DirectStatement
from hub.untrusted import MAX_UNTRUSTED_CHARS, bounded, cut, shown, too_long

# What happened. Free text is allowed; these are the ones the hub writes.
ACCEPTED = "accepted"
TRANSLATED = "translated"
DELIVERY_ATTEMPT = "delivery_attempt"
REPLAYED = "replayed"
REFUSED = "refused"
ADMIN_CHANGE = "admin_change"
REVEALED = "reveal"  # identity numbers shown in clear: who, which message, why
# Federation (hub/federation): a leg handed to the next hub, and a forward taken in from one.
FORWARDED = "forwarded"
FORWARD_RECEIVED = "forward_received"

HEAD_ID = 1
_DIGEST = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: str  # JSON text exactly as hashed
    prev_hash: str
    hash: str

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": timestamp_text(self.at),
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "details": json.loads(self.details),
            "details_text": self.details,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class ChainReport:
    """``broken_at`` is the first seq where the chain does not hold (None: intact)."""

    entries: int
    head_seq: int
    head_hash: str
    broken_at: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def timestamp_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def details_text(details: Mapping[str, Any] | None) -> str:
    """Canonical JSON; identity numbers masked, so the log never holds a full one.

    The digests the hub writes (``*sha256`` keys holding 64 hex characters) are kept whole:
    they prove what arrived, and a 15-digit run inside one (one digest in twenty-five) would
    otherwise be masked with the numbers."""
    masked = {
        mask_in_text(str(key)): value if _is_digest(key, value) else _masked(value)
        for key, value in (details or {}).items()
    }
    return json.dumps(masked, ensure_ascii=False, sort_keys=True)


def _is_digest(key: object, value: object) -> bool:
    return str(key).endswith("sha256") and isinstance(value, str) and bool(_DIGEST.fullmatch(value))


def _masked(value: Any) -> Any:
    """``value`` as JSON holds it, every text (and number) with identity numbers masked."""
    if isinstance(value, Mapping):
        return {mask_in_text(str(k)): _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    if value is None or isinstance(value, bool | float):
        return value
    text = str(value)
    masked = mask_in_text(text)
    if isinstance(value, int) and masked == text:
        return value
    return masked


def entry_hash(
    seq: int, at: datetime, actor: str, action: str, subject: str, details: str, prev_hash: str
) -> str:
    fields = [seq, timestamp_text(at), actor, action, subject, details, prev_hash]
    canonical = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewEntry:
    """An entry to append: what ``append`` takes, for ``append_many``."""

    actor: str
    action: str
    subject: str
    at: datetime
    details: Mapping[str, Any] | None = None


def append(
    connection: Connection,
    *,
    actor: str,
    action: str,
    subject: str,
    at: datetime,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry inside the caller's transaction (it commits or rolls back with it)."""
    return append_many(connection, [NewEntry(actor, action, subject, at, details)])[0]


def append_many(connection: Connection, new: Sequence[NewEntry]) -> list[AuditEntry]:
    """Chain several entries, in order, under one hold of the head's lock.

    One statement moves the head on by ``len(new)``, takes the lock (the write lock on SQLite,
    the row lock on PostgreSQL) and reads the head: no two writers see the same head, and the
    lock is held for three round trips (this, the insert, the head's hash; two on PostgreSQL,
    where the insert sets the head's hash) plus the commit, however many entries there are.
    """
    if not new:
        return []
    last, prev_hash = connection.execute(_TAKE_HEAD, {"a_count": len(new)}).one()
    return append_to_taken_head(connection, new, TakenHead(int(last), str(prev_hash)))


class TakenHead(NamedTuple):
    """The head as a statement that moved it on left it: the new last seq, the hash before."""

    seq: int
    hash: str


def append_to_taken_head(
    connection: Connection, new: Sequence[NewEntry], head: TakenHead
) -> list[AuditEntry]:
    """``append_many`` after the caller's own statement moved the head on by ``len(new)``
    (``TAKE_HEAD_SQL``, with ``a_count``), which took its lock."""
    added = list(_chained(new, head.seq - len(new) + 1, head.hash))
    rows = [_row(entry, entry.hash) for entry in added]
    if connection.dialect.name == "postgresql":  # one round trip, one text for any count
        _INSERT_AND_SET_HEAD.rows(
            connection, {**_ENTRY_ARRAYS.parameters(rows), "a_hash": added[-1].hash}
        )
        return added
    connection.execute(_INSERT_ENTRIES, rows)
    connection.execute(_SET_HEAD_HASH, {"a_hash": added[-1].hash})
    return added


# Built once: they run for every accept batch and every batch of attempt records.
_TAKE_HEAD = (
    update(audit_head)
    .where(audit_head.c.id == HEAD_ID)
    .values(seq=audit_head.c.seq + bindparam("a_count"))
    .returning(audit_head.c.seq, audit_head.c.hash)
)
# For a caller's larger statement (a CTE): the same, as SQL text.
TAKE_HEAD_SQL = (
    f"UPDATE audit_head SET seq = audit_head.seq + :a_count WHERE audit_head.id = {HEAD_ID} "
    "RETURNING audit_head.seq, audit_head.hash"
)
_INSERT_ENTRIES = insert(audit_log)
_SET_HEAD_HASH = (
    update(audit_head).where(audit_head.c.id == HEAD_ID).values(hash=bindparam("a_hash"))
)
# PostgreSQL: the entries from arrays (hub/store/arrays.py) and the head's hash, one statement.
_ENTRY_ARRAYS = ArrayInsert(audit_log, [column.name for column in audit_log.columns])
_INSERT_AND_SET_HEAD = DirectStatement(  # hub/store/direct.py: run straight on psycopg
    text(
        f"WITH added AS ({_ENTRY_ARRAYS.sql}) "
        f"UPDATE audit_head SET hash = :a_hash WHERE id = {HEAD_ID}"
    )
)


def _chained(new: Sequence[NewEntry], first_seq: int, prev_hash: str) -> Iterator[AuditEntry]:
    for seq, item in enumerate(new, start=first_seq):
        text = details_text(item.details)
        # A long value may be a caller's: each is cut (the everyday entry is only measured).
        if len(text) > MAX_UNTRUSTED_CHARS and too_long(item.details):
            text = details_text(bounded(item.details))
        fields = (
            seq,
            item.at,
            shown(item.actor, ACTOR_CHARS),  # as their columns hold them: hashed as stored
            cut(item.action, ACTION_CHARS),
            shown(item.subject, SUBJECT_CHARS),
            text,
        )
        digest = entry_hash(*fields, prev_hash)
        yield AuditEntry(*fields, prev_hash, digest)
        prev_hash = digest


class AuditLog:
    """For callers without a transaction of their own (refusals, admin commands)."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] | None = None) -> None:
        self._engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))

    def append(
        self, *, actor: str, action: str, subject: str, details: Mapping[str, Any] | None = None
    ) -> AuditEntry:
        with self._engine.begin() as connection:
            return append(
                connection,
                actor=actor,
                action=action,
                subject=subject,
                at=self._clock(),
                details=details,
            )


class Start(NamedTuple):
    """Where a walk begins: the entry before the first one read, and its hash."""

    seq: int
    hash: str


ORIGIN = Start(0, GENESIS_HASH)


def entries(
    connection: Connection, *, batch: int = 1000, after: int = 0, through: int | None = None
) -> Iterator[AuditEntry]:
    """Every stored entry in seq order (after seq ``after``, up to ``through``), streamed."""
    query = select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq)
    if through is not None:
        query = query.where(audit_log.c.seq <= through)
    # On the statement, not the connection: a connection's options stay with it, and every
    # later statement on it would open a server-side cursor (an INSERT cannot).
    result = connection.execute(query.execution_options(yield_per=batch))
    for row in result:
        yield AuditEntry(
            row.seq,
            row.at,
            row.actor,
            row.action,
            row.subject,
            row.details,
            row.prev_hash,
            row.hash,
        )


def head(connection: Connection) -> tuple[int, str]:
    seq, digest = connection.execute(
        select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == HEAD_ID)
    ).one()
    return int(seq), str(digest)


class Anchor(NamedTuple):
    """An entry's hash kept outside the database, and where it is kept (named in reports)."""

    hash: str
    source: str


def archived_through(connection: Connection) -> Start:
    """Where the live table's chain continues from: the last archived entry (hub/security/
    archive.py), or the origin when nothing was archived."""
    row = connection.execute(
        select(audit_archives.c.through_seq, audit_archives.c.through_hash)
        .order_by(audit_archives.c.through_seq.desc())
        .limit(1)
    ).first()
    return ORIGIN if row is None else Start(int(row.through_seq), str(row.through_hash))


def verify(
    connection: Connection,
    *,
    anchors: Mapping[int, Anchor] | None = None,
    start: Start | None = None,
) -> ChainReport:
    """Walk the live chain from ``start`` (default: where the archive ends); every entry with
    an anchor (seq -> kept hash) must still have that hash."""
    head_seq, head_hash = head(connection)
    begin = start or archived_through(connection)
    stream = entries(connection, after=begin.seq)
    return check_chain(stream, head_seq, head_hash, anchors, start=begin)


def check_chain(
    stream: Iterable[AuditEntry],
    head_seq: int,
    head_hash: str,
    anchors: Mapping[int, Anchor] | None = None,
    *,
    start: Start = ORIGIN,
) -> ChainReport:
    """The chain rules, on any stream of entries (the database, an export, archives)."""
    walk = _Walk(head_seq, head_hash, anchors or {}, start)
    for entry in stream:
        problem = walk.step(entry)
        if problem is not None:
            return walk.broken(*problem)
    return walk.end()


def walked(stream: Iterable[AuditEntry], start: Start, last_seq: int) -> Iterator[AuditEntry]:
    """``stream`` as it is read, each entry once the chain rules hold for it (from ``start``,
    up to ``last_seq``); AuditChainBroken at the first that does not."""
    walk = _Walk(last_seq, "", {}, start)
    for entry in stream:
        problem = walk.step(entry)
        if problem is not None:
            raise AuditChainBroken(f"entry {problem[0]}: {problem[1]}", seq=problem[0])
        yield entry
    if walk.expected_seq - 1 != last_seq:
        seq = walk.expected_seq
        raise AuditChainBroken(_missing_tail(seq, last_seq), seq=seq)


class _Walk:
    """One pass over the entries in seq order; ``step`` returns (first bad seq, reason)."""

    def __init__(
        self, head_seq: int, head_hash: str, anchors: Mapping[int, Anchor], start: Start
    ) -> None:
        self.head_seq, self.head_hash, self.anchors = head_seq, head_hash, anchors
        self.expected_seq, self.prev_hash, self.count = start.seq + 1, start.hash, 0
        self.last_anchored = start.seq  # the last seq whose kept hash matched (or the start)

    def step(self, entry: AuditEntry) -> tuple[int, str] | None:
        problem = _problem(entry, self.expected_seq, self.prev_hash, self.head_seq)
        if problem is not None and self._does_not_continue(entry):
            problem = (
                entry.seq,
                (
                    f"entry {entry.seq} does not continue from entry {entry.seq - 1}, which is "
                    "known good (an archive's end or a kept hash): its link was replaced"
                ),
            )
        if problem is None:
            problem = self._against_anchor(entry)
        if problem is None:
            self.expected_seq, self.prev_hash = entry.seq + 1, entry.hash
            self.count += 1
        return problem

    def _does_not_continue(self, entry: AuditEntry) -> bool:
        """The entry after one that is known good (a kept hash matched, or where the walk
        started: an archive's end, a checkpoint) is intact but links elsewhere: it is the
        forged one, not the entry before."""
        fields = (entry.seq, entry.at, entry.actor, entry.action, entry.subject, entry.details)
        return (
            self.last_anchored > 0
            and entry.seq == self.last_anchored + 1 == self.expected_seq
            and entry.prev_hash != self.prev_hash
            and entry_hash(*fields, entry.prev_hash) == entry.hash
        )

    def end(self) -> ChainReport:
        if self.expected_seq - 1 != self.head_seq:
            return self.broken(self.expected_seq, _missing_tail(self.expected_seq, self.head_seq))
        if self.prev_hash != self.head_hash:
            return self.broken(self.head_seq, "the chain head does not match")
        beyond = self._anchored_beyond_the_end()
        if beyond is not None:
            return self.broken(*beyond)
        return ChainReport(self.count, self.head_seq, self.head_hash)

    def broken(self, seq: int, reason: str) -> ChainReport:
        return ChainReport(self.count, self.head_seq, self.head_hash, seq, reason)

    def _against_anchor(self, entry: AuditEntry) -> tuple[int, str] | None:
        anchor = self.anchors.get(entry.seq)
        if anchor is None:
            return None
        if anchor.hash == entry.hash:
            self.last_anchored = entry.seq
            return None
        # The chain up to here holds, so everything after the last matching anchor may have been
        # rewritten: name the first entry that may be, not the anchor that caught it.
        first = self.last_anchored + 1
        if first == entry.seq:
            return first, f"entry {first} differs from {anchor.source} (the chain was rewritten)"
        return first, (
            f"entry {entry.seq} differs from {anchor.source}: the chain was rewritten from an "
            f"entry between {first} and {entry.seq}"
            + (f" (entry {first - 1} matches a kept hash)" if first > 1 else "")
        )

    def _anchored_beyond_the_end(self) -> tuple[int, str] | None:
        last = self.expected_seq - 1
        kept = max((seq for seq in self.anchors if seq > last), default=None)
        if kept is None:
            return None
        return last + 1, (
            f"entries {last + 1} to {kept} are missing: {self.anchors[kept].source} holds entry "
            f"{kept} (the tail was deleted and the head rolled back)"
        )


def _problem(
    entry: AuditEntry, expected_seq: int, prev_hash: str, head_seq: int
) -> tuple[int, str] | None:
    if entry.seq > head_seq:
        return entry.seq, f"entry {entry.seq} is beyond the chain head {head_seq} (inserted)"
    if entry.seq != expected_seq:
        return expected_seq, f"entry {expected_seq} is missing (deleted)"
    fields = (entry.seq, entry.at, entry.actor, entry.action, entry.subject, entry.details)
    if entry_hash(*fields, entry.prev_hash) != entry.hash:
        return entry.seq, f"entry {entry.seq} was edited: its hash does not match its content"
    if entry.prev_hash != prev_hash:
        return _broken_link(entry.seq)
    return None


def _broken_link(seq: int) -> tuple[int, str]:
    """Entry ``seq`` is intact but records another hash for the entry before it: that one was
    edited and its hash recomputed (the usual forgery), so it is the first edited entry."""
    if seq == 1:
        return 1, "entry 1 does not start the chain (its prev_hash was replaced)"
    return seq - 1, (
        f"entry {seq - 1} was edited and its hash recomputed: entry {seq} recorded another hash "
        f"for it (or entry {seq}'s link was forged)"
    )


def _missing_tail(expected_seq: int, head_seq: int) -> str:
    if expected_seq - 1 > head_seq:
        return f"entries after {head_seq} were added without the chain head"
    return f"entries {expected_seq} to {head_seq} are missing (deleted at the end)"


def _row(entry: AuditEntry, digest: str) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
        "hash": digest,
    }
