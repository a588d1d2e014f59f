"""Group commit: concurrent accepts written in one transaction, each answered after it.

PostgreSQL waits for the disk at every commit (about 1,000 commits/s on this class of
machine), and SQLite lets one writer in at a time. Here one writer thread takes every accept
that is waiting and stores it in ONE transaction; each caller gets its receipt only after
that commit. Only a batch that collides is searched for keys stored earlier (one query) and
stored again without them. A lone message is committed at once: nothing
waits to fill a batch, batches form only while a commit is already under way.

Repeats (an idempotency key already stored, or twice in one batch) and any batch that still
collides go through ``Store.save_accepted`` one by one, after the batch: the same answers as
without grouping (a duplicate receipt, or the ClientError of a reused message id). The
batch itself is written by ``Store.save_accepted_batch``: bulk inserts, table by table.

The writer thread is ``hub.store.batching.Batcher``'s (started on demand, gone when idle). Its
retry of a failed batch item by item is not used here: ``_write`` answers every message itself
and never raises, so repeats and collisions keep the answers described above.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from hub.errors import HubError, StoreUnavailable
from hub.store.batching import DEFAULT_MAX_BATCH, Batcher
from hub.store.models import MessageRow
from hub.store.records import NewMessage, Receipt
from hub.store.store import Store


@dataclass(eq=False)  # one caller's message: compared by identity
class _Pending:
    message: NewMessage
    receivers: tuple[str, ...]
    receipt: Receipt | None = None
    error: BaseException | None = None


class GroupCommitter:
    """Thread-safe; ``save_accepted`` has the meaning and answers of ``Store.save_accepted``."""

    def __init__(
        self, store: Store, lease_seconds: float, *, max_batch: int = DEFAULT_MAX_BATCH
    ) -> None:
        self.store = store
        self.lease_seconds = lease_seconds
        self.max_batch = max_batch
        # Each caller's answer is written into its own _Pending; the batcher only carries it.
        self._batcher: Batcher[_Pending, None] = Batcher(
            self._write_many, self._write_one, name="group-commit", max_batch=max_batch
        )

    def save_accepted(self, message: NewMessage, receivers: Sequence[str]) -> Receipt:
        pending = _Pending(message, tuple(dict.fromkeys(receivers)))
        self._batcher.submit(pending)
        if pending.error is not None:
            raise pending.error
        assert pending.receipt is not None  # the writer sets one or the other
        return pending.receipt

    def _write_many(self, batch: Sequence[_Pending]) -> list[None]:
        self._write(list(batch))
        return [None] * len(batch)

    def _write_one(self, pending: _Pending) -> None:
        self._write([pending])

    def _write(self, batch: list[_Pending]) -> None:
        try:
            self._write_batch(batch)
        except Exception as exc:  # e.g. the database is down: every caller hears it
            for pending in batch:
                if pending.receipt is None and pending.error is None:
                    pending.error = _unavailable(exc)

    def _write_batch(self, batch: list[_Pending]) -> None:
        # Repeats are rare: store the batch as it is, and look for stored keys only when
        # that collides (one query fewer per batch in the common case).
        fresh, repeats = _repeats_within(batch)
        try:
            self._save(fresh)
        except IntegrityError:  # a key stored earlier, or by another process meanwhile
            fresh, stored = self._without_stored(fresh)
            repeats += stored
            try:
                self._save(fresh)
            except Exception:  # still colliding, or failing: each alone, as below
                repeats, fresh = batch, []
        except Exception as exc:
            if len(fresh) > 1:  # one bad message must not fail the others: try each alone
                repeats, fresh = batch, []
            else:
                for pending in fresh:
                    pending.error = _unavailable(exc)
        self._one_by_one([pending for pending in batch if pending in repeats])

    def _save(self, fresh: list[_Pending]) -> None:
        if not fresh:
            return
        receipts = self.store.save_accepted_batch(
            [(p.message, p.receivers) for p in fresh], self.lease_seconds
        )
        for pending, receipt in zip(fresh, receipts, strict=True):
            pending.receipt = receipt

    def _without_stored(self, batch: list[_Pending]) -> tuple[list[_Pending], list[_Pending]]:
        """(those not stored yet, those whose sender and key are): one query."""
        stored = self._stored_keys({(p.message.sender, p.message.idempotency_key) for p in batch})
        fresh = [p for p in batch if (p.message.sender, p.message.idempotency_key) not in stored]
        return fresh, [p for p in batch if p not in fresh]

    def _stored_keys(self, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
        with self.store.engine.connect() as connection:
            rows = connection.execute(_STORED_KEYS, {"keys": [key for _, key in keys]}).all()
        return {(sender, key) for sender, key in rows} & keys

    def _one_by_one(self, batch: list[_Pending]) -> None:
        for pending in batch:
            try:
                pending.receipt = self.store.save_accepted(
                    pending.message, pending.receivers, self.lease_seconds
                )
            except Exception as exc:
                pending.error = _unavailable(exc)


_STORED_KEYS = select(MessageRow.sender, MessageRow.idempotency_key).where(
    MessageRow.idempotency_key.in_(bindparam("keys", expanding=True))
)


def _repeats_within(batch: list[_Pending]) -> tuple[list[_Pending], list[_Pending]]:
    """(the first of each sender and key and of each message id, the others)."""
    first: list[_Pending] = []
    repeats: list[_Pending] = []
    seen_keys: set[tuple[str, str]] = set()
    seen_ids: set[str] = set()
    for pending in batch:
        key = (pending.message.sender, pending.message.idempotency_key)
        if key in seen_keys or pending.message.message_id in seen_ids:
            repeats.append(pending)
        else:
            first.append(pending)
            seen_keys.add(key)
            seen_ids.add(pending.message.message_id)
    return first, repeats


def _unavailable(exc: Exception) -> Exception:
    """A hub error stays as it is; a database error becomes Server.Unavailable, without the
    driver's text (it quotes the statement's parameters: personal data)."""
    if isinstance(exc, HubError):
        return exc
    error = StoreUnavailable(f"the hub could not store the message now ({type(exc).__name__})")
    error.__cause__ = exc
    return error
