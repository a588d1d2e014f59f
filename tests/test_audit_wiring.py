"""What the hub does is written to the hash-chained audit log as it happens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hubstack import HubStack, header, marriage, running_hub
from sqlalchemy import text

from hub.operations.replay import ReplayRequest, replay
from hub.security import audit

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(tmp_path: Path, database_url: str) -> Iterator[HubStack]:
    with running_hub(tmp_path, database_url=database_url) as running:
        yield running


def entries(stack: HubStack, action: str) -> list[audit.AuditEntry]:
    with stack.runtime.store.engine.connect() as connection:
        return [e for e in audit.entries(connection) if e.action == action]


def test_every_delivery_attempt_is_chained_with_its_payload_hash_and_mapping(
    stack: HubStack,
) -> None:
    receipt = stack.client().service.Submit(header=header(), message=marriage())
    stack.wait_settled(receipt.messageId)

    attempts = [e for e in entries(stack, audit.DELIVERY_ATTEMPT) if e.subject == receipt.messageId]
    details = sorted((json.loads(e.details) for e in attempts), key=lambda d: d["department"])
    assert [d["department"] for d in details] == ["SOCIAL_SECURITY", "TAX"]
    assert all(d["outcome"] == "delivered" and len(d["payload_sha256"]) == 64 for d in details)
    assert details[1]["mapping"] == "TAX/outbound/MarriageRegistered@1"
    with stack.runtime.store.engine.connect() as connection:
        assert audit.verify(connection).broken_at is None


def test_a_replay_is_chained_with_its_reason_and_an_edit_afterwards_is_detected(
    stack: HubStack,
) -> None:
    receipt = stack.client().service.Submit(header=header(), message=marriage())
    stack.wait_settled(receipt.messageId)
    replay(
        stack.runtime.store,
        stack.runtime.departments.codes(),
        ReplayRequest(actor="operator-li", reason="TAX asked", message_ids=(receipt.messageId,)),
    )

    (entry,) = entries(stack, audit.REPLAYED)
    assert entry.actor == "operator-li" and json.loads(entry.details)["reason"] == "TAX asked"
    with stack.runtime.store.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_log SET actor = 'someone else' WHERE seq = :seq"),
            {"seq": entry.seq},
        )
    with stack.runtime.store.engine.connect() as connection:
        assert audit.verify(connection).broken_at == entry.seq
