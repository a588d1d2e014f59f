"""Archiving the audit log: old entries leave the table for a signed segment, the live chain
continues from a signed checkpoint of the segment's end; `audit verify --from-checkpoint`
walks only what came after it, `--full` walks the segments and the table as one chain, and
tampering on either side of the checkpoint is found."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from audit_kit import add_entries, edit_and_rehash, run_cli
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func, select, update

from hub.security import audit
from hub.security.archive import archive_segment, verify_everything
from hub.security.tables import audit_archives, audit_log
from hub.store import Store

pytest_plugins = ["audit_fixtures"]  # the `engine` and `keys` fixtures

OLD, RECENT = 30, 10


@pytest.fixture
def archived(tmp_path: Path, engine: Engine, keys: dict[str, str]) -> Path:
    """30 entries of 2024 archived, 10 of today live; the segment's path."""
    add_entries(engine, OLD)
    with engine.begin() as connection:
        now = datetime.now(UTC)
        audit.append_many(
            connection, [audit.NewEntry("TAX", audit.ACCEPTED, f"m{n}", now) for n in range(RECENT)]
        )
    result = run_cli(tmp_path, "audit", "archive", "--older-than", "30", "--json", env=keys)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["first_seq"], summary["through_seq"], summary["entries"]) == (1, OLD, OLD)
    return Path(summary["path"])


def verify(tmp_path: Path, keys: dict[str, str], *flags: str) -> tuple[int, dict[str, object]]:
    result = run_cli(tmp_path, "audit", "verify", "--json", *flags, env=keys)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code, json.loads(result.output)


def live_seqs(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return list(connection.scalars(select(audit_log.c.seq).order_by(audit_log.c.seq)))


def test_archived_entries_leave_the_table_and_every_verify_still_holds(
    tmp_path: Path, engine: Engine, keys: dict[str, str], archived: Path
) -> None:
    assert live_seqs(engine) == list(range(OLD + 1, OLD + RECENT + 1))
    assert (tmp_path / "audit-checkpoints" / f"checkpoint-{OLD:012d}.json").exists()
    for flags in ((), ("--from-checkpoint",), ("--full",)):
        code, report = verify(tmp_path, keys, *flags)
        assert (code, report["ok"], report["head_seq"]) == (0, True, OLD + RECENT), flags
    assert verify(tmp_path, keys, "--from-checkpoint")[1]["entries"] == RECENT
    assert verify(tmp_path, keys, "--full")[1]["entries"] == OLD + RECENT
    checked = run_cli(
        tmp_path,
        "audit",
        "verify-export",
        str(archived),
        "--public-key",
        keys["GOVHUB_AUDIT_PUBLIC_KEY_FILE"],
    )
    assert checked.exit_code == 0 and "entries 1 to 30" in checked.output
    again = run_cli(tmp_path, "audit", "archive", "--older-than", "30", env=keys)
    assert "nothing older than 30 days" in again.output


def test_an_entry_edited_after_the_checkpoint_is_found_by_the_incremental_and_full_verify(
    tmp_path: Path, engine: Engine, keys: dict[str, str], archived: Path
) -> None:
    edit_and_rehash(engine, OLD + 4, actor="SOMEONE_ELSE")

    for flags in (("--from-checkpoint",), ("--full",), ()):
        code, report = verify(tmp_path, keys, *flags)
        assert (code, report["broken_at"]) == (1, OLD + 4), flags


def test_a_live_chain_relinked_to_a_forged_archive_end_is_found_at_the_checkpoint(
    tmp_path: Path, engine: Engine, keys: dict[str, str], archived: Path
) -> None:
    """An insider rewrites the whole live chain from a forged end of the archive (and the
    archive record to match): in itself it holds, but not against the signed checkpoint."""
    forged = "f" * 64
    with engine.begin() as connection:
        connection.execute(update(audit_archives).values(through_hash=forged))
        prev = forged
        for entry in list(audit.entries(connection)):
            fields = (entry.seq, entry.at, "FORGER", entry.action, entry.subject, entry.details)
            digest = audit.entry_hash(*fields, prev)
            connection.execute(
                update(audit_log)
                .where(audit_log.c.seq == entry.seq)
                .values(actor="FORGER", prev_hash=prev, hash=digest)
            )
            prev = digest
        connection.execute(update(audit.audit_head).values(hash=prev))

    code, report = verify(tmp_path, keys, "--from-checkpoint")
    assert (code, report["broken_at"]) == (1, OLD + 1)
    assert "does not continue from entry 30, which is known good" in str(report["reason"])
    assert verify(tmp_path, keys, "--full")[1]["broken_at"] == OLD + 1


def test_an_archived_entry_changed_in_its_segment_or_a_segment_missing_is_found_by_the_full_verify(
    tmp_path: Path, engine: Engine, keys: dict[str, str], archived: Path
) -> None:
    with zipfile.ZipFile(archived) as original:
        parts = {name: original.read(name) for name in original.namelist()}
    lines = parts["audit.jsonl"].decode().splitlines()
    lines[4] = lines[4].replace("MARRIAGE_REGISTRY", "SOMEONE_ELSE")
    parts["audit.jsonl"] = ("\n".join(lines) + "\n").encode()
    with zipfile.ZipFile(archived, "w") as edited:
        for name, data in parts.items():
            edited.writestr(name, data)

    code, report = verify(tmp_path, keys, "--full")
    assert (code, report["broken_at"]) == (1, 1)
    assert "does not match the signed manifest" in str(report["reason"])
    assert verify(tmp_path, keys, "--from-checkpoint")[0] == 0  # the live side is intact

    archived.unlink()
    code, report = verify(tmp_path, keys, "--full")
    assert (code, report["broken_at"]) == (1, 1)


def test_the_archive_record_and_its_segment_are_kept_together(
    engine: Engine, archived: Path
) -> None:
    with engine.connect() as connection:
        row = connection.execute(select(audit_archives)).one()
        assert connection.scalar(select(func.count()).select_from(audit_log)) == RECENT
    manifest = json.loads(zipfile.ZipFile(archived).read("manifest.json"))
    assert (row.first_seq, row.through_seq, row.file_name) == (1, OLD, archived.name)
    assert (row.through_hash, row.jsonl_sha256) == (manifest["last_hash"], manifest["jsonl_sha256"])


def test_archiving_on_either_database_keeps_one_chain_across_the_segment_and_the_table(
    store: Store, tmp_path: Path
) -> None:
    """The library calls on SQLite and PostgreSQL (server-side cursors stream the entries
    there, and the archive record and the deletion follow on the same connection)."""
    key = Ed25519PrivateKey.generate()
    add_entries(store.engine, OLD)
    with store.engine.begin() as connection:
        audit.append_many(
            connection,
            [audit.NewEntry("TAX", audit.ACCEPTED, "m", datetime.now(UTC)) for _ in range(RECENT)],
        )
    before = datetime.now(UTC) - timedelta(days=30)

    segment = archive_segment(
        store.engine, tmp_path / "a", key, before=before, checkpoint_dir=tmp_path / "c"
    )

    assert segment is not None and (segment.first_seq, segment.through_seq) == (1, OLD)
    with store.engine.connect() as connection:
        assert audit.verify(connection).ok
        full = verify_everything(connection, tmp_path / "a", key.public_key())
        assert (full.ok, full.entries) == (True, OLD + RECENT)
    assert live_seqs(store.engine)[0] == OLD + 1
