"""The dashboard's numbers on the real store (SQLite and PostgreSQL): delivery latency
percentiles, the hourly chart of attempts, each department endpoint's health from its recent
attempts, and the page's health panel that never waits long for a hung check."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from backends import FakeClock, new_message
from sqlalchemy import insert, update

from hub.console.charts import HEIGHT, bars
from hub.console.dashboard import department_loads
from hub.console.health import WAIT_SECONDS, HealthWatch, endpoints
from hub.observability.readiness import Check, Readiness
from hub.store import Store
from hub.store.models import AttemptRow, DeliveryRow


def deliver_after(store: Store, department: str, seconds: float, received: datetime) -> int:
    """A message received at ``received`` whose leg to ``department`` was delivered
    ``seconds`` later; the leg's id."""
    message_id = store.save_accepted(new_message(), (department,), lease_seconds=30).message_id
    with store.engine.begin() as connection:
        connection.execute(
            update(DeliveryRow)
            .where(DeliveryRow.message_id == message_id)
            .values(state="delivered", delivered_at=received + timedelta(seconds=seconds))
        )
        return int(
            connection.execute(
                DeliveryRow.__table__.select().where(DeliveryRow.message_id == message_id)
            ).one()[0]
        )


def attempt(store: Store, leg: int, at: datetime, outcome: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            insert(AttemptRow).values(
                delivery_id=leg, started_at=at, duration_ms=12, outcome=outcome
            )
        )


def test_latency_percentiles_cover_the_legs_delivered_in_each_window(
    store: Store, clock: FakeClock
) -> None:
    received = clock()
    for seconds in range(1, 101):  # 1 s .. 100 s after arrival
        deliver_after(store, "TAX", seconds, received)
    clock.advance(3 * 3600)
    deliver_after(store, "TAX", 1000, clock())  # only the last hour has this slow one... and
    clock.advance(1001)  # ...it was delivered 1000 s after it came in

    tax = {d.department: d for d in department_loads(store, clock())}["TAX"]

    assert tax.latency["hour"].p50_seconds == 1000.0
    day = tax.latency["day"]
    assert day.p50_seconds is not None and 50.0 <= day.p50_seconds <= 52.0
    assert day.p95_seconds is not None and 95.0 <= day.p95_seconds <= 97.0


def test_the_chart_counts_attempts_per_hour_and_draws_failures_on_top(
    store: Store, clock: FakeClock
) -> None:
    leg = deliver_after(store, "TAX", 1, clock())
    attempt(store, leg, clock() - timedelta(hours=5), "retry")
    attempt(store, leg, clock() - timedelta(hours=5), "delivered")
    attempt(store, leg, clock(), "failed")
    attempt(store, leg, clock() - timedelta(hours=30), "delivered")  # older than the chart

    hourly = {d.department: d for d in department_loads(store, clock())}["TAX"].hourly
    drawn = bars(hourly)

    assert (hourly[-1].delivered, hourly[-1].not_delivered) == (0, 1)
    assert (hourly[-6].delivered, hourly[-6].not_delivered) == (1, 1)
    assert sum(t.delivered + t.not_delivered for t in hourly) == 3
    assert drawn[-1].failed_height == HEIGHT / 2 and drawn[-1].delivered_height == 0  # of 2
    assert drawn[-6].delivered_height == HEIGHT / 2 == drawn[-6].failed_height  # the busiest
    assert drawn[-6].title == "5 h ago: 1 delivered, 1 not delivered"


def test_an_endpoint_is_failing_degraded_or_ok_by_its_recent_attempts(
    store: Store, clock: FakeClock
) -> None:
    now = clock()
    tax = deliver_after(store, "TAX", 1, now)
    social = deliver_after(store, "SOCIAL_SECURITY", 1, now)
    household = deliver_after(store, "HOUSEHOLD", 1, now)
    attempt(store, tax, now - timedelta(minutes=3), "retry")
    attempt(store, tax, now - timedelta(minutes=2), "retry")
    attempt(store, social, now - timedelta(minutes=3), "retry")
    attempt(store, social, now - timedelta(minutes=2), "delivered")
    attempt(store, household, now - timedelta(minutes=3), "delivered")
    attempt(store, household, now - timedelta(minutes=2), "retry")
    attempt(store, household, now - timedelta(hours=2), "delivered")  # not recent

    health = {h.name: h for h in endpoints(store, now)}

    assert health["TAX"].state == "failing"
    assert health["SOCIAL_SECURITY"].state == "ok"
    assert health["HOUSEHOLD"].state == "degraded"
    assert health["HOUSEHOLD"].detail == "1 of 2 attempts delivered in 15 min; last: retry"


def test_a_hung_check_does_not_hold_the_dashboard_and_its_answer_shows_next_time() -> None:
    release = threading.Event()
    readiness = Readiness(
        [Check("database", lambda: None), Check("bus", lambda: release.wait(10) and None)],
        timeout_seconds=10,
        cache_seconds=0,
    )
    watch = HealthWatch(readiness)

    started = datetime.now()
    first = watch.services()
    waited = (datetime.now() - started).total_seconds()
    release.set()
    threading.Event().wait(0.2)
    second = {h.name: h.state for h in watch.services()}

    assert waited < WAIT_SECONDS + 1.0
    assert [h.state for h in first] == ["checking", "checking"]
    assert second == {"database": "ok", "bus": "ok"}


def test_a_leg_replayed_in_the_window_counts_from_its_replay_not_from_its_arrival(
    store: Store, clock: FakeClock
) -> None:
    message_id = store.save_accepted(new_message(), ("TAX",), lease_seconds=30).message_id
    clock.advance(3 * 24 * 3600)  # replayed three days after it came in
    with store.engine.begin() as connection:
        connection.execute(
            update(DeliveryRow)
            .where(DeliveryRow.message_id == message_id)
            .values(
                state="delivered", queued_at=clock(), delivered_at=clock() + timedelta(seconds=8)
            )
        )
    clock.advance(60)

    tax = {d.department: d for d in department_loads(store, clock())}["TAX"]

    assert tax.counts["hour"]["accepted"] == 1 and tax.counts["hour"]["delivered"] == 1
    assert tax.latency["hour"].p50_seconds == 8.0
