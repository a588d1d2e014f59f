"""A large original body written into SQLite in pieces, not bound as one parameter.

Why: SQLite copies a bound blob (the driver binds it SQLITE_TRANSIENT) and copies it again
into the row's record, so a 10 MB body cost 20 MB more at the moment it was stored. Here
the row is inserted with an empty body, given a zeroblob of the body's size, and the body
written into it through SQLite's incremental blob I/O, a MiB at a time: SQLite keeps a zeroblob
that ends a row as a length only, which is why migration ``0025_large_bodies`` makes
``messages.original`` the table's last column on SQLite. PostgreSQL binds the body as before
(psycopg sends bytes in binary: one copy, in libpq's buffer).

    streamed = take_large_originals(connection, rows)   # before the INSERT
    ...INSERT rows...
    write_originals(connection, streamed)               # in the same transaction
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, text

# Smaller bodies are bound as usual: one statement for the whole batch is worth more.
STREAMED_BYTES = 256 * 1024
PIECE_BYTES = 1024 * 1024

_ZEROBLOB = text("UPDATE messages SET original = zeroblob(:size) WHERE id = :id RETURNING rowid")


def take_large_originals(
    connection: Connection, rows: Sequence[dict[str, Any]]
) -> list[tuple[str, bytes]]:
    """The large originals of ``rows`` (message rows as ``accepting.message_values`` makes
    them), each row's own replaced by b"" to be written after the INSERT; none but on SQLite."""
    if connection.dialect.name != "sqlite":
        return []
    taken = []
    for row in rows:
        if len(row["original"]) >= STREAMED_BYTES:
            taken.append((row["id"], row["original"]))
            row["original"] = b""
    return taken


def write_originals(connection: Connection, originals: Sequence[tuple[str, bytes]]) -> None:
    """Each (message id, body) into its inserted row, in pieces."""
    for message_id, body in originals:
        rowid = connection.execute(_ZEROBLOB, {"size": len(body), "id": message_id}).scalar_one()
        sqlite: Any = connection.connection.driver_connection
        view = memoryview(body)
        with sqlite.blobopen("messages", "original", rowid) as blob:
            for start in range(0, len(body), PIECE_BYTES):
                blob.write(view[start : start + PIECE_BYTES])
