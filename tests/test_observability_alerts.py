"""Alert rules evaluated by a real running hub's worker service: an alert fires once, sends
one recovery notice, both to a real webhook (a tiny HTTP server here) and to the log, and
both are kept in the history."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from backends import new_message
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hubstack import header, marriage, running_hub

from hub.errors import ConfigurationError
from hub.observability.alert_rules import load_rules
from hub.observability.alerting import Alerting, Notifier, history
from hub.polling import wait_for
from hub.store import Store

EVALUATION_SECONDS = 0.2
# Several evaluations: had the alert not fired once only, it would have posted again.
STILL_FIRING_SECONDS = 1.0

BACKLOG_RULE = """
[[rule]]
name = "tax-backlog"
kind = "pending_above"
department = "TAX"
above = 0
"""


@contextmanager
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A real HTTP server that keeps every JSON document POSTed to it."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/alerts", received
    finally:
        server.shutdown()
        server.server_close()


def test_an_alert_fires_once_then_sends_one_recovery_notice_to_the_webhook_and_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    rules = tmp_path / "alerts.toml"
    rules.write_text(BACKLOG_RULE, encoding="utf-8")
    with (
        webhook() as (url, received),
        running_hub(
            tmp_path,
            alert_rules_file=str(rules),
            alert_webhook_url=url,
            alert_interval_seconds=EVALUATION_SECONDS,
        ) as hub,
    ):
        hub.mocks.tax.faults.down()
        receipt = hub.client().service.Submit(header=header(), message=marriage())
        assert wait_for(lambda: received, 10), "the alert fired"
        time.sleep(STILL_FIRING_SECONDS)
        fired_only = list(received)
        hub.mocks.tax.faults.clear()
        assert hub.wait_settled(receipt.messageId).state == "delivered"
        assert wait_for(lambda: len(received) == 2, 10), "the recovery was sent"
        # The webhook has the notice before the worker writes down where it went.
        engine = hub.runtime.store.engine
        assert wait_for(lambda: len(history(engine)) == 4, 10), history(engine)
        kept = history(engine)

    assert [(p["alert"], p["subject"], p["status"]) for p in fired_only] == [
        ("tax-backlog", "TAX", "firing")
    ]
    assert received[0]["kind"] == "pending_above" and received[0]["detail"] == "1 legs pending"
    assert [(p["subject"], p["status"]) for p in received[1:]] == [("TAX", "resolved")]
    assert [(e.rule, e.subject, e.event) for e in kept] == [
        ("tax-backlog", "TAX", "notified"),
        ("tax-backlog", "TAX", "cleared"),
        ("tax-backlog", "TAX", "notified"),
        ("tax-backlog", "TAX", "fired"),
    ]
    assert kept[0].detail == kept[2].detail == "log and webhook (HTTP 204)"
    assert "alert tax-backlog firing for TAX: 1 legs pending" in caplog.text
    assert "alert tax-backlog resolved for TAX" in caplog.text


def test_a_certificate_near_expiry_fires_and_a_second_evaluation_stays_quiet(
    tmp_path: Path, live_store: Store
) -> None:
    certificate = tmp_path / "hub.pem"
    certificate.write_bytes(self_signed(expires_in=timedelta(days=3)))
    rules = tmp_path / "alerts.toml"
    rules.write_text(
        '[[rule]]\nname = "certs"\nkind = "certificate_expiry"\nwithin_days = 14\n',
        encoding="utf-8",
    )
    alerting = Alerting(
        load_rules(str(rules)), live_store.engine, Notifier(), certificates=[str(certificate)]
    )
    first, second = alerting.evaluate(), alerting.evaluate()
    assert [(e.rule, e.subject, e.event) for e in first] == [("certs", str(certificate), "fired")]
    assert first[0].detail.startswith("expires ")
    assert second == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[[rule]]\nname = "x"\nkind = "moon_phase"\n', "alert rule x: kind must be one of"),
        ('[[rule]]\nkind = "pending_above"\n', "alert rule 1: needs a name"),
        ('[[rule]]\nname = "x"\nkind = "pending_above"\nabove = "many"\n', "alert rule x:"),
        ('[[rule]]\nname = "x"\nkind = "pending_above"\nbelow = 3\n', "unknown fields"),
        ("[[rule]\n", "alert rules"),
    ],
)
def test_a_rules_file_the_hub_cannot_read_is_refused_naming_the_rule(
    tmp_path: Path, text: str, says: str
) -> None:
    rules = tmp_path / "alerts.toml"
    rules.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=says):
        load_rules(str(rules))


def self_signed(expires_in: timedelta) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hub.test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + expires_in)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def test_a_department_whose_attempts_fail_fires_its_failure_rate_alert(tmp_path: Path) -> None:
    rules = tmp_path / "alerts.toml"
    rules.write_text(
        '[[rule]]\nname = "failing"\nkind = "failure_rate"\nabove = 0.5\nwindow_seconds = 600\n',
        encoding="utf-8",
    )
    with (
        webhook() as (url, received),
        running_hub(
            tmp_path,
            alert_rules_file=str(rules),
            alert_webhook_url=url,
            alert_interval_seconds=EVALUATION_SECONDS,
        ) as hub,
    ):
        hub.mocks.tax.faults.down()
        hub.client().service.Submit(header=header(), message=marriage())
        assert wait_for(lambda: received, 10), "the alert fired"
        hub.mocks.tax.faults.clear()
    assert [(p["alert"], p["subject"], p["status"]) for p in received[:1]] == [
        ("failing", "TAX", "firing")
    ]
    assert received[0]["detail"].endswith("attempts in 600 s did not deliver")


def test_a_webhook_that_fails_is_kept_in_the_history_as_the_log_only(
    tmp_path: Path, live_store: Store
) -> None:
    rules = tmp_path / "alerts.toml"
    rules.write_text(BACKLOG_RULE, encoding="utf-8")
    live_store.save_accepted(new_message(), ("TAX",), lease_seconds=30)
    with webhook() as (url, _):
        closed = url  # the server is gone once the block ends: nothing answers there
    alerting = Alerting(load_rules(str(rules)), live_store.engine, Notifier(closed))

    alerting.evaluate()
    kept = history(live_store.engine)

    assert [(e.event, e.detail) for e in kept] == [
        ("notified", "log; the webhook failed (ConnectionError)"),
        ("fired", "1 legs pending"),
    ]
