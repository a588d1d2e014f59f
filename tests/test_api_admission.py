"""Admission control by bytes (hub/api/admission.py): the budget itself, then through a
running hub whose HTTP front has a small budget. No timing is asserted: a waiting request is
seen waiting through the budget's own count of waiters."""

from __future__ import annotations

import base64
import http.client
import io
import os
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hubstack import HUSBAND_ID, WIFE_ID, HubStack, running_hub

from hub.api.admission import ByteBudget, Permit, ReleasingAnswer, byte_budget
from hub.config import Settings
from hub.errors import Busy, NotFound
from hub.polling import wait_for
from hub.runtime import HubRuntime
from hub.webserver import BackgroundServer

LARGE = 200_000  # bytes of one large Submit: over the unmetered size, under the test budget
BUDGET = 300_000  # one large Submit fits, two do not
WAIT = 30.0  # how long a budget test's request may wait; never reached when the code is right
_WAITERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="admission-test")


def test_a_request_waits_while_the_budget_is_taken_and_proceeds_when_it_is_released() -> None:
    budget = ByteBudget(100, wait_seconds=WAIT, unmetered_bytes=0)
    first = budget.acquire(80)
    second = _acquire_in_background(budget, 50)

    assert wait_for(lambda: budget.waiting == 1, 10)
    assert not second.done()
    first.release()

    assert second.result(timeout=10).size == 50
    assert budget.in_flight == 50


def test_a_request_larger_than_the_whole_budget_waits_for_the_others_then_runs_alone() -> None:
    budget = ByteBudget(100, wait_seconds=WAIT, unmetered_bytes=0)
    small = budget.acquire(10)
    huge = _acquire_in_background(budget, 10_000)
    assert wait_for(lambda: budget.waiting == 1, 10)

    small.release()
    permit = huge.result(timeout=10)

    assert permit.size == 100
    assert budget.in_flight == 100


def test_a_request_that_cannot_get_its_bytes_in_time_is_told_the_hub_is_busy() -> None:
    budget = ByteBudget(100, wait_seconds=0.05, unmetered_bytes=0)
    budget.acquire(100)

    with pytest.raises(Busy) as refused:
        budget.acquire(1)

    assert refused.value.code == "Server.Busy"
    assert budget.waiting == 0
    assert budget.in_flight == 100


def test_requests_are_admitted_in_arrival_order_so_a_large_one_is_not_overtaken() -> None:
    budget = ByteBudget(100, wait_seconds=WAIT, unmetered_bytes=0)
    holder = budget.acquire(100)
    large = _acquire_in_background(budget, 100)
    assert wait_for(lambda: budget.waiting == 1, 10)
    small = _acquire_in_background(budget, 10)
    assert wait_for(lambda: budget.waiting == 2, 10)

    holder.release()
    large.result(timeout=10).release()

    assert small.result(timeout=10).size == 10


def test_small_requests_neither_wait_nor_count() -> None:
    budget = ByteBudget(100_000, wait_seconds=0, unmetered_bytes=64 * 1024)
    budget.acquire(100_000)

    permit = budget.acquire(2_000)

    assert permit.size == 0
    assert budget.in_flight == 100_000


def test_a_permit_is_given_back_once_however_often_it_is_released() -> None:
    budget = ByteBudget(100, wait_seconds=0, unmetered_bytes=0)
    permit = budget.acquire(60)
    budget.acquire(40)

    permit.release()
    permit.release()

    assert budget.in_flight == 40


def test_a_lazy_answer_keeps_its_bytes_until_the_server_closes_it() -> None:
    budget = ByteBudget(100, wait_seconds=0, unmetered_bytes=0)
    answer = _ClosableAnswer()
    wrapped = ReleasingAnswer(answer, budget.acquire(70))

    chunks = iter(wrapped)
    assert next(chunks) == b"one"
    assert budget.in_flight == 70

    wrapped.close()  # waitress calls close(), also after a client went away

    assert answer.closed
    assert budget.in_flight == 0


def test_an_answer_read_to_the_end_gives_its_bytes_back_and_is_closed_once() -> None:
    budget = ByteBudget(100, wait_seconds=0, unmetered_bytes=0)
    answer = _ClosableAnswer()
    wrapped = ReleasingAnswer(answer, budget.acquire(70))

    assert list(wrapped) == [b"one", b"two"]
    wrapped.close()

    assert budget.in_flight == 0
    assert answer.close_calls == 1


def test_the_settings_give_the_front_its_budget_and_zero_turns_it_off() -> None:
    budget = byte_budget(Settings(max_inflight_bytes=BUDGET, admission_wait_seconds=5))

    assert budget is not None
    assert (budget.capacity, budget.wait_seconds) == (BUDGET, 5)
    assert byte_budget(Settings(max_inflight_bytes=0)) is None
    env = {"GOVHUB_MAX_INFLIGHT_BYTES": "123456", "GOVHUB_ADMISSION_WAIT_SECONDS": "2.5"}
    settings = Settings.from_env(env)
    assert (settings.max_inflight_bytes, settings.admission_wait_seconds) == (123456, 2.5)


def test_concurrent_large_submits_all_succeed_though_together_they_exceed_the_budget(
    tmp_path: Path,
) -> None:
    bodies = [submit(LARGE, n) for n in range(6)]
    with running_hub(tmp_path, max_inflight_bytes=BUDGET) as stack, _front(stack) as front:
        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(lambda body: _post(front.server, body), bodies))

        assert [status for status, _ in answers] == [200] * 6
        assert all(b"accepted" in answer for _, answer in answers)
        # given back when the server closes each answer, just after its last bytes are sent
        assert wait_for(lambda: front.budget.in_flight == 0, 10)
        for body in bodies:
            assert stack.wait_settled(_message_id(body)).state == "delivered"


def test_a_request_that_cannot_get_budget_in_time_gets_the_busy_fault_and_nothing_accepted_is_lost(
    tmp_path: Path,
) -> None:
    accepted, refused = submit(LARGE, 1), submit(LARGE, 2)
    with (
        running_hub(tmp_path, max_inflight_bytes=BUDGET, admission_wait_seconds=0.2) as stack,
        _front(stack) as front,
    ):
        assert _post(front.server, accepted)[0] == 200
        held = front.budget.acquire(BUDGET)  # a large request in flight, as far as it knows

        status, answer = _post(front.server, refused)
        held.release()

        assert status == 500
        assert b"Server.Busy" in answer
        assert stack.wait_settled(_message_id(accepted)).state == "delivered"
        with pytest.raises(NotFound):
            stack.runtime.store.message_status(_message_id(refused))
        assert _post(front.server, refused)[0] == 200  # the same request, sent again later


def test_under_a_burst_each_submit_is_either_accepted_and_delivered_or_busy_and_not_stored(
    tmp_path: Path,
) -> None:
    bodies = [submit(LARGE, n) for n in range(6)]
    with (
        running_hub(tmp_path, max_inflight_bytes=BUDGET, admission_wait_seconds=0) as stack,
        _front(stack) as front,
    ):
        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(lambda body: _post(front.server, body), bodies))

        for body, (status, answer) in zip(bodies, answers, strict=True):
            if status == 200:
                assert stack.wait_settled(_message_id(body)).state == "delivered"
            else:
                assert b"Server.Busy" in answer
                with pytest.raises(NotFound):
                    stack.runtime.store.message_status(_message_id(body))
        assert any(status == 200 for status, _ in answers)


def test_a_request_without_a_length_counts_as_the_largest_body_allowed(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, max_inflight_bytes=BUDGET, admission_wait_seconds=0)
    runtime = HubRuntime(settings)
    try:
        app = runtime.wsgi_app()
        assert app.admission is not None
        held = app.admission.acquire(LARGE)  # leaves room for a 100 kB body, not for 10 MB
        body = io.BytesIO(b"<tiny/>" * 20_000)
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/soap", "wsgi.input": body}
        statuses: list[str] = []

        answer = b"".join(app(environ, lambda status, headers: statuses.append(status)))
        held.release()
    finally:
        runtime.close()

    assert statuses == ["500 Internal Server Error"]
    assert b"Server.Busy" in answer


def test_a_native_push_that_cannot_get_budget_in_time_is_answered_503_with_the_busy_code(
    tmp_path: Path,
) -> None:
    with (
        running_hub(tmp_path, max_inflight_bytes=BUDGET, admission_wait_seconds=0.2) as stack,
        _front(stack) as front,
    ):
        held = front.budget.acquire(BUDGET)
        status, answer = _post(front.server, b"{}" + b" " * LARGE, "/native/TAX/api/v1/x")
        held.release()

    assert status == 503
    assert b'"error": "Server.Busy"' in answer


@dataclass
class _Front:
    """A second HTTP front over a running hub's runtime, so the test holds its budget."""

    budget: ByteBudget
    server: BackgroundServer


@contextmanager
def _front(stack: HubStack) -> Iterator[_Front]:
    app = stack.runtime.wsgi_app()
    assert app.admission is not None
    server = BackgroundServer(app, "127.0.0.1", 0).start()
    try:
        yield _Front(app.admission, server)
    finally:
        server.stop()


class _ClosableAnswer:
    """A lazy WSGI answer, like spyne's: two chunks and a close()."""

    def __init__(self) -> None:
        self.close_calls = 0

    @property
    def closed(self) -> bool:
        return self.close_calls > 0

    def __iter__(self) -> Iterator[bytes]:
        yield b"one"
        yield b"two"

    def close(self) -> None:
        self.close_calls += 1


def _acquire_in_background(budget: ByteBudget, size: int) -> Future[Permit]:
    return _WAITERS.submit(budget.acquire, size)


def _post(server: BackgroundServer, body: bytes, path: str = "/soap") -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=60)
    try:
        content_type = "text/xml; charset=utf-8" if path == "/soap" else "application/json"
        connection.request("POST", path, body, {"Content-Type": content_type, "SOAPAction": '""'})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def submit(size: int, serial: int) -> bytes:
    """A valid Submit of about ``size`` bytes: the padding rides in a SOAP header the hub does
    not interpret, as a scanned document would, so the whole envelope is read and parsed."""
    message_id = str(uuid.uuid4())
    record = (
        f"<c:MarriageRegistered><c:registrationNumber>J110105-{serial:08d}</c:registrationNumber>"
        "<c:registeredOn>2026-05-20</c:registeredOn>"
        "<c:registrationOffice>110105</c:registrationOffice>"
        f"<c:partyA><c:identityNumber>{HUSBAND_ID}</c:identityNumber><c:name>张伟</c:name>"
        "<c:sex>1</c:sex></c:partyA>"
        f"<c:partyB><c:identityNumber>{WIFE_ID}</c:identityNumber><c:name>王芳</c:name>"
        "<c:sex>2</c:sex></c:partyB>"
        "<c:maritalStatus>20</c:maritalStatus></c:MarriageRegistered>"
    )
    header = (
        f"<h:messageId>{message_id}</h:messageId><h:sender>MARRIAGE_REGISTRY</h:sender>"
        "<h:messageType>MarriageRegistered</h:messageType><h:schemaVersion>1.0</h:schemaVersion>"
        f"<h:idempotencyKey>{message_id}</h:idempotencyKey><h:purpose>test</h:purpose>"
        f"<h:sentAt>{datetime.now(UTC).isoformat()}</h:sentAt>"
    )
    padding = base64.b64encode(os.urandom(size * 3 // 4)).decode()
    return (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:h="urn:govhub:hub:1" xmlns:c="urn:govhub:canonical:1"><soapenv:Header>'
        f'<a:Attachment xmlns:a="urn:test:attachment">{padding}</a:Attachment>'
        "</soapenv:Header><soapenv:Body><h:Submit>"
        f"<h:header>{header}</h:header><h:message>{record}</h:message>"
        "</h:Submit></soapenv:Body></soapenv:Envelope>"
    ).encode()


def _message_id(body: bytes) -> str:
    found = re.search(rb"<h:messageId>([^<]+)</h:messageId>", body)
    assert found is not None
    return found.group(1).decode()
