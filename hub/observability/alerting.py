"""Alerts: the rules evaluated every ``GOVHUB_ALERT_INTERVAL_SECONDS`` by the worker service.

An alert fires once when its rule is breached for a subject (a department, a certificate
file), and sends one recovery notice when the breach ends; each goes to the log and, when
``GOVHUB_ALERT_WEBHOOK_URL`` is set, to that URL as a JSON POST:

    {"alert": "tax-failing", "kind": "failure_rate", "subject": "TAX", "status": "firing",
     "detail": "3 of 4 attempts in 300 s did not deliver", "at": "2026-12-06T05:10:00+00:00"}

("status": "resolved" for the recovery). Several worker processes may evaluate the same rules:
the state row each flips in the database decides which one notifies. Every firing and
recovery is kept (table ``alert_events``), and where its notice went (a "notified" row:
the log, the webhook and its answer), read with ``history``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.config import Settings
from hub.observability.alert_checks import breaches
from hub.observability.alert_rules import AlertRule, load_rules
from hub.observability.alert_tables import alert_events, alert_states
from hub.untrusted import shown

log = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 5.0
NOTIFIED = "notified"  # the history's row saying where a firing's or recovery's notice went


@dataclass(frozen=True)
class AlertEvent:
    rule: str
    subject: str
    event: str  # fired | cleared | notified
    at: datetime
    detail: str


class Notifier:
    """The log, and the webhook if one is set; a webhook that fails is logged, not retried."""

    def __init__(self, webhook_url: str = "") -> None:
        self.webhook_url = webhook_url

    def send(self, rule: AlertRule, event: AlertEvent) -> str:
        """Where the notice went, in a few words (kept in the alert's history)."""
        status = "firing" if event.event == "fired" else "resolved"
        level = logging.WARNING if status == "firing" else logging.INFO
        log.log(level, "alert %s %s for %s: %s", rule.name, status, event.subject, event.detail)
        if not self.webhook_url:
            return "log"
        return self._post(_payload(rule, event, status))

    def _post(self, payload: dict[str, Any]) -> str:
        try:
            answer = requests.post(self.webhook_url, json=payload, timeout=WEBHOOK_TIMEOUT_SECONDS)
            answer.raise_for_status()
        except requests.RequestException as exc:
            log.error("alert webhook failed for %s: %s", payload["alert"], shown(str(exc)))
            return f"log; the webhook failed ({type(exc).__name__})"
        return f"log and webhook (HTTP {answer.status_code})"


class Alerting:
    def __init__(
        self,
        rules: Sequence[AlertRule],
        engine: Engine,
        notifier: Notifier,
        *,
        certificates: Sequence[str] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.rules = list(rules)
        self.engine = engine
        self.notifier = notifier
        self.certificates = [path for path in certificates if path]
        self.clock = clock

    def evaluate(self) -> list[AlertEvent]:
        """Every rule once; the firings and recoveries this process announced."""
        announced = []
        for rule in self.rules:
            now = self.clock()
            found = breaches(rule, self.engine, now, self.certificates)
            for subject in sorted(set(found) | self._firing(rule)):
                detail = found.get(subject, "back to normal")
                event = self._flip(rule, subject, subject in found, now, detail)
                if event is not None:
                    self._notified(event, self.notifier.send(rule, event))
                    announced.append(event)
        return announced

    def run(self, stop: threading.Event, interval_seconds: float) -> None:
        """Thread body: evaluate every ``interval_seconds`` until ``stop`` is set."""
        while not stop.is_set():
            try:
                self.evaluate()
            except Exception as exc:  # the database is away: the next round tries again
                log.error("alert evaluation failed: %s", str(exc).splitlines()[0])
            stop.wait(interval_seconds)

    def _notified(self, event: AlertEvent, where: str) -> None:
        """The notice's delivery, next to the firing or recovery it announced."""
        notice = AlertEvent(event.rule, event.subject, NOTIFIED, self.clock(), where)
        with self.engine.begin() as connection:
            connection.execute(insert(alert_events).values(**notice.__dict__))

    def _firing(self, rule: AlertRule) -> set[str]:
        query = select(alert_states.c.subject).where(
            alert_states.c.rule == rule.name, alert_states.c.firing.is_(True)
        )
        with self.engine.connect() as connection:
            return set(connection.execute(query).scalars())

    def _flip(
        self, rule: AlertRule, subject: str, firing: bool, now: datetime, detail: str
    ) -> AlertEvent | None:
        """Move the state to ``firing``; the event if this process moved it, else None."""
        key = (alert_states.c.rule == rule.name) & (alert_states.c.subject == subject)
        values = {"firing": firing, "changed_at": now}
        try:
            with self.engine.begin() as connection:
                moved = connection.execute(
                    update(alert_states).where(key, alert_states.c.firing.is_(not firing)),
                    values,
                ).rowcount
                if not moved and firing:
                    connection.execute(
                        insert(alert_states).values(rule=rule.name, subject=subject, **values)
                    )
                elif not moved:
                    return None
                event = AlertEvent(
                    rule.name, subject, "fired" if firing else "cleared", now, detail
                )
                connection.execute(insert(alert_events).values(**event.__dict__))
        except IntegrityError:  # the row exists and already says so, or another process won
            return None
        return event


def alerting_from_settings(settings: Settings, engine: Engine) -> Alerting | None:
    """The alerts of the configured rules file, or None without one (a bad file raises)."""
    rules = load_rules(settings.alert_rules_file)
    if not rules:
        return None
    certificates = (settings.tls_cert_file, settings.signing_cert_file)
    return Alerting(rules, engine, Notifier(settings.alert_webhook_url), certificates=certificates)


def history(engine: Engine, limit: int = 100) -> list[AlertEvent]:
    """The newest firings and recoveries first."""
    query = (
        select(alert_events.c.rule, alert_events.c.subject, alert_events.c.event)
        .add_columns(alert_events.c.at, alert_events.c.detail)
        .order_by(alert_events.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as connection:
        return [AlertEvent(*row) for row in connection.execute(query)]


def _payload(rule: AlertRule, event: AlertEvent, status: str) -> dict[str, Any]:
    return {
        "alert": rule.name,
        "kind": rule.kind,
        "subject": event.subject,
        "status": status,
        "detail": event.detail,
        "at": event.at.isoformat(),
    }


@dataclass(frozen=True)
class Firing:
    rule: str
    subject: str
    since: datetime


def firing_now(engine: Engine) -> list[Firing]:
    """Every rule and subject in breach now, by rule."""
    query = (
        select(alert_states.c.rule, alert_states.c.subject, alert_states.c.changed_at)
        .where(alert_states.c.firing.is_(True))
        .order_by(alert_states.c.rule, alert_states.c.subject)
    )
    with engine.connect() as connection:
        return [Firing(*row) for row in connection.execute(query)]
