"""A test kit for adapters: run ``check_adapter`` against your own adapter to prove it keeps
the contract the hub relies on (see docs/adapters.md).

    from adapters.testkit import check_adapter

    def test_my_adapter_keeps_the_contract():
        check_adapter(MyAdapter, my_department_config, sample_document)

Checks, in order (each raises AdapterContractError, an AssertionError, saying what broke):

    well formed          a subclass of adapters.base.Adapter with a name
    delivers             (live) deliver() returns a DeliveryResult, "accepted" or "duplicate"
    reports duplicates   (live) the same idempotency key again is answered "duplicate"
    down is retryable    (http) nothing listening -> RetryableDeliveryError
    HTTP 503 retryable   (http) a department answering 503 -> RetryableDeliveryError
    HTTP 400 permanent   (http) a department answering 400 -> PermanentDeliveryError
    close is repeatable  close() may be called twice

"live" checks talk to ``config.endpoint`` (your department or its mock, running); "http"
checks point the adapter at a local fake server, so they suit adapters that speak HTTP.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from urllib.parse import urlsplit

from adapters.base import Adapter, DeliveryResult, NativeDocument, OutboundDelivery
from adapters.fakedepartment import FakeDepartment, FakeResponse
from hub.departments import DepartmentConfig
from hub.errors import DeliveryError, PermanentDeliveryError, RetryableDeliveryError


class AdapterContractError(AssertionError):
    """An adapter does not keep the contract; the message says which part."""


Check = Callable[["_Subject"], None]


class _Subject:
    """What the checks share: the class, its config and a way to build deliveries."""

    def __init__(
        self, cls: type[Adapter], config: DepartmentConfig, document: NativeDocument, kind: str
    ) -> None:
        self.cls, self.config, self.document, self.message_type = cls, config, document, kind

    def delivery(self, key: str | None = None) -> OutboundDelivery:
        message_id = str(uuid.uuid4())
        return OutboundDelivery(
            self.config.code,
            self.message_type,
            message_id,
            idempotency_key=key or f"testkit-{message_id}",
            document=self.document,
            encoding=self.config.encoding,
        )

    def adapter(self, endpoint: str | None = None) -> Adapter:
        config = replace(self.config, endpoint=endpoint) if endpoint else self.config
        return self.cls(config)


def check_adapter(
    adapter_class: type[Adapter],
    config: DepartmentConfig,
    sample_document: NativeDocument,
    *,
    message_type: str | None = None,
    live: bool = True,
    http: bool = True,
) -> list[str]:
    """Run the contract checks; return the names of those that ran (all passed)."""
    kind = message_type or next(iter(config.operations), "")
    if not kind:
        raise AdapterContractError("give a message_type or configure at least one operation")
    subject = _Subject(adapter_class, config, sample_document, kind)
    checks: list[tuple[str, Check]] = [("well formed", _well_formed)]
    if live:
        checks += [("delivers", _delivers), ("reports duplicates", _reports_duplicates)]
    if http:
        checks += [
            ("down is retryable", _down_is_retryable),
            ("HTTP 503 retryable", _answer_is(503, RetryableDeliveryError)),
            ("HTTP 400 permanent", _answer_is(400, PermanentDeliveryError)),
        ]
    checks.append(("close is repeatable", _close_is_repeatable))
    for _, check in checks:
        check(subject)
    return [name for name, _ in checks]


def _well_formed(subject: _Subject) -> None:
    if not (isinstance(subject.cls, type) and issubclass(subject.cls, Adapter)):
        raise AdapterContractError(f"{subject.cls!r} is not a subclass of adapters.base.Adapter")
    if not subject.cls.name:
        raise AdapterContractError(f"{subject.cls.__name__} has no name (set the class attribute)")


def _delivers(subject: _Subject) -> None:
    with closing(subject.adapter()) as adapter:
        result = adapter.deliver(subject.delivery())
    if not isinstance(result, DeliveryResult) or result.status not in ("accepted", "duplicate"):
        raise AdapterContractError(f"deliver() returned {result!r}, not a DeliveryResult")


def _reports_duplicates(subject: _Subject) -> None:
    delivery = subject.delivery()
    with closing(subject.adapter()) as adapter:
        adapter.deliver(delivery)
        again = adapter.deliver(replace(delivery, message_id=str(uuid.uuid4())))
    if again.status != "duplicate":
        raise AdapterContractError(
            f"delivering idempotency key {delivery.idempotency_key} twice gave {again.status!r}"
            " the second time, expected 'duplicate'"
        )


def _down_is_retryable(subject: _Subject) -> None:
    _expect(subject, _url_with_port(subject.config.endpoint, _free_port()), RetryableDeliveryError)


def _answer_is(status: int, expected: type[DeliveryError]) -> Check:
    def check(subject: _Subject) -> None:
        answer = FakeResponse(status, f"status {status} from the testkit".encode())
        with FakeDepartment(lambda request: answer) as department:
            endpoint = department.url + urlsplit(subject.config.endpoint).path
            _expect(subject, endpoint, expected)

    return check


def _expect(subject: _Subject, endpoint: str, expected: type[DeliveryError]) -> None:
    adapter = subject.adapter(endpoint)
    try:
        result = adapter.deliver(subject.delivery())
    except expected:
        return
    except Exception as exc:
        raise AdapterContractError(
            f"at {endpoint} deliver() raised {type(exc).__name__}: {exc}; "
            f"expected {expected.__name__}"
        ) from exc
    finally:
        adapter.close()
    raise AdapterContractError(
        f"at {endpoint} deliver() returned {result!r}; expected {expected.__name__}"
    )


def _close_is_repeatable(subject: _Subject) -> None:
    adapter = subject.adapter()
    adapter.close()
    adapter.close()


def _free_port() -> int:
    # Bound then released: nothing listens there for the check that follows.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _url_with_port(endpoint: str, port: int) -> str:
    parts = urlsplit(endpoint)
    return parts._replace(netloc=f"127.0.0.1:{port}").geturl()
