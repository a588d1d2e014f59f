"""Replay: failed legs go back to the queue with the same key; delivered ones never do."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import responses
from backends import (
    IDENTITY_NUMBER,
    PARTY_B_NUMBER,
    FakeClock,
    PostAdapter,
    departments,
    new_message,
    real_mappings,
    tax_marriage_v2,
)
from sqlalchemy import func, select

from hub.delivery import DeliveryHandler
from hub.errors import ClientError
from hub.mapping import MappingRegistry
from hub.operations.replay import ReplayRequest, replay
from hub.operations.views import MessageFilter
from hub.retry import RetryPolicy
from hub.security.tables import audit_log
from hub.store import Store
from hub.store.models import DeliveryRow, OperatorActionRow

TAX_URL = "http://tax.test/deliveries"
SS_URL = "http://social_security.test/deliveries"
CONFIGURED = {"TAX", "SOCIAL_SECURITY"}


def handler(
    store: Store, attempts: int = 2, mappings: MappingRegistry | None = None
) -> DeliveryHandler:
    return DeliveryHandler(
        store,
        mappings or real_mappings(),
        departments(),
        PostAdapter,
        RetryPolicy(base_seconds=10, max_seconds=60, max_attempts=attempts),
        lease_seconds=30,
    )


def request(*ids: str, **changes: object) -> ReplayRequest:
    values: dict[str, object] = {"actor": "ops", "reason": "TAX was down", "message_ids": ids}
    return ReplayRequest(**{**values, **changes})  # type: ignore[arg-type]


def delivery_row(store: Store, delivery_id: int) -> DeliveryRow:
    with store.engine.connect() as connection:
        row = connection.execute(select(DeliveryRow).where(DeliveryRow.id == delivery_id)).one()
    return row  # type: ignore[return-value]


def failed_at_tax_delivered_at_social_security(store: Store) -> tuple[str, dict[str, int]]:
    """TAX rejects (400, failed at once); social security takes it."""
    receipt = store.save_accepted(new_message(), ("SOCIAL_SECURITY", "TAX"), lease_seconds=30)
    ids = {d.department: d.delivery_id for d in receipt.deliveries}
    responses.add(responses.POST, TAX_URL, status=400, body="bad")
    responses.add(responses.POST, SS_URL, status=200, body="ok")
    for delivery_id in ids.values():
        handler(store).handle(delivery_id)
    return receipt.message_id, ids


@responses.activate
def test_a_failed_leg_is_replayed_with_the_same_key_and_the_delivered_one_is_skipped(
    store: Store, clock: FakeClock
) -> None:
    message_id, ids = failed_at_tax_delivered_at_social_security(store)

    report = replay(store, CONFIGURED, request(message_id))

    notes = {o.department: (o.result, o.note) for o in report.outcomes}
    assert notes["SOCIAL_SECURITY"] == (
        "skipped",
        "already delivered to SOCIAL_SECURITY, skipped",
    )
    assert notes["TAX"][0] == "replayed"
    tax = delivery_row(store, ids["TAX"])
    assert (tax.state, tax.lease_until, tax.replays, tax.attempts_at_replay) == (
        "queued",
        clock.now,
        1,
        1,
    )
    responses.replace(responses.POST, TAX_URL, status=200, body="ok")
    assert handler(store).handle(ids["TAX"]) == "delivered"
    keys = {call.request.headers["Idempotency-Key"] for call in responses.calls[-2:]}
    assert len([c for c in responses.calls if c.request.url == SS_URL]) == 1
    assert len(keys) == 1  # both TAX attempts carried the one key


@responses.activate
def test_a_replay_of_a_replay_is_harmless(store: Store) -> None:
    message_id, ids = failed_at_tax_delivered_at_social_security(store)
    replay(store, CONFIGURED, request(message_id))

    again = replay(store, CONFIGURED, request(message_id))

    assert again.replayed == 0
    assert {o.note for o in again.outcomes} == {
        "already delivered to SOCIAL_SECURITY, skipped",
        "already queued for TAX, skipped",
    }
    assert delivery_row(store, ids["TAX"]).replays == 1


@responses.activate
def test_a_dry_run_changes_nothing_but_is_kept_in_the_audit_trail(store: Store) -> None:
    message_id, ids = failed_at_tax_delivered_at_social_security(store)

    report = replay(store, CONFIGURED, request(message_id, dry_run=True, reason=""))

    assert [o.note for o in report.outcomes if o.result == "replayed"] == [
        "would replay to TAX with the current mapping"
    ]
    assert delivery_row(store, ids["TAX"]).state == "failed"
    with store.engine.connect() as connection:
        action = connection.execute(select(OperatorActionRow)).one()
    assert (action.action, action.actor, action.dry_run, action.message_id) == (
        "replay",
        "ops",
        True,
        message_id,
    )
    assert json.loads(action.detail)["legs"][1]["department"] == "TAX"


@responses.activate
def test_a_bulk_dry_run_records_one_entry_however_many_legs_it_would_replay(
    store: Store,
) -> None:
    failed = [failed_at_tax_delivered_at_social_security(store) for _ in range(12)]
    before = table_counts(store)

    report = replay(
        store,
        CONFIGURED,
        request(wanted=MessageFilter(state="failed", department="TAX"), dry_run=True, batch_size=5),
    )

    assert report.replayed == 12
    assert {delivery_row(store, ids["TAX"]).state for _, ids in failed} == {"failed"}
    (actions, entries), (actions_before, entries_before) = table_counts(store), before
    assert (actions - actions_before, entries - entries_before) == (1, 1)
    with store.engine.connect() as connection:
        action = connection.execute(select(OperatorActionRow)).all()[-1]
    assert (action.dry_run, action.message_id) == (True, None)
    detail = json.loads(action.detail)
    assert (detail["messages"], detail["legs"], detail["results"]) == (12, 12, {"replayed": 12})


def table_counts(store: Store) -> tuple[int, int]:
    """Rows in operator_actions and in the audit chain."""
    with store.engine.connect() as connection:
        actions = connection.scalar(select(func.count()).select_from(OperatorActionRow))
        entries = connection.scalar(select(func.count()).select_from(audit_log))
    return int(actions or 0), int(entries or 0)


@responses.activate
def test_a_replay_whose_department_was_since_disabled_is_refused_with_a_reason(
    store: Store,
) -> None:
    message_id, ids = failed_at_tax_delivered_at_social_security(store)

    report = replay(store, {"SOCIAL_SECURITY"}, request(message_id))

    (tax,) = [o for o in report.outcomes if o.department == "TAX"]
    assert (tax.result, tax.note) == (
        "refused",
        "department TAX is no longer configured (disabled); not replayed",
    )
    assert delivery_row(store, ids["TAX"]).state == "failed"


def test_an_unknown_message_id_is_reported_not_found(store: Store) -> None:
    report = replay(store, CONFIGURED, request("00000000-0000-4000-8000-000000000000"))

    assert report.outcomes == ()
    assert report.not_found == ("00000000-0000-4000-8000-000000000000",)


def test_a_real_replay_needs_a_reason(store: Store) -> None:
    with pytest.raises(ClientError, match="reason"):
        replay(store, CONFIGURED, request("x", reason=" "))


@responses.activate
def test_a_pinned_replay_is_delivered_with_the_mapping_version_of_the_first_delivery(
    store: Store,
) -> None:
    message_id, ids = failed_at_tax_delivered_at_social_security(store)  # mapped by @1
    upgraded = tax_marriage_v2(real_mappings())  # @2 installed since; @1 kept for replay

    report = replay(store, CONFIGURED, request(message_id, pin_mapping=True))
    responses.replace(responses.POST, TAX_URL, status=200, body="ok")
    assert handler(store, mappings=upgraded).handle(ids["TAX"]) == "delivered"

    assert "pinned to TAX/outbound/MarriageRegistered@1" in report.outcomes[1].note
    assert taxpayer_sent_last() == IDENTITY_NUMBER  # @1 sends party A; @2 would send party B
    assert delivery_row(store, ids["TAX"]).outbound_mapping == "TAX/outbound/MarriageRegistered@1"


@responses.activate
def test_an_unpinned_replay_is_delivered_with_the_mapping_installed_now(store: Store) -> None:
    message_id, ids = failed_at_tax_delivered_at_social_security(store)  # mapped by @1
    upgraded = tax_marriage_v2(real_mappings())

    replay(store, CONFIGURED, request(message_id))
    responses.replace(responses.POST, TAX_URL, status=200, body="ok")
    assert handler(store, mappings=upgraded).handle(ids["TAX"]) == "delivered"

    assert taxpayer_sent_last() == PARTY_B_NUMBER
    assert delivery_row(store, ids["TAX"]).outbound_mapping == "TAX/outbound/MarriageRegistered@2"


def taxpayer_sent_last() -> str:
    """The taxpayer's identity number in the last marital event the tax bureau received."""
    event = json.loads(responses.calls[-1].request.body or b"{}")
    return str(event["taxpayer"]["idNumber"])


@responses.activate
def test_a_replayed_leg_gets_a_fresh_attempt_budget(store: Store, clock: FakeClock) -> None:
    receipt = store.save_accepted(new_message(), ("TAX",), lease_seconds=30)
    delivery_id = receipt.deliveries[0].delivery_id
    responses.add(responses.POST, TAX_URL, status=503)
    for _ in range(2):  # max_attempts=2: retry, then gave up
        handler(store).handle(delivery_id)
        clock.advance(3600)
    assert delivery_row(store, delivery_id).state == "failed"

    replay(store, CONFIGURED, request(receipt.message_id))

    assert handler(store).handle(delivery_id) == "retrying"  # attempt 1 of the new round


@responses.activate
def test_a_bulk_replay_releases_failed_legs_in_spaced_batches(
    store: Store, clock: FakeClock
) -> None:
    responses.add(responses.POST, TAX_URL, status=400)
    delivery_ids = []
    for _ in range(5):
        receipt = store.save_accepted(new_message(), ("TAX",), lease_seconds=30)
        delivery_ids.append(receipt.deliveries[0].delivery_id)
        handler(store).handle(delivery_ids[-1])

    report = replay(
        store,
        CONFIGURED,
        request(wanted=MessageFilter(state="failed"), batch_size=2, batch_interval_seconds=10),
    )

    assert report.replayed == 5
    releases = [delivery_row(store, d).lease_until - clock.now for d in delivery_ids]
    assert releases == [timedelta(seconds=s) for s in (0, 0, 10, 10, 20)]
    due_now = store.due_deliveries(100)
    assert [d.delivery_id for d in due_now] == delivery_ids[:2]


def test_a_bulk_replay_with_nothing_failed_replays_nothing(store: Store) -> None:
    store.save_accepted(new_message(), ("TAX",), lease_seconds=30)

    report = replay(store, CONFIGURED, request(wanted=MessageFilter(department="TAX")))

    assert report.outcomes == () and report.not_found == ()
