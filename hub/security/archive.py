"""Archiving the audit log: old entries go to a signed segment outside the database, then
leave the table; the live chain keeps its continuity through the archive's record.

``archive_segment`` exports the entries after the last archive up to the last one older than
a date into ``audit-<first>-<last>.zip`` (the signed export format of hub/security/export.py),
checking the segment's chain and its link to the archive before it as it writes (a read
snapshot); then, in one short transaction, records it in ``audit_archives`` (the live chain
continues from that entry's hash) and deletes the entries; then writes a signed checkpoint of
its last entry. A failure leaves the table as it was (a zip without a record is overwritten
by the next run).

``verify_everything`` walks every segment (signature checked with the trusted key) and then
the live table as one chain from entry 1; ``audit verify --from-checkpoint`` walks only what
came after the newest checkpoint.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, Engine, delete, func, insert, select

from hub.errors import ClientError, ExportInvalid
from hub.security import audit
from hub.security.checkpoints import Checkpoint, write_checkpoint
from hub.security.export import manifest_of, stream_entries, write_archive
from hub.security.tables import audit_archives, audit_log

_SEGMENT = re.compile(r"^audit-(\d{12})-(\d{12})\.zip$")


@dataclass(frozen=True)
class Segment:
    first_seq: int
    through_seq: int
    through_hash: str
    path: Path

    @property
    def entries(self) -> int:
        return self.through_seq - self.first_seq + 1


def segment_name(first: int, last: int) -> str:
    return f"audit-{first:012d}-{last:012d}.zip"


def archive_segment(
    engine: Engine,
    directory: Path,
    key: Ed25519PrivateKey,
    *,
    before: datetime,
    checkpoint_dir: Path,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Segment | None:
    """Archive the live entries written before ``before`` (None: there are none)."""
    directory.mkdir(parents=True, exist_ok=True)
    # Read (a snapshot), then a short write: traffic is never held off while the segment is
    # written (on SQLite a long write transaction would make Submit time out).
    with engine.connect() as connection:
        start = audit.archived_through(connection)
        through = _last_before(connection, start, before)
        if through is None:
            return None
        path = directory / segment_name(start.seq + 1, through)
        # Checked as it streams into the file: a broken chain is never archived.
        live = audit.entries(connection, after=start.seq, through=through)
        stream = audit.walked(live, start, through)
        manifest = write_archive(path, stream, key, through, str(_hash_of(connection, through)))
    last_hash = str(manifest.last_hash)
    with engine.begin() as connection:  # the first statement writes: no SQLite lock upgrade
        connection.execute(
            insert(audit_archives).values(
                through_seq=through,
                through_hash=last_hash,
                first_seq=start.seq + 1,
                file_name=path.name,
                jsonl_sha256=manifest_of(path)["jsonl_sha256"],
                archived_at=clock(),
            )
        )
        _still_the_next_segment(connection, start, through)
        connection.execute(delete(audit_log).where(audit_log.c.seq <= through))
    # Outside the database, signed: the live chain's first link is checked against it.
    write_checkpoint(checkpoint_dir, Checkpoint(through, last_hash, clock()), key)
    return Segment(start.seq + 1, through, last_hash, path)


def _still_the_next_segment(connection: Connection, start: audit.Start, through: int) -> None:
    """Another archive run may have recorded a segment meanwhile: then this one is not the
    next (its rows were deleted, or overlap), and the transaction is rolled back."""
    others = connection.execute(
        select(audit_archives.c.through_seq).where(
            audit_archives.c.through_seq > start.seq, audit_archives.c.through_seq != through
        )
    ).first()
    if others is not None:
        raise ClientError("another audit archive ran at the same time; run it again")


def segments(directory: Path) -> list[Path]:
    """The segment files in ``directory``, oldest first."""
    if not directory.is_dir():
        return []
    found = [(m.group(1), p) for p in directory.iterdir() if (m := _SEGMENT.match(p.name))]
    return [path for _, path in sorted(found)]


def verify_everything(
    connection: Connection,
    directory: Path,
    public_key: Ed25519PublicKey,
    anchors: Mapping[int, audit.Anchor] | None = None,
) -> audit.ChainReport:
    """One walk from entry 1 across every archived segment (streamed) and then the live table.

    A segment whose signature or file hash fails is reported as the break at its first entry;
    a missing segment, or a database record of another end, as the first entry missing."""
    head_seq, head_hash = audit.head(connection)
    archived = audit.archived_through(connection)
    live = audit.entries(connection, after=archived.seq)
    try:
        return audit.check_chain(
            _joined(_archived_entries(directory, public_key), live), head_seq, head_hash, anchors
        )
    except ExportInvalid as exc:
        return audit.ChainReport(0, head_seq, head_hash, _first_seq_of_invalid(exc), str(exc))


def verify_from_checkpoint(
    connection: Connection, checkpoint: Checkpoint | None
) -> tuple[audit.ChainReport, str]:
    """Walk only the entries after the newest checkpoint (or the archive's end, if later); the
    checkpoint's own entry, if still live, must keep its hash. Without a checkpoint: all.
    Returns the report and what the walk started from."""
    start = audit.archived_through(connection)
    since = "the archive's end" if start.seq else "entry 1 (no checkpoint)"
    if checkpoint is not None and checkpoint.seq >= start.seq:
        start, since = audit.Start(checkpoint.seq, checkpoint.hash), checkpoint.label
        kept = _hash_of(connection, checkpoint.seq)
        if kept is not None and kept != checkpoint.hash:
            head_seq, head_hash = audit.head(connection)
            reason = f"entry {checkpoint.seq} differs from {checkpoint.label} (rewritten)"
            return audit.ChainReport(0, head_seq, head_hash, checkpoint.seq, reason), since
    return audit.verify(connection, start=start), f"entries after {since}"


def _archived_entries(directory: Path, public_key: Ed25519PublicKey) -> Iterator[audit.AuditEntry]:
    for path in segments(directory):
        yield from stream_entries(path, public_key)


def _joined(
    archived: Iterator[audit.AuditEntry], live: Iterator[audit.AuditEntry]
) -> Iterator[audit.AuditEntry]:
    yield from archived
    yield from live


def _first_seq_of_invalid(exc: ExportInvalid) -> int:
    match = re.search(r"audit-(\d{12})-\d{12}\.zip", str(exc))
    return int(match.group(1)) if match else 1


def _last_before(connection: Connection, start: audit.Start, before: datetime) -> int | None:
    """The last live entry written before ``before``, if any; the chain head's entry stays
    only if it is newer."""
    seq = connection.scalar(
        select(func.max(audit_log.c.seq)).where(
            audit_log.c.seq > start.seq, audit_log.c.at < before
        )
    )
    return None if seq is None else int(seq)


def _hash_of(connection: Connection, seq: int) -> str | None:
    found = connection.scalar(select(audit_log.c.hash).where(audit_log.c.seq == seq))
    return None if found is None else str(found)
