"""Test backends and doubles: real databases and buses, fakes only for what is outside the hub.

A backend that is not reachable skips its tests on a laptop and fails them in CI (CI=true).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, cast

import kombu
import psycopg
import pytest
import requests
from lxml import etree
from queue_cleanup import broker_used
from sqlalchemy.engine import make_url

from adapters.base import Adapter, DeliveryResult, OutboundDelivery
from hub import polling
from hub.bus import DeliveryTask, QueueConsumer
from hub.delivery import payload_bytes
from hub.departments import DepartmentConfig, DepartmentDirectory
from hub.errors import ConfigurationError, PermanentDeliveryError, RetryableDeliveryError
from hub.identity import make_number
from hub.mapping import Mapping, MappingRegistry, load_mapping
from hub.resources import MAPPINGS_ROOT
from hub.store import NewMessage, Store

kombu_any: Any = kombu  # mostly untyped, see hub/bus/__init__.py
DEFAULT_DATABASE_URL = "postgresql+psycopg://govhub:govhub@127.0.0.1:5432/govhub_test"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
CANONICAL_NS = "urn:govhub:canonical:1"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CANONICAL_MARRIAGE = EXAMPLES / "canonical" / "MarriageRegistered.xml"
IDENTITY_NUMBER = make_number("11010519900307", "123")
DEPARTMENTS = ("SOCIAL_SECURITY", "TAX")


def unavailable(what: str, exc: BaseException) -> NoReturn:
    message = f"{what} is not reachable: {exc}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


# --- databases -------------------------------------------------------------------------


@contextmanager
def fresh_postgresql_database() -> Iterator[str]:
    """A new, empty database for one test, dropped afterwards."""
    base = make_url(os.environ.get("GOVHUB_TEST_DATABASE_URL", DEFAULT_DATABASE_URL))
    name = f"govhub_t_{uuid.uuid4().hex[:12]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        unavailable("PostgreSQL", exc)
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        _drop(admin, name)


def _drop(admin: str, name: str, tries: int = 10) -> None:
    """Drop a test database; an autovacuum worker (another role's backend, which FORCE may
    not end without pg_signal_backend) can hold it for a moment."""
    for attempt in range(tries):
        try:
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse):
            if attempt == tries - 1:
                raise
            time.sleep(0.5)


def amqp_url() -> str:
    url = os.environ.get("GOVHUB_TEST_AMQP_URL", DEFAULT_AMQP_URL)
    try:
        with kombu_any.Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:
        unavailable("RabbitMQ", exc)
    broker_used(url)  # the session's queues are swept from it at the end
    return url


class FakeClock:
    """The store's clock, moved by hand so leases and retries need no sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2024, 5, 20, 9, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += timedelta(seconds=seconds)


# --- messages ----------------------------------------------------------------------------


def _party_b_number() -> str:
    root = etree.fromstring(CANONICAL_MARRIAGE.read_bytes())
    number = root.findtext(f"{{{CANONICAL_NS}}}partyB/{{{CANONICAL_NS}}}identityNumber")
    assert number is not None
    return number


PARTY_B_NUMBER = _party_b_number()  # the spouse in every canonical_xml() record


def canonical_xml(identity_number: str = IDENTITY_NUMBER) -> bytes:
    """A valid canonical MarriageRegistered (the shipped example) with ``identity_number`` as
    party A, so the real mappings translate it."""
    root = etree.fromstring(CANONICAL_MARRIAGE.read_bytes())
    party_a = root.find(f"{{{CANONICAL_NS}}}partyA/{{{CANONICAL_NS}}}identityNumber")
    assert party_a is not None
    party_a.text = identity_number
    return etree.tostring(root, encoding="UTF-8")


def new_message(key: str | None = None, *, message_id: str | None = None) -> NewMessage:
    return NewMessage(
        message_id=message_id or str(uuid.uuid4()),
        message_type="MarriageRegistered",
        sender="MARRIAGE_REGISTRY",
        correlation_id="case-1",
        idempotency_key=key or uuid.uuid4().hex,
        purpose="marriage registration",
        sent_at=datetime(2024, 5, 20, 8, 59, tzinfo=UTC),
        schema_version="1.0",
        original=b"<JieHunDengJi/>",
        original_content_type="application/soap+xml",
        canonical=canonical_xml(),
        inbound_mapping="MARRIAGE_REGISTRY/inbound/MarriageRegistered@1",
    )


def accepted_delivery_ids(
    store: Store, messages: int = 1, receivers: Sequence[str] = DEPARTMENTS
) -> list[int]:
    """The delivery ids of ``messages`` new messages stored for ``receivers``, in order."""
    ids = []
    for _ in range(messages):
        receipt = store.save_accepted(new_message(), receivers, lease_seconds=30)
        ids += [d.delivery_id for d in receipt.deliveries]
    return ids


# --- the real mapping engine, with a second version to tell versions apart ----------------

TAX_MARRIAGE = "TAX/outbound/MarriageRegistered"


def real_mappings() -> MappingRegistry:
    """The mappings the hub ships, compiled by the real engine."""
    return MappingRegistry()


def tax_marriage_v2(registry: MappingRegistry) -> MappingRegistry:
    """``registry`` with TAX/outbound/MarriageRegistered@2 installed and @1 kept for replay.
    Version 2 swaps the parties: partyB is sent as the taxpayer, so which version mapped a
    delivery shows in the document the department receives."""
    v1 = registry.get("TAX", "outbound", "MarriageRegistered")
    text = (MAPPINGS_ROOT / "TAX" / "outbound" / "MarriageRegistered.toml").read_text("utf-8")
    text = text.replace("version = 1", "version = 2")
    text = text.replace("c:partyA/", "c:PARTY/").replace("c:partyB/", "c:partyA/")
    text = text.replace("c:PARTY/", "c:partyB/")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "MarriageRegistered.toml")
        path.write_text(text, "utf-8")
        v2 = load_mapping(path)
    updated = registry.with_mappings([v2])
    updated.archive = lambda name: v1 if name == v1.name else None
    return updated


class ExplodingMappings:
    """The real mappings, but translating raises ``error``: a bug in the engine, injected."""

    def __init__(self, error: Exception) -> None:
        self.registry, self.error = real_mappings(), error

    def get(self, department: str, direction: str, message_type: str) -> Mapping:
        mapping = self.registry.get(department, direction, message_type)
        return cast(Mapping, _Exploding(mapping, self.error))

    def named(self, name: str) -> Mapping | None:
        return self.registry.named(name)


@dataclass
class _Exploding:
    mapping: Mapping
    error: Exception

    @property
    def name(self) -> str:
        return self.mapping.name

    @property
    def target_encoding(self) -> str:
        return self.mapping.target_encoding

    def translate(self, canonical: etree._Element) -> Any:
        raise self.error


# --- departments and adapters (the departments' servers are faked with `responses`) -------


def departments() -> DepartmentDirectory:
    return DepartmentDirectory(
        {
            code: DepartmentConfig(
                code=code, name=code, adapter="test-post", endpoint=f"http://{code.lower()}.test"
            )
            for code in DEPARTMENTS
        }
    )


class PostAdapter(Adapter):
    """POSTs the mapped document (JSON or XML, as the mapping made it) with the idempotency
    key, the way a REST department takes it."""

    name = "test-post"

    def deliver(self, delivery: OutboundDelivery) -> DeliveryResult:
        is_json = isinstance(delivery.document, dict | list)
        content_type = "application/json" if is_json else "application/xml"
        try:
            response = requests.post(
                f"{self.department.endpoint}/deliveries",
                data=payload_bytes(delivery.document, delivery.encoding),
                headers={
                    "Idempotency-Key": delivery.idempotency_key,
                    "Content-Type": f"{content_type}; charset={delivery.encoding}",
                },
                timeout=self.department.timeout_seconds,
            )
        except requests.RequestException as exc:
            raise RetryableDeliveryError(f"{self.department.code} is down: {exc}") from exc
        if response.status_code == 409:
            return DeliveryResult("duplicate", response_excerpt=response.text)
        if response.status_code >= 500:
            raise RetryableDeliveryError(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise PermanentDeliveryError(f"HTTP {response.status_code}: {response.text}")
        return DeliveryResult("accepted", response_excerpt=response.text)


class GatedAdapter(Adapter):
    """Records deliveries; a department in ``closed`` waits at its gate (a hung server)."""

    name = "test-gated"
    calls: list[OutboundDelivery]
    gate: threading.Event

    def deliver(self, delivery: OutboundDelivery) -> DeliveryResult:
        if not self.gate.wait(30):
            raise RetryableDeliveryError("gate never opened")
        self.calls.append(delivery)
        return DeliveryResult("accepted")


def gated_adapters(closed: set[str]) -> tuple[dict[str, GatedAdapter], Any]:
    made: dict[str, GatedAdapter] = {}

    def adapter_for(config: DepartmentConfig) -> Adapter:
        adapter = GatedAdapter(config)
        adapter.calls, adapter.gate = [], threading.Event()
        if config.code not in closed:
            adapter.gate.set()
        made[config.code] = adapter
        return adapter

    return made, adapter_for


def no_adapter(config: DepartmentConfig) -> Adapter:
    raise ConfigurationError(f"no adapter for {config.code} in this test")


# --- bus helpers ---------------------------------------------------------------------------


def drain(url: str, department: str, prefix: str, count: int) -> list[DeliveryTask]:
    """Consume ``count`` bus messages from a department's queue (waits up to 20 s)."""
    got: list[DeliveryTask] = []
    stop = threading.Event()

    def collect(task: DeliveryTask) -> None:
        got.append(task)
        if len(got) >= count:
            stop.set()

    consumer = QueueConsumer(url, department, collect, queue_prefix=prefix, poll_seconds=0.1)
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    stop.wait(20)
    stop.set()
    thread.join(5)
    return got


def wait_for(predicate: Any, seconds: float = 20.0) -> bool:
    """Poll until ``predicate()`` is true; a deadline, not a timing assertion."""
    return bool(polling.wait_for(predicate, seconds, interval=0.02))
