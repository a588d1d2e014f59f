"""A mock department's own store: what it received, and the outbox of what its clerks entered.

One SQLite file per department (WAL), shared by the request threads through one connection
guarded by a lock: a mock's load is a few thousand small writes, and one writer is simplest.
The idempotency key is the primary key of what was received, so a repeat is ignored in SQL;
every delivery is also logged, kept or not, so tests can count what the key absorbed and see
whether one record was ever applied twice (the same content kept under two keys).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from hub.errors import NotFound

_SCHEMA = """
CREATE TABLE IF NOT EXISTS received (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    received_at TEXT NOT NULL,
    payload TEXT NOT NULL,
    encoding TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS received_kind ON received (kind);
CREATE TABLE IF NOT EXISTS received_person (
    received_id INTEGER NOT NULL REFERENCES received (id),
    id_number TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,  -- of the payload: the record, whatever key it came with
    received_at TEXT NOT NULL,
    applied INTEGER NOT NULL  -- 1: kept as a new record; 0: a repeat its key absorbed
);
CREATE INDEX IF NOT EXISTS received_person_number ON received_person (id_number);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_status ON outbox (status);
CREATE TABLE IF NOT EXISTS register (  -- what the department knows, for answering queries
    id_number TEXT NOT NULL,
    topic TEXT NOT NULL,
    value TEXT NOT NULL,
    as_of TEXT NOT NULL
);
"""

PENDING = "pending"
PUSHED = "pushed"
REJECTED = "rejected"


@dataclass(frozen=True)
class Received:
    """One record a department took from the hub."""

    id: int
    idempotency_key: str
    kind: str
    received_at: str
    payload: str
    encoding: str
    reference: str


@dataclass(frozen=True)
class DeliveryCounts:
    """Every delivery a department received, and what became of it."""

    received: int  # deliveries, kept or not
    applied: int  # kept as new records
    repeated: int  # absorbed by a key already kept
    applied_twice: int  # records (same kind and content) kept more than once, under other keys

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class OutboxEntry:
    """One record a clerk entered, to be pushed to the hub."""

    id: int
    idempotency_key: str
    kind: str
    path: str
    content_type: str
    body: bytes
    status: str
    attempts: int
    last_error: str | None
    created_at: str


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def store_path(data_dir: Path, code: str) -> Path:
    """Where department ``code`` keeps its store under a data folder."""
    return data_dir / "mock_departments" / f"{code}.db"


class MockStore:
    """Thread-safe SQLite store of one mock department."""

    def __init__(self, path: Path, *, reference_prefix: str = "R") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.reference_prefix = reference_prefix
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, params: Iterable[object] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            return list(self._db.execute(sql, tuple(params)).fetchall())

    # -- the register queries are answered from --------------------------------------------

    def put_fact(self, *, id_number: str, topic: str, value: str, as_of: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO register (id_number, topic, value, as_of) VALUES (?, ?, ?, ?)",
                (id_number, topic, value, as_of),
            )

    def facts(self, id_number: str, topic: str) -> list[tuple[str, str]]:
        """(value, as of) of one person and topic, oldest first."""
        rows = self._query(
            "SELECT value, as_of FROM register WHERE id_number = ? AND topic = ? ORDER BY as_of",
            (id_number, topic),
        )
        return [(str(value), str(as_of)) for value, as_of in rows]

    # -- received ---------------------------------------------------------------------------

    def record(
        self,
        *,
        key: str,
        kind: str,
        payload: str,
        encoding: str,
        id_numbers: Iterable[str] = (),
    ) -> tuple[Received, bool]:
        """Keep a received record unless its key is known; return it and whether it is new."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO received"
                " (idempotency_key, kind, received_at, payload, encoding) VALUES (?, ?, ?, ?, ?)",
                (key, kind, now_iso(), payload, encoding),
            )
            is_new = cursor.rowcount == 1
            db.execute(
                "INSERT INTO deliveries"
                " (idempotency_key, kind, content_sha256, received_at, applied)"
                " VALUES (?, ?, ?, ?, ?)",
                (key, kind, hashlib.sha256(payload.encode()).hexdigest(), now_iso(), int(is_new)),
            )
            if is_new:
                db.executemany(
                    "INSERT INTO received_person (received_id, id_number) VALUES (?, ?)",
                    [(cursor.lastrowid, number) for number in dict.fromkeys(id_numbers)],
                )
            row = db.execute(_SELECT_RECEIVED + " WHERE idempotency_key = ?", (key,)).fetchone()
        return self._received(row), is_new

    def count(self, kind: str | None = None) -> int:
        """How many distinct records were received (of one kind, or in all)."""
        if kind is None:
            rows = self._query("SELECT COUNT(*) FROM received")
        else:
            rows = self._query("SELECT COUNT(*) FROM received WHERE kind = ?", (kind,))
        return int(str(rows[0][0]))

    def repeats(self) -> int:
        """How many repeated deliveries of keys it already had were ignored, in all."""
        return self.deliveries().repeated

    def deliveries(self) -> DeliveryCounts:
        """Counts over every delivery received: what "exactly once" is measured with."""
        rows = self._query(
            "SELECT COUNT(*), COALESCE(SUM(applied), 0),"
            " (SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE applied = 1"
            "  GROUP BY kind, content_sha256 HAVING COUNT(*) > 1))"
            " FROM deliveries"
        )
        received, applied, twice = (int(str(n)) for n in rows[0])
        return DeliveryCounts(received, applied, received - applied, twice)

    def deliveries_of(self, key: str) -> int:
        """How many times the delivery with this key arrived, kept or not."""
        rows = self._query("SELECT COUNT(*) FROM deliveries WHERE idempotency_key = ?", (key,))
        return int(str(rows[0][0]))

    def count_by_kind(self) -> dict[str, int]:
        rows = self._query("SELECT kind, COUNT(*) FROM received GROUP BY kind ORDER BY kind")
        return {str(kind): int(str(n)) for kind, n in rows}

    def received(
        self, *, kind: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[Received]:
        """Received records, oldest first, one page at a time."""
        where, params = ("WHERE kind = ?", [kind]) if kind else ("", [])
        rows = self._query(
            f"{_SELECT_RECEIVED} {where} ORDER BY id LIMIT ? OFFSET ?", [*params, limit, offset]
        )
        return [self._received(row) for row in rows]

    def keys(self) -> set[str]:
        return {str(row[0]) for row in self._query("SELECT idempotency_key FROM received")}

    def get(self, key: str) -> Received:
        rows = self._query(_SELECT_RECEIVED + " WHERE idempotency_key = ?", (key,))
        if not rows:
            raise NotFound(f"no record received with idempotency key {key!r}")
        return self._received(rows[0])

    def received_for(self, id_number: str) -> list[Received]:
        """Every record that names this identity number."""
        rows = self._query(
            _SELECT_RECEIVED + " WHERE id IN"
            " (SELECT received_id FROM received_person WHERE id_number = ?) ORDER BY id",
            (id_number,),
        )
        return [self._received(row) for row in rows]

    def _received(self, row: tuple[object, ...]) -> Received:
        id_, key, kind, at, payload, encoding = row
        number = int(str(id_))
        return Received(
            id=number,
            idempotency_key=str(key),
            kind=str(kind),
            received_at=str(at),
            payload=str(payload),
            encoding=str(encoding),
            reference=f"{self.reference_prefix}{number:08d}",
        )

    # -- outbox -----------------------------------------------------------------------------

    def add_outbox(self, *, key: str, kind: str, path: str, content_type: str, body: bytes) -> int:
        """Keep a clerk's record for pushing; the key (registration number) must be new."""
        at = now_iso()
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO outbox (idempotency_key, kind, path, content_type, body,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, kind, path, content_type, body, at, at),
            )
        return int(cursor.lastrowid or 0)

    def outbox(self, *, status: str | None = None, limit: int = 1000) -> list[OutboxEntry]:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self._query(f"{_SELECT_OUTBOX} {where} ORDER BY id LIMIT ?", [*params, limit])
        return [_outbox_entry(row) for row in rows]

    def outbox_entry(self, key: str) -> OutboxEntry:
        rows = self._query(_SELECT_OUTBOX + " WHERE idempotency_key = ?", (key,))
        if not rows:
            raise NotFound(f"no outbox entry with key {key!r}")
        return _outbox_entry(rows[0])

    def count_outbox(self) -> dict[str, int]:
        rows = self._query("SELECT status, COUNT(*) FROM outbox GROUP BY status")
        return {str(status): int(str(n)) for status, n in rows}

    def mark(self, entry_id: int, status: str, error: str | None = None) -> None:
        """Record one push attempt and its outcome."""
        with self._transaction() as db:
            db.execute(
                "UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?,"
                " updated_at = ? WHERE id = ?",
                (status, error, now_iso(), entry_id),
            )


_SELECT_RECEIVED = "SELECT id, idempotency_key, kind, received_at, payload, encoding FROM received"
_SELECT_OUTBOX = (
    "SELECT id, idempotency_key, kind, path, content_type, body, status, attempts, last_error,"
    " created_at FROM outbox"
)


def _outbox_entry(row: tuple[object, ...]) -> OutboxEntry:
    id_, key, kind, path, content_type, body, status, attempts, error, created = row
    return OutboxEntry(
        id=int(str(id_)),
        idempotency_key=str(key),
        kind=str(kind),
        path=str(path),
        content_type=str(content_type),
        body=body if isinstance(body, bytes) else str(body).encode(),
        status=str(status),
        attempts=int(str(attempts)),
        last_error=None if error is None else str(error),
        created_at=str(created),
    )
