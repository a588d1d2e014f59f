"""Revealing identity numbers (``--reveal``, ``reveal=true``): never without a reason, and
never without an audit entry naming who, which message and why. Who may is decided before:
the ``reveal`` permission on /admin, access to the database for the CLI."""

from __future__ import annotations

from collections.abc import Sequence

from hub.errors import ReasonRequired
from hub.security import audit
from hub.store import Store


def reason_for_reveal(reason: str | None) -> str:
    """The reason given, or ReasonRequired (before anything is read)."""
    text = (reason or "").strip()
    if not text:
        raise ReasonRequired(
            "revealing identity numbers needs a reason, kept in the audit log with who asked"
        )
    return text


def record_reveal(
    store: Store, *, actor: str, message_ids: Sequence[str], reason: str, via: str
) -> None:
    """One ``reveal`` entry per message shown in clear, in one transaction, before the
    answer leaves: no reveal goes unrecorded."""
    at = store.clock()
    entries = [
        audit.NewEntry(actor, audit.REVEALED, message_id, at, {"reason": reason, "via": via})
        for message_id in dict.fromkeys(message_ids)
    ]
    with store.engine.begin() as connection:
        audit.append_many(connection, entries)
