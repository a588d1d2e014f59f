"""The hash-chained audit log: appends in the caller's transaction, concurrent writers,
verification that names the first broken entry, and signed exports."""

from __future__ import annotations

import json
import threading
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from backends import IDENTITY_NUMBER
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, delete, insert, text, update

from hub.errors import ExportInvalid
from hub.security import audit
from hub.security.export import export, load_signing_key, new_signing_key, verify_export
from hub.security.tables import audit_log
from hub.store import Store

# `sqlite_engine`, for the chain rules, which are the same on every database
pytest_plugins = ["audit_fixtures"]

AT = datetime(2024, 5, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(store: Store) -> Engine:
    """SQLite and PostgreSQL: for what depends on the database (locking, transactions)."""
    return store.engine


def add(engine: Engine, count: int) -> list[audit.AuditEntry]:
    added = []
    with engine.begin() as connection:
        for n in range(count):
            added.append(
                audit.append(
                    connection,
                    actor="MARRIAGE_REGISTRY",
                    action=audit.ACCEPTED,
                    subject=f"message-{n}",
                    at=AT + timedelta(seconds=n),
                    details={"original_sha256": "ab" * 32, "mapping": "M/inbound/X@1"},
                )
            )
    return added


def verify(engine: Engine) -> audit.ChainReport:
    with engine.connect() as connection:
        return audit.verify(connection)


def test_appended_entries_form_a_chain_that_verifies(engine: Engine) -> None:
    first, second, _ = add(engine, 3)
    assert (first.seq, first.prev_hash) == (1, "0" * 64)
    assert second.prev_hash == first.hash
    report = verify(engine)
    assert report.ok and report.entries == 3 and report.head_seq == 3


def test_an_entry_naming_a_long_actor_and_subject_is_stored_as_hashed(engine: Engine) -> None:
    """A caller's text may reach an entry's actor or subject (a claimed sender, a message id):
    it is cut to what the column holds before it is hashed, so the chain still verifies (on
    PostgreSQL the batch insert once cut it after hashing, and the entry read as edited)."""
    with engine.begin() as connection:
        added = audit.append(connection, actor="a" * 250, action="b" * 60, subject="s" * 260, at=AT)

    with engine.connect() as connection:
        (stored,) = audit.entries(connection)
    assert (stored.actor, stored.action, stored.subject) == (
        added.actor,
        added.action,
        added.subject,
    )
    assert stored.actor.startswith("a" * 150) and stored.actor.endswith("(cut, 250 characters)")
    assert len(stored.actor) <= 200 and len(stored.action) <= 40 and len(stored.subject) <= 200
    assert verify(engine).ok


def test_an_append_rolls_back_with_the_callers_transaction(engine: Engine) -> None:
    add(engine, 1)
    with pytest.raises(RuntimeError), engine.begin() as connection:
        audit.append(connection, actor="a", action="x", subject="s", at=AT)
        raise RuntimeError("the message insert failed")
    add(engine, 1)
    assert verify(engine).ok and verify(engine).entries == 2


def test_identity_numbers_are_masked_in_the_details(sqlite_engine: Engine) -> None:
    log = audit.AuditLog(sqlite_engine)
    entry = log.append(
        actor="SOCIAL_SECURITY",
        action=audit.REFUSED,
        subject="MarriageRegistered",
        details={"reason": f"bad record for {IDENTITY_NUMBER}"},
    )
    assert IDENTITY_NUMBER not in entry.details
    assert IDENTITY_NUMBER[:6] in entry.details


def test_an_edited_entry_is_named(sqlite_engine: Engine) -> None:
    add(sqlite_engine, 4)
    with sqlite_engine.begin() as connection:
        connection.execute(update(audit_log).where(audit_log.c.seq == 2).values(actor="TAX"))
    report = verify(sqlite_engine)
    assert report.broken_at == 2 and "edited" in (report.reason or "")


def test_an_edited_entry_with_a_recomputed_hash_is_named_by_the_next_link(
    sqlite_engine: Engine,
) -> None:
    entries = add(sqlite_engine, 4)
    e = entries[1]
    forged = audit.entry_hash(e.seq, e.at, "TAX", e.action, e.subject, e.details, e.prev_hash)
    with sqlite_engine.begin() as connection:
        connection.execute(
            update(audit_log).where(audit_log.c.seq == 2).values(actor="TAX", hash=forged)
        )
    report = verify(sqlite_engine)
    assert report.broken_at == 2 and "edited and its hash recomputed" in (report.reason or "")


def test_a_deleted_entry_is_named(sqlite_engine: Engine) -> None:
    add(sqlite_engine, 4)
    with sqlite_engine.begin() as connection:
        connection.execute(delete(audit_log).where(audit_log.c.seq == 3))
    report = verify(sqlite_engine)
    assert report.broken_at == 3 and "missing" in (report.reason or "")


def test_deleted_entries_at_the_end_are_named(sqlite_engine: Engine) -> None:
    add(sqlite_engine, 4)
    with sqlite_engine.begin() as connection:
        connection.execute(delete(audit_log).where(audit_log.c.seq >= 3))
    report = verify(sqlite_engine)
    assert report.broken_at == 3 and "deleted at the end" in (report.reason or "")


def test_an_inserted_entry_is_named(sqlite_engine: Engine) -> None:
    entries = add(sqlite_engine, 2)
    last = entries[-1]
    with sqlite_engine.begin() as connection:
        row = {**_row(last), "seq": 3, "prev_hash": last.hash, "subject": "forged"}
        connection.execute(insert(audit_log).values(row))
    report = verify(sqlite_engine)
    assert report.broken_at == 3 and "inserted" in (report.reason or "")


def test_a_rewritten_chain_is_caught_by_the_anchor_of_a_signed_export(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    add(sqlite_engine, 3)
    with sqlite_engine.connect() as connection:
        manifest = export(connection, tmp_path / "a.zip", _key(tmp_path))
    assert manifest.last_seq == 3 and manifest.last_hash is not None
    with sqlite_engine.begin() as connection:
        connection.execute(update(audit_log).where(audit_log.c.seq == 3).values(hash="f" * 64))
        connection.execute(text("UPDATE audit_head SET hash = :h"), {"h": "f" * 64})
    with sqlite_engine.connect() as connection:
        anchors = {3: audit.Anchor(manifest.last_hash, "the export")}
        report = audit.verify(connection, anchors=anchors)
    assert report.broken_at == 3


def test_concurrent_writers_keep_one_unbroken_chain(engine: Engine) -> None:
    errors: list[BaseException] = []

    def write() -> None:
        try:
            add(engine, 10)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = verify(engine)
    assert report.ok and report.entries == 40


def test_a_signed_export_verifies_and_names_the_key(sqlite_engine: Engine, tmp_path: Path) -> None:
    add(sqlite_engine, 3)
    key = _key(tmp_path)
    with sqlite_engine.connect() as connection:
        export(connection, tmp_path / "audit.zip", key)
    manifest = verify_export(tmp_path / "audit.zip", key.public_key())
    assert (manifest.entries, manifest.first_seq, manifest.last_seq) == (3, 1, 3)
    with zipfile.ZipFile(tmp_path / "audit.zip") as archive:
        lines = archive.read("audit.jsonl").decode().splitlines()
    assert json.loads(lines[0])["details"]["mapping"] == "M/inbound/X@1"


def test_a_tampered_export_is_refused(sqlite_engine: Engine, tmp_path: Path) -> None:
    add(sqlite_engine, 2)
    key = _key(tmp_path)
    with sqlite_engine.connect() as connection:
        export(connection, tmp_path / "audit.zip", key)
    _rewrite(tmp_path / "audit.zip", "audit.jsonl", lambda b: b.replace(b"message-1", b"message-9"))
    with pytest.raises(ExportInvalid, match="does not match the signed manifest"):
        verify_export(tmp_path / "audit.zip", key.public_key())


def test_an_export_signed_by_another_key_is_refused(sqlite_engine: Engine, tmp_path: Path) -> None:
    add(sqlite_engine, 1)
    with sqlite_engine.connect() as connection:
        export(connection, tmp_path / "audit.zip", _key(tmp_path))
    other = new_signing_key(tmp_path / "other.pem")
    with pytest.raises(ExportInvalid, match="signature"):
        verify_export(tmp_path / "audit.zip", other)


def _key(tmp_path: Path) -> Ed25519PrivateKey:
    path = tmp_path / "signing.pem"
    if not path.exists():
        new_signing_key(path)
    return load_signing_key(path)


def _row(entry: audit.AuditEntry) -> dict[str, object]:
    return {name: getattr(entry, name) for name in (c.name for c in audit_log.c)}


def _rewrite(path: Path, name: str, change: Any) -> None:
    with zipfile.ZipFile(path) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    files[name] = change(files[name])
    with zipfile.ZipFile(path, "w") as archive:
        for n, data in files.items():
            archive.writestr(n, data)
