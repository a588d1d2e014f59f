"""Group commit: concurrent accepts written in one transaction, each answered after it.

PostgreSQL waits for the disk at every commit (about 1,000 commits/s on this class of
machine), and SQLite lets one writer in at a time. Here one writer thread takes every accept
that is waiting, finds repeats with one query, and stores the rest in ONE transaction; each
caller gets its receipt only after that commit. A lone message is committed at once: nothing
waits to fill a batch, batches form only while a commit is already under way.

Repeats (an idempotency key already stored, or twice in one batch) and any batch that still
collides go through ``Store.save_accepted`` one by one, after the batch: the same answers as
without grouping (a duplicate receipt, or the ClientError of a reused message id). The
batch itself is written by ``Store.save_accepted_batch``: bulk inserts, table by table.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub.errors import HubError, StoreUnavailable
from hub.store.models import MessageRow
from hub.store.records import NewMessage, Receipt
from hub.store.store import Store

DEFAULT_MAX_BATCH = 64
# The writer thread ends after this long without work, and starts again on demand.
IDLE_SECONDS = 2.0


@dataclass
class _Pending:
    message: NewMessage
    receivers: tuple[str, ...]
    done: threading.Event = field(default_factory=threading.Event)
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
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None

    def save_accepted(self, message: NewMessage, receivers: Sequence[str]) -> Receipt:
        pending = _Pending(message, tuple(dict.fromkeys(receivers)))
        self._queue.put(pending)
        self._ensure_writer()
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        assert pending.receipt is not None  # the writer sets one or the other
        return pending.receipt

    def _ensure_writer(self) -> None:
        with self._lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._run, name="group-commit", daemon=True)
                self._writer.start()

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            try:
                self._write(batch)
            except Exception as exc:  # e.g. the database is down: every caller hears it
                for pending in batch:
                    if pending.receipt is None and pending.error is None:
                        pending.error = _unavailable(exc)
            finally:
                for pending in batch:
                    pending.done.set()

    def _next_batch(self) -> list[_Pending] | None:
        """Everything waiting (up to max_batch); None when idle long enough to stop."""
        try:
            batch = [self._queue.get(timeout=IDLE_SECONDS)]
        except queue.Empty:
            with self._lock:  # a caller puts before it checks the writer: none is stranded
                if self._queue.empty():
                    self._writer = None
                    return None
            batch = []
        while len(batch) < self.max_batch:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _write(self, batch: list[_Pending]) -> None:
        # A lone message skips the repeat query: a repeat is rare, and the bulk insert's
        # IntegrityError sends it to save_accepted, which answers it.
        fresh, repeats = self._split(batch) if len(batch) > 1 else (batch, [])
        try:
            receipts = self.store.save_accepted_batch(
                [(p.message, p.receivers) for p in fresh], self.lease_seconds
            )
        except IntegrityError:  # another process stored one meanwhile, or an id was reused
            repeats = batch
        except Exception as exc:
            if len(fresh) > 1:  # one bad message must not fail the others: try each alone
                repeats = batch
            else:
                for pending in fresh:
                    pending.error = _unavailable(exc)
        else:
            for pending, receipt in zip(fresh, receipts, strict=True):
                pending.receipt = receipt
        self._one_by_one(repeats)

    def _split(self, batch: list[_Pending]) -> tuple[list[_Pending], list[_Pending]]:
        """(new messages, repeats): one query for keys already stored, plus repeats within."""
        stored = self._stored_keys({(p.message.sender, p.message.idempotency_key) for p in batch})
        fresh: list[_Pending] = []
        repeats: list[_Pending] = []
        seen_keys, seen_ids = set(stored), set()
        for pending in batch:
            key = (pending.message.sender, pending.message.idempotency_key)
            if key in seen_keys or pending.message.message_id in seen_ids:
                repeats.append(pending)
            else:
                fresh.append(pending)
                seen_keys.add(key)
                seen_ids.add(pending.message.message_id)
        return fresh, repeats

    def _stored_keys(self, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
        query = select(MessageRow.sender, MessageRow.idempotency_key).where(
            MessageRow.idempotency_key.in_({key for _, key in keys})
        )
        with self.store.engine.connect() as connection:
            rows = connection.execute(query).all()
        return {(sender, key) for sender, key in rows} & keys

    def _one_by_one(self, batch: list[_Pending]) -> None:
        for pending in batch:
            try:
                pending.receipt = self.store.save_accepted(
                    pending.message, pending.receivers, self.lease_seconds
                )
            except Exception as exc:
                pending.error = _unavailable(exc)


def _unavailable(exc: Exception) -> Exception:
    """A hub error stays as it is; a database error becomes Server.Unavailable, without the
    driver's text (it quotes the statement's parameters: personal data)."""
    if isinstance(exc, HubError):
        return exc
    error = StoreUnavailable(f"the hub could not store the message now ({type(exc).__name__})")
    error.__cause__ = exc
    return error
