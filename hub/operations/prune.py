"""Pruning: by hand (`govhub prune`) or as a pass in the worker service every so often."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Connection

from hub.config import Settings
from hub.errors import ClientError
from hub.identity import mask_in_text
from hub.operations.views import PruneReport
from hub.store import Store, pruning, statistics
from hub.store.audit import action_values, record_actions

log = logging.getLogger(__name__)

AUTOMATIC_ACTOR = "govhub-worker"
Batch = Callable[[Connection, list[str]], int]


def prune(
    store: Store,
    *,
    bodies_older_than: timedelta,
    metadata_older_than: timedelta | None = None,
    batch_size: int = 500,
    dry_run: bool = False,
    actor: str = AUTOMATIC_ACTOR,
    reason: str = "retention",
) -> PruneReport:
    """Empty bodies past their retention, then delete messages past the metadata retention
    (None: keep them), and the settled mailbox rows past the body retention, batch by batch.
    Records an audit row when it did (or would do) any."""
    if batch_size < 1 or bodies_older_than < timedelta(0):
        raise ClientError("prune needs a batch size of at least 1 and an age of 0 or more")
    now = store.clock()
    body_cutoff = now - bodies_older_than
    meta_cutoff = None if metadata_older_than is None else now - metadata_older_than
    if dry_run:
        report = _count(store, body_cutoff, meta_cutoff)
    else:
        bodies = _walk(
            store,
            body_cutoff,
            batch_size,
            lambda c, ids: pruning.prune_bodies(c, body_cutoff, now, batch_size, ids),
            unpruned=True,
        )
        deleted = 0
        if meta_cutoff is not None:
            cutoff = meta_cutoff
            deleted = _walk(
                store,
                cutoff,
                batch_size,
                lambda c, ids: pruning.delete_messages(c, cutoff, ids),
                unpruned=False,
            )
        mailbox = _repeat(store, lambda c: pruning.prune_mailboxes(c, body_cutoff, batch_size))
        report = PruneReport(False, bodies, deleted, mailbox)
    if report.bodies_pruned or report.messages_deleted or report.mailbox_rows_pruned:
        detail = {
            "bodies_pruned": report.bodies_pruned,
            "messages_deleted": report.messages_deleted,
            "mailbox_rows_pruned": report.mailbox_rows_pruned,
            "bodies_older_than_seconds": bodies_older_than.total_seconds(),
            "metadata_older_than_seconds": (
                None if metadata_older_than is None else metadata_older_than.total_seconds()
            ),
        }
        row = action_values(
            "prune", actor=actor, reason=reason, dry_run=dry_run, at=now, detail=detail
        )
        with store.engine.begin() as connection:
            record_actions(connection, [row])
    return report


def _repeat(store: Store, batch: Callable[[Connection], int]) -> int:
    """Run short batches until one comes back empty; each commits on its own (settled
    mailbox rows: few, and not ordered by a message's arrival)."""
    total = 0
    while True:
        with store.engine.begin() as connection:
            done = batch(connection)
        total += done
        if done == 0:
            return total


def _walk(store: Store, cutoff: datetime, size: int, batch: Batch, *, unpruned: bool) -> int:
    """Run ``batch`` on each window of messages before ``cutoff``, oldest first, once; each
    commits on its own (the window is read apart, so the batch's first statement writes)."""
    total, after = 0, None
    while True:
        with store.engine.connect() as connection:
            ids, after = pruning.window(connection, cutoff, after, size, unpruned=unpruned)
        if after is None:
            return total
        with store.engine.begin() as connection:
            total += batch(connection, ids)


def _count(store: Store, body_cutoff: datetime, meta_cutoff: datetime | None) -> PruneReport:
    with store.engine.connect() as connection:
        bodies = pruning.count(connection, pruning.body_candidates(body_cutoff))
        deleted = 0
        if meta_cutoff is not None:
            deleted = pruning.count(connection, pruning.settled_before(meta_cutoff))
        mailbox = pruning.count_settled_mailbox_rows(connection, body_cutoff)
    return PruneReport(True, bodies, deleted, mailbox)


def prune_by_settings(store: Store, settings: Settings) -> PruneReport:
    """One automatic pass with the retention settings."""
    meta = settings.metadata_retention_days
    return prune(
        store,
        bodies_older_than=timedelta(days=settings.body_retention_days),
        metadata_older_than=timedelta(days=meta) if meta > 0 else None,
        batch_size=settings.prune_batch_size,
    )


class Pruner:
    """The worker service's pruning thread: one pass every ``prune_interval_seconds``."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.settings.prune_interval_seconds):
            try:
                report = prune_by_settings(self.store, self.settings)
                statistics.refresh(self.store.engine)
            except Exception as exc:  # the database is away: try again next time
                log.error("prune pass failed: %s", mask_in_text(str(exc)))
                continue
            if report.bodies_pruned or report.messages_deleted:
                log.info(
                    "pruned the bodies of %s messages, deleted %s",
                    report.bodies_pruned,
                    report.messages_deleted,
                )
