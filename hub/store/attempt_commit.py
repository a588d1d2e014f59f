"""Group commit for delivery threads: their claims in one transaction, their attempt records
in another, each thread answered after the commit that holds its own.

Every record appends to the audit chain, whose one head row is locked until the commit; one
record per transaction let a process record only about one delivery per lock hold. Batched,
the head is locked once per batch (``audit.append_many``), and a claim or record costs its
share of one commit. Fencing is unchanged: each record keeps its own guard
(``leases.record_many``), so a stale worker's record in a batch still cannot overwrite.

A batch that fails is written again item by item (hub/store/batching.py), also when its
COMMIT took effect and only the answer was lost: a record then finds its attempt stored (by
delivery and claimed attempt number) and writes nothing twice; a claim finds its delivery
held by the lost claim and answers None (the relay sends it again when that lease ends).
A record alone whose connection broke is written once more on a fresh connection: stored
already, it writes nothing twice; not stored, it is stored now, and its delivery is not sent
to the department again when its lease ends.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError

from hub.store.batching import DEFAULT_MAX_BATCH, Batcher
from hub.store.leases import Recorded
from hub.store.records import AttemptRecord, ClaimedDelivery
from hub.store.store import Store


class AttemptCommitter:
    """Thread-safe; ``claim`` and ``record_attempt`` answer as the Store's methods do."""

    def __init__(
        self, store: Store, lease_seconds: float, *, max_batch: int = DEFAULT_MAX_BATCH
    ) -> None:
        self.store = store
        self.lease_seconds = lease_seconds
        # Each writer keeps its connection while it has work (hub/store/held_connection.py).
        # A claim batch is one statement on PostgreSQL (leases.claim_many): no BEGIN, COMMIT.
        self._claiming = store.held_connection(single_statements=True)
        self._recording = store.held_connection()
        self._claims: Batcher[int, ClaimedDelivery | None] = Batcher(
            self._claim_many,
            self._claim_one,
            name="claim-commit",
            max_batch=max_batch,
            resting=self._claiming.release,
        )
        self._records: Batcher[Recorded, str] = Batcher(
            self._record_many,
            self._record_one,
            name="attempt-commit",
            max_batch=max_batch,
            resting=self._recording.release,
        )

    def claim(self, delivery_id: int, lease_seconds: float) -> ClaimedDelivery | None:
        """Like ``Store.claim``; the lease is the committer's (one per batch)."""
        del lease_seconds  # the committer's own, the same setting
        return self.store.open_claimed(self._claims.submit(delivery_id))

    def record_attempt(self, claimed: ClaimedDelivery, attempt: AttemptRecord) -> str:
        return self._records.submit((claimed, attempt))

    def _claim_many(self, delivery_ids: Sequence[int]) -> list[ClaimedDelivery | None]:
        return self.store.claim_sealed(delivery_ids, self.lease_seconds, via=self._claiming)

    def _claim_one(self, delivery_id: int) -> ClaimedDelivery | None:
        return self._claim_many([delivery_id])[0]

    def _record_many(self, recorded: Sequence[Recorded]) -> list[str]:
        return self.store.record_attempts(recorded, via=self._recording)

    def _record_one(self, recorded: Recorded) -> str:
        try:
            return self._record_many([recorded])[0]
        except DBAPIError as error:
            if not error.connection_invalidated:  # not a lost connection: the same again
                raise
            return self._record_many([recorded])[0]  # the held connection connects afresh
