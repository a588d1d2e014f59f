"""What each kind of alert rule measures: the subjects (departments, certificate files) in
breach now, each with a line saying by how much."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from sqlalchemy import Engine, case, func, select

from hub.observability.alert_rules import AlertRule
from hub.observability.metrics import pending_legs
from hub.store.models import AttemptRow, DeliveryRow

Breaches = dict[str, str]  # subject -> what is wrong


def breaches(
    rule: AlertRule, engine: Engine, now: datetime, certificates: Sequence[str]
) -> Breaches:
    if rule.kind == "failure_rate":
        found = _failure_rates(rule, engine, now)
    elif rule.kind == "certificate_expiry":
        return _expiring(rule, certificates, now)
    else:
        found = _pending(rule, engine, now)
    return {s: d for s, d in found.items() if rule.department in (None, s)}


def _failure_rates(rule: AlertRule, engine: Engine, now: datetime) -> Breaches:
    failed = func.sum(case((AttemptRow.outcome.in_(("retry", "failed")), 1), else_=0))
    query = (
        select(DeliveryRow.department, func.count(), failed)
        .join(DeliveryRow, DeliveryRow.id == AttemptRow.delivery_id)
        .where(AttemptRow.started_at >= now - timedelta(seconds=rule.window_seconds))
        .group_by(DeliveryRow.department)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return {
        department: f"{int(bad)} of {total} attempts in {rule.window_seconds:g} s did not deliver"
        for department, total, bad in rows
        if total and int(bad) / total > rule.above
    }


def _pending(rule: AlertRule, engine: Engine, now: datetime) -> Breaches:
    counts, since = pending_legs(engine)
    if rule.kind == "mailbox_held":
        return {
            department: f"{count} legs held: its mailbox is at its quota"
            for (department, state), count in counts.items()
            if state == "held" and count > rule.above
        }
    if rule.kind == "pending_above":
        totals: dict[str, int] = {}
        for (department, _), count in counts.items():
            totals[department] = totals.get(department, 0) + count
        return {d: f"{n} legs pending" for d, n in totals.items() if n > rule.above}
    ages = {d: (now - first).total_seconds() for d, first in since.items()}
    return {d: f"oldest pending leg {age:.0f} s old" for d, age in ages.items() if age > rule.above}


def _expiring(rule: AlertRule, certificates: Sequence[str], now: datetime) -> Breaches:
    found: Breaches = {}
    for path in certificates:
        try:
            expires = x509.load_pem_x509_certificate(Path(path).read_bytes()).not_valid_after_utc
        except (OSError, ValueError) as exc:
            found[path] = f"cannot be read: {exc}"
            continue
        if expires - now <= timedelta(days=rule.within_days):
            found[path] = f"expires {expires.isoformat()}"
    return found
