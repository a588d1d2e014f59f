"""The node's journal: one small SQLite file that records each step before the next starts.

Inbox rows go ``staged`` (the file is written under its temporary name, or the POST is about
to be made) → ``handed`` (the system has it) → ``acked`` (the hub knows); or ``staged`` →
``refused`` (the system refused it for good, the hub was told with Nack). Outbox rows are
written once a Submit was answered (``sent`` or ``refused``). ``contact`` keeps when the hub
last answered and the last reason it did not.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

JOURNAL_FILE = "node.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    idempotency_key TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    message_type TEXT NOT NULL,
    target TEXT NOT NULL,
    lease_token TEXT NOT NULL,
    state TEXT NOT NULL,
    received_at TEXT NOT NULL,
    handed_at TEXT,
    acked_at TEXT
);
CREATE TABLE IF NOT EXISTS outbox (
    idempotency_key TEXT PRIMARY KEY,
    file_name TEXT NOT NULL,
    state TEXT NOT NULL,
    message_id TEXT NOT NULL,
    duplicate INTEGER NOT NULL,
    reason TEXT,
    sent_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS contact (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class InboxEntry:
    idempotency_key: str
    message_id: str
    message_type: str
    target: str  # the file name or the URL it was handed to
    lease_token: str
    state: str


class Journal:
    """The journal in ``folder`` (made if missing); every write is committed at once."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / JOURNAL_FILE
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a committed step survives power loss
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # inbox
    def inbox_entry(self, key: str) -> InboxEntry | None:
        row = self._db.execute(
            "SELECT idempotency_key, message_id, message_type, target, lease_token, state"
            " FROM inbox WHERE idempotency_key = ?",
            (key,),
        ).fetchone()
        return None if row is None else InboxEntry(*row)

    def stage(self, entry: InboxEntry) -> None:
        """Before a hand-over: what is about to be handed, and where."""
        self._db.execute(
            "INSERT INTO inbox (idempotency_key, message_id, message_type, target, lease_token,"
            " state, received_at) VALUES (?, ?, ?, ?, ?, 'staged', ?)"
            " ON CONFLICT (idempotency_key) DO UPDATE SET lease_token = excluded.lease_token",
            (
                entry.idempotency_key,
                entry.message_id,
                entry.message_type,
                entry.target,
                entry.lease_token,
                now(),
            ),
        )

    def renew_lease(self, key: str, lease_token: str) -> None:
        self._db.execute(
            "UPDATE inbox SET lease_token = ? WHERE idempotency_key = ?", (lease_token, key)
        )

    def handed(self, key: str) -> None:
        self._db.execute(
            "UPDATE inbox SET state = 'handed', handed_at = ? WHERE idempotency_key = ?",
            (now(), key),
        )

    def acked(self, key: str) -> None:
        self._db.execute(
            "UPDATE inbox SET state = 'acked', acked_at = ? WHERE idempotency_key = ?",
            (now(), key),
        )

    def refused(self, key: str) -> None:
        """The system refused it for good and the hub was told (Nack): nothing more to do."""
        self._db.execute("UPDATE inbox SET state = 'refused' WHERE idempotency_key = ?", (key,))

    def inbox_in_state(self, state: str) -> list[InboxEntry]:
        rows = self._db.execute(
            "SELECT idempotency_key, message_id, message_type, target, lease_token, state"
            " FROM inbox WHERE state = ? ORDER BY received_at",
            (state,),
        ).fetchall()
        return [InboxEntry(*row) for row in rows]

    # outbox
    def outbox_state(self, key: str) -> str | None:
        row = self._db.execute(
            "SELECT state FROM outbox WHERE idempotency_key = ?", (key,)
        ).fetchone()
        return None if row is None else str(row[0])

    def outbox_reason(self, key: str) -> str:
        row = self._db.execute(
            "SELECT coalesce(reason, '') FROM outbox WHERE idempotency_key = ?", (key,)
        ).fetchone()
        return "" if row is None else str(row[0])

    def sent(
        self, key: str, file_name: str, *, message_id: str, duplicate: bool, reason: str = ""
    ) -> None:
        """A Submit answered: ``reason`` empty for a receipt, else the hub's refusal."""
        self._db.execute(
            "INSERT OR REPLACE INTO outbox (idempotency_key, file_name, state, message_id,"
            " duplicate, reason, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, file_name, "refused" if reason else "sent", message_id, duplicate, reason, now()),
        )

    # contact with the hub
    def reached(self) -> None:
        self._set("last_reached_at", now())
        self._set("last_error", "")

    def missed(self, reason: str) -> None:
        self._set("last_error", f"{now()} {reason}")

    def remember(self, name: str, value: str) -> None:
        """A setting of the running node that ``status`` shows (the hub, the folders)."""
        self._set(name, value)

    def contact(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT name, value FROM contact").fetchall())

    def _set(self, name: str, value: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO contact (name, value) VALUES (?, ?)", (name, value)
        )

    def counts(self, table: str) -> dict[str, int]:
        """Rows of ``inbox`` or ``outbox`` by state."""
        assert table in ("inbox", "outbox")  # a constant of ours, never input
        rows = self._db.execute(f"SELECT state, count(*) FROM {table} GROUP BY state")
        return {str(state): int(n) for state, n in rows.fetchall()}

    def recent_outbox(self, limit: int = 10) -> list[dict[str, str]]:
        rows = self._db.execute(
            "SELECT file_name, state, message_id, duplicate, coalesce(reason, ''), sent_at"
            " FROM outbox ORDER BY sent_at DESC, file_name LIMIT ?",
            (limit,),
        ).fetchall()
        names = ("file", "state", "messageId", "duplicate", "reason", "sentAt")
        return [dict(zip(names, map(str, row), strict=True)) for row in rows]
