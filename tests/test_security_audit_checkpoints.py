"""Signed checkpoints of the audit head, kept outside the database: deleting the tail and
rolling back the head (or rewriting it) is detected by `govhub audit verify`, and the worker
service writes them as the log grows."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from audit_kit import add_entries, delete_tail, run_cli
from hubstack import header, marriage, running_hub
from sqlalchemy import Engine

from hub.config import Settings
from hub.errors import AuditChainBroken, CheckpointInvalid
from hub.polling import wait_for
from hub.security import audit
from hub.security.checkpointer import Checkpointer
from hub.security.checkpoints import (
    file_name,
    kept_seqs,
    load_checkpoints,
    read_checkpoint,
    take_checkpoint,
)
from hub.security.export import load_public_key, load_signing_key, new_signing_key

pytest_plugins = ["audit_fixtures"]  # the `engine` and `keys` fixtures


def checkpoint_now(tmp_path: Path, keys: dict[str, str]) -> str:
    result = run_cli(tmp_path, "audit", "checkpoint", env=keys)
    assert result.exit_code == 0, result.output
    return result.output


def verify(tmp_path: Path, keys: dict[str, str], code: int) -> str:
    result = run_cli(tmp_path, "audit", "verify", env=keys)
    assert result.exit_code == code, result.output
    return result.output


def test_a_deleted_tail_with_the_head_rolled_back_fails_verify_naming_the_checkpoint(
    engine: Engine, tmp_path: Path, keys: dict[str, str]
) -> None:
    add_entries(engine, 10)
    assert "checkpoint-000000000010.json" in checkpoint_now(tmp_path, keys)
    delete_tail(engine, 7)
    with engine.connect() as connection:
        assert audit.verify(connection).ok  # what is left holds in itself

    output = verify(tmp_path, keys, code=1)
    assert "BROKEN at entry 7: entries 7 to 10 are missing: checkpoint 10 of" in output
    assert "the tail was deleted" in output


def test_a_head_rolled_back_and_rewritten_fails_verify_after_the_last_matching_checkpoint(
    engine: Engine, tmp_path: Path, keys: dict[str, str]
) -> None:
    add_entries(engine, 5)
    checkpoint_now(tmp_path, keys)
    add_entries(engine, 5)
    checkpoint_now(tmp_path, keys)
    delete_tail(engine, 8)
    add_entries(engine, 4)  # seq 8 to 11 again, other content: the head is ahead of 10 again

    output = verify(tmp_path, keys, code=1)
    assert "BROKEN at entry 6: entry 10 differs from checkpoint 10 of" in output
    assert "entry 5 matches a kept hash" in output


def test_an_intact_log_verifies_against_its_checkpoints(
    engine: Engine, tmp_path: Path, keys: dict[str, str]
) -> None:
    add_entries(engine, 3)
    checkpoint_now(tmp_path, keys)
    add_entries(engine, 2)
    output = verify(tmp_path, keys, code=0)
    assert "intact: 5 entries" in output
    assert "checkpoints kept: 1, the latest checkpoint 3 of" in output


def test_a_checkpoint_signed_with_another_key_is_refused(
    engine: Engine, tmp_path: Path, keys: dict[str, str]
) -> None:
    add_entries(engine, 4)
    delete_tail(engine, 3)
    attacker = {**keys, "GOVHUB_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "attacker.key")}
    new_signing_key(tmp_path / "attacker.key")
    checkpoint_now(tmp_path, attacker)
    output = verify(tmp_path, keys, code=1)
    assert "signature does not verify with the trusted public key" in output


def test_verify_refuses_checkpoints_it_has_no_trusted_key_for(
    engine: Engine, tmp_path: Path, keys: dict[str, str]
) -> None:
    add_entries(engine, 2)
    checkpoint_now(tmp_path, keys)
    result = run_cli(tmp_path, "audit", "verify")
    assert result.exit_code == 2 and "GOVHUB_AUDIT_PUBLIC_KEY_FILE" in result.output


def test_checkpoints_are_named_by_seq_signed_and_only_the_newest_are_kept(
    engine: Engine, tmp_path: Path, keys: dict[str, str]
) -> None:
    folder, key = tmp_path / "checkpoints", load_signing_key(tmp_path / "audit.key")
    for _ in range(5):
        add_entries(engine, 1)
        take_checkpoint(engine, folder, key, keep=3)
    assert take_checkpoint(engine, folder, key, keep=3) is None  # the head did not move
    assert sorted(p.name for p in folder.iterdir()) == [file_name(seq) for seq in (3, 4, 5)]
    public = load_public_key(tmp_path / "audit.pub")
    with engine.connect() as connection:
        head = audit.head(connection)
    assert [(c.seq, c.hash) for c in load_checkpoints(folder, public)][-1] == head
    document = json.loads((folder / file_name(5)).read_text())
    document["seq"] = 9
    (folder / file_name(5)).write_text(json.dumps(document))
    with pytest.raises(CheckpointInvalid, match="signature"):
        read_checkpoint(folder / file_name(5), public)


def test_the_writer_refuses_a_head_behind_its_latest_checkpoint(
    engine: Engine, tmp_path: Path, keys: dict[str, str]
) -> None:
    folder, key = tmp_path / "checkpoints", load_signing_key(tmp_path / "audit.key")
    add_entries(engine, 6)
    take_checkpoint(engine, folder, key, keep=10)
    delete_tail(engine, 5)
    with pytest.raises(AuditChainBroken, match="behind checkpoint 6"):
        take_checkpoint(engine, folder, key, keep=10)
    assert kept_seqs(folder) == [6]


def test_the_checkpoint_thread_reports_a_cut_log_as_an_error_and_writes_nothing(
    engine: Engine, tmp_path: Path, keys: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=tmp_path, audit_signing_key_file=str(tmp_path / "audit.key"))
    checkpointer = Checkpointer.from_settings(engine, settings)
    assert checkpointer is not None
    add_entries(engine, 4)
    assert checkpointer.once() == tmp_path / "audit-checkpoints" / file_name(4)
    delete_tail(engine, 3)
    with caplog.at_level(logging.ERROR):
        assert checkpointer.once() is None
    assert "the audit head 2 is behind checkpoint 4" in caplog.text
    assert kept_seqs(tmp_path / "audit-checkpoints") == [4]


@pytest.mark.slow
def test_the_worker_service_checkpoints_the_head_as_the_log_grows(
    tmp_path: Path, keys: dict[str, str]
) -> None:
    settings = {"audit_signing_key_file": keys["GOVHUB_AUDIT_SIGNING_KEY_FILE"]}
    with running_hub(tmp_path, audit_checkpoint_seconds=0.1, **settings) as stack:
        receipt = stack.client().service.Submit(header=header(), message=marriage())
        stack.wait_settled(receipt.messageId)
        folder = stack.runtime.settings.effective_audit_checkpoint_dir
        with stack.runtime.store.engine.connect() as connection:
            head_seq, _ = audit.head(connection)

        def checkpointed() -> bool:
            return bool(kept_seqs(folder)) and kept_seqs(folder)[-1] >= head_seq

        assert wait_for(checkpointed, 10.0)
    assert folder == tmp_path / "hub" / "audit-checkpoints"
