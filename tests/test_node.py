"""The exchange node (issue 13): ``govhub node run`` as a subprocess against a running hub
over real SOAP, a department on a mailbox; killed with SIGKILL and restarted it loses
nothing and hands nothing over twice."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from click.testing import CliRunner
from hubstack import HubStack, running_hub
from test_mailboxes import KEYS, legs, mailbox_departments, secrets, submitted

from hub.cli import main
from hub.identity import make_number
from hub.node.hub_client import message_id_for
from hub.node.outbox import OutboxFile
from hub.polling import wait_for
from hub.security.credentials import IssuedSecret
from hub.store import delivery_key

pytestmark = pytest.mark.slow
__all__ = ["secrets"]  # the mailbox tests' fixture: credentials for each department
LEASE_SECONDS = 2  # so a message handed out to a killed node comes back soon


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    folder = tmp_path_factory.mktemp("node-hub")
    settings = {
        "encryption_keys": KEYS,
        "departments_file": mailbox_departments(folder),
        "mailbox_wait_slots": 4,
        "mailbox_lease_seconds": LEASE_SECONDS,
    }
    with running_hub(folder, **settings) as running:
        yield running


class Site:
    """A department's machine: the node's folders, and its system taking what arrives."""

    def __init__(self, root: Path, stack: HubStack, secret: str) -> None:
        self.root = root
        self.stack = stack
        self.inbox, self.outbox, self.journal = root / "inbox", root / "outbox", root / "journal"
        self.taken = root / "taken"
        for folder in (self.inbox, self.outbox, self.taken):
            folder.mkdir(parents=True)
        self.secret_file = root / "secret"
        self.secret_file.write_text(secret + "\n", encoding="utf-8")
        self.arrivals: Counter[str] = Counter()

    def command(self, hub: str, inbox: list[str]) -> list[str]:
        return [
            sys.executable, "-m", "hub", "node", "run", "--hub", hub,
            "--department", "TAX", "--secret-file", str(self.secret_file),
            "--journal", str(self.journal), *inbox,
            "--outbox-dir", str(self.outbox), "--wait", "1",
        ]  # fmt: skip

    def start(
        self, hub: str = "", inbox_url: str = "", more: tuple[str, ...] = ()
    ) -> subprocess.Popen[bytes]:
        """The node as the department runs it: into the inbox folder, or POSTs to a URL."""
        inbox = ["--inbox-url", inbox_url] if inbox_url else ["--inbox-dir", str(self.inbox)]
        command = [*self.command(hub or self.stack.server.url, inbox), *more]
        return subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ
        )

    def take_arrivals(self) -> None:
        """The department's system: takes each finished file away (so a second hand-over of
        the same message would show as a second arrival, not an overwrite)."""
        for path in self.inbox.iterdir():
            if path.name.startswith("."):
                continue
            json.loads(path.read_bytes())  # a whole document, never half of one
            self.arrivals[path.name] += 1
            shutil.move(path, self.taken / f"{path.name}.{self.arrivals[path.name]}")

    def drop(self, name: str, detail: str) -> OutboxFile:
        """What the system writes into the outbox: an address change, then renamed."""
        content = address_change(detail)
        (self.outbox / f".{name}").write_bytes(content)
        (self.outbox / f".{name}").rename(self.outbox / name)
        return OutboxFile(self.outbox / name, content)


# What a local HTTP server answers: (method, path, headers, body) -> (status, headers, body).
Answer = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]


@contextmanager
def local_http(answer: Answer) -> Iterator[str]:
    """A real HTTP server on a free port, answering with ``answer``; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, headers, content = answer(self.command, self.path, dict(self.headers), body)
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(content))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


# What the system was POSTed for the message under test: (status answered, headers, body).
Posts = list[tuple[int, dict[str, str], bytes]]


def system_taking(key: str, posts: Posts, answer: Callable[[int], tuple[int, bytes]]) -> Answer:
    """The department's system behind a local URL: answers the n-th POST of the message with
    ``answer(n)``, and takes any other message (mail for TAX left by other tests) at once."""

    def system(method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        if headers["Idempotency-Key"] != key:
            return 204, {}, b""
        status, content = answer(len(posts))
        posts.append((status, headers, body))
        return status, {"Content-Type": "text/plain"}, content

    return system


def waiting_for_tax(
    stack: HubStack, secrets: dict[str, IssuedSecret], tmp_path: Path
) -> tuple[Site, str, str]:
    """TAX's site, and a marriage waiting in its mailbox: (site, message id, its key)."""
    message_id = submitted(stack, secrets)
    return Site(tmp_path, stack, secrets["TAX"].secret), message_id, delivery_key(message_id, "TAX")


def address_change(detail: str) -> bytes:
    number = make_number("11010519900307", "013")
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<c:AddressChanged xmlns:c="urn:govhub:canonical:1">
  <c:person><c:identityNumber>{number}</c:identityNumber><c:name>张伟</c:name></c:person>
  <c:newAddress><c:divisionCode>110108</c:divisionCode><c:detail>{detail}</c:detail>
    <c:postalCode>100080</c:postalCode></c:newAddress>
  <c:effectiveFrom>2026-06-01</c:effectiveFrom>
  <c:recordedAt>2026-05-28T01:15:30Z</c:recordedAt>
</c:AddressChanged>""".encode()


def address_changes_from_tax(stack: HubStack) -> Counter[str]:
    """Messages the hub holds from TAX, by idempotency key."""
    with stack.runtime.store.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT idempotency_key FROM messages WHERE sender = 'TAX'")
        ).all()
    return Counter(str(row[0]) for row in rows)


def node_status(site: Site) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["node", "status", "--journal", str(site.journal), "--json"])
    assert result.exit_code == 0, result.output
    answer: dict[str, Any] = json.loads(result.output)
    return answer


def stop(node: subprocess.Popen[bytes]) -> None:
    node.terminate()
    node.wait(timeout=30)


def test_the_node_hands_its_mailbox_to_a_folder_and_sends_its_outbox_once(
    stack: HubStack, secrets: dict[str, IssuedSecret], tmp_path: Path
) -> None:
    site = Site(tmp_path, stack, secrets["TAX"].secret)
    message_id = submitted(stack, secrets)
    sent = site.drop("change-1.xml", "中关村大街27号")
    (site.outbox / "broken.xml").write_bytes(address_change("x").replace(b"110108", b"11"))
    number = make_number("11010519900307", "013").encode()
    wrong = number[:-1] + (b"0" if number[-1:] != b"0" else b"1")  # its check digit off
    (site.outbox / "wrong-id.xml").write_bytes(address_change("y").replace(number, wrong))
    node = site.start()
    try:
        assert wait_for(lambda: legs(stack, message_id)["TAX"] == "delivered", 30)
        assert wait_for(lambda: (site.outbox / "sent" / "change-1.xml").exists(), 30)
        assert wait_for(lambda: (site.outbox / "refused" / "broken.xml").exists(), 30)
        assert wait_for(lambda: (site.outbox / "refused" / "wrong-id.xml").exists(), 30)
    finally:
        stop(node)

    handed = site.inbox / f"{delivery_key(message_id, 'TAX')}.json"
    assert json.loads(handed.read_bytes())["eventType"] == "MARRIAGE"  # TAX's own format
    assert not [p for p in site.inbox.iterdir() if p.name.startswith(".")]  # no temporary left
    assert address_changes_from_tax(stack) == {sent.idempotency_key: 1}
    status = node_status(site)
    assert status["inbox"]["acknowledged"] == 1 and status["inbox"]["handedNotAcknowledged"] == 0
    assert (status["outbox"]["sent"], status["outbox"]["waiting"]) == (1, 0)
    reason = (site.outbox / "refused" / "broken.xml.reason.txt").read_text(encoding="utf-8")
    assert reason.startswith("Client.SchemaInvalid") and "divisionCode" in reason
    wrong_reason = (site.outbox / "refused" / "wrong-id.xml.reason.txt").read_text("utf-8")
    assert "InvalidIdentityNumber" in wrong_reason and wrong.decode() not in wrong_reason
    assert status["outbox"]["refused"] == 2
    recent = {r["file"]: r for r in status["outbox"]["recent"]}
    assert recent["change-1.xml"]["messageId"] == message_id_for(sent.idempotency_key)
    assert status["lastReachedHub"] is not None and status["lastError"] is None


def test_killed_again_and_again_the_node_loses_nothing_and_hands_nothing_over_twice(
    stack: HubStack, secrets: dict[str, IssuedSecret], tmp_path: Path
) -> None:
    site = Site(tmp_path, stack, secrets["TAX"].secret)
    message_ids = [submitted(stack, secrets) for _ in range(6)]
    files = [site.drop(f"change-{n:02}.xml", f"中关村大街{n}号") for n in range(4)]
    taking = threading.Event()

    def system() -> None:
        while not taking.is_set():
            site.take_arrivals()
            time.sleep(0.05)

    consumer = threading.Thread(target=system, daemon=True)
    consumer.start()
    chance = random.Random(13)
    try:
        for round_ in range(6):
            node = site.start()
            # While it runs (or starts), mail for TAX keeps coming and its system keeps writing.
            message_ids += [submitted(stack, secrets) for _ in range(3)]
            files += [
                site.drop(f"round-{round_}-{n}.xml", f"朝阳路{round_}{n}号") for n in range(2)
            ]
            time.sleep(chance.uniform(1.0, 5.0))  # mostly after its ~3 s start
            node.send_signal(signal.SIGKILL)
            node.wait(timeout=10)
        node = site.start()
        try:
            assert wait_for(
                lambda: all(legs(stack, m)["TAX"] == "delivered" for m in message_ids), 90
            ), site.journal
            assert wait_for(lambda: not [p for p in site.outbox.iterdir() if p.is_file()], 30)
            assert wait_for(lambda: sum(site.arrivals.values()) >= len(message_ids), 10)
        finally:
            stop(node)
    finally:
        taking.set()
        consumer.join(timeout=5)
    site.take_arrivals()

    expected = {f"{delivery_key(m, 'TAX')}.json" for m in message_ids}
    assert set(site.arrivals) >= expected  # (with mail for TAX other tests left, if any)
    assert set(site.arrivals.values()) == {1}  # not one message handed over twice
    at_hub = address_changes_from_tax(stack)
    assert [at_hub[f.idempotency_key] for f in files] == [1] * len(files)
    assert sorted(p.name for p in (site.outbox / "sent").iterdir()) == sorted(
        f.path.name for f in files
    )


def test_a_node_the_hub_refuses_says_so_in_one_line_and_acknowledges_nothing(
    stack: HubStack, secrets: dict[str, IssuedSecret], tmp_path: Path
) -> None:
    site = Site(tmp_path, stack, "not-the-secret")
    message_id = submitted(stack, secrets)
    node = site.start()
    _, errors = node.communicate(timeout=60)

    assert node.returncode == 2
    lines = errors.decode().strip().splitlines()
    assert len(lines) == 1 and "Client.NotAuthenticated" in lines[0] and "TAX" in lines[0]
    assert legs(stack, message_id)["TAX"] == "waiting"
    assert list(site.inbox.iterdir()) == []


def test_a_node_posting_to_a_local_url_acknowledges_only_what_the_system_took(
    stack: HubStack, secrets: dict[str, IssuedSecret], tmp_path: Path
) -> None:
    site, message_id, key = waiting_for_tax(stack, secrets, tmp_path)
    posts: Posts = []
    # Busy twice, then takes it.
    system = system_taking(key, posts, lambda n: (503, b"") if n < 2 else (204, b""))

    with local_http(system) as url:
        node = site.start(inbox_url=f"{url}/incoming")
        try:
            assert wait_for(lambda: len(posts) >= 1, 30)
            assert legs(stack, message_id)["TAX"] == "waiting"  # refused: not acknowledged
            assert wait_for(lambda: legs(stack, message_id)["TAX"] == "delivered", 30)
        finally:
            stop(node)

    assert [status for status, _, _ in posts] == [503, 503, 204]  # back after each lease
    _, headers, body = posts[-1]
    assert headers["Idempotency-Key"] == key and headers["X-Govhub-Message-Id"] == message_id
    assert json.loads(body)["eventType"] == "MARRIAGE"


def test_the_outbox_waits_while_the_hub_is_down_and_goes_once_it_is_back(
    stack: HubStack, secrets: dict[str, IssuedSecret], tmp_path: Path
) -> None:
    site = Site(tmp_path, stack, secrets["TAX"].secret)
    sent = site.drop("change-down.xml", "复兴路1号")
    hub_up = threading.Event()

    def front(method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        """The hub's address: down (503) until ``hub_up``, then the hub itself."""
        if not hub_up.is_set():
            return 503, {"Content-Type": "text/plain"}, b"down for maintenance"
        passed = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
        answer = requests.request(
            method, stack.server.url + path, data=body, headers=passed, timeout=60
        )
        kept = {"Content-Type": answer.headers.get("Content-Type", "text/xml")}
        return answer.status_code, kept, answer.content

    with local_http(front) as hub:
        node = site.start(hub=hub)
        try:
            assert wait_for(lambda: (site.journal / "node.db").exists(), 30)
            assert wait_for(lambda: node_status(site)["lastError"] is not None, 30)
            down = node_status(site)
            hub_up.set()
            assert wait_for(lambda: (site.outbox / "sent" / "change-down.xml").exists(), 30)
        finally:
            stop(node)

    assert (down["lastReachedHub"], down["outbox"]["waiting"], down["outbox"]["sent"]) == (
        None,
        1,
        0,
    )
    assert "cannot be reached: 503" in down["lastError"]
    assert address_changes_from_tax(stack)[sent.idempotency_key] == 1
    assert node_status(site)["lastReachedHub"] is not None


def test_node_commands_explain_what_is_missing(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s", encoding="utf-8")
    run = ["node", "run", "--hub", "http://127.0.0.1:9", "--department", "TAX"]
    run += ["--secret-file", str(secret), "--journal", str(tmp_path / "j")]
    run += ["--outbox-dir", str(tmp_path / "out")]

    neither = CliRunner().invoke(main, run)
    status = CliRunner().invoke(main, ["node", "status", "--journal", str(tmp_path / "none")])

    assert neither.exit_code == 2 and "exactly one of --inbox-dir and --inbox-url" in neither.output
    assert status.exit_code == 1 and "no node journal in" in status.output


def test_a_message_the_system_refuses_for_good_is_given_back_and_its_leg_fails(
    stack: HubStack, secrets: dict[str, IssuedSecret], tmp_path: Path
) -> None:
    site, message_id, key = waiting_for_tax(stack, secrets, tmp_path)
    posts: Posts = []
    system = system_taking(key, posts, lambda _: (422, b"taxpayer unknown in this county"))

    with local_http(system) as url:
        node = site.start(inbox_url=f"{url}/incoming")
        try:
            assert wait_for(lambda: legs(stack, message_id)["TAX"] == "failed", 30)
            time.sleep(LEASE_SECONDS + 1)  # had it not been given back, it would come again
        finally:
            stop(node)

    assert [status for status, _, _ in posts] == [422]  # refused once, never handed again
    status = stack.runtime.store.message_status(message_id)
    leg = next(d for d in status.deliveries if d.department == "TAX")
    assert leg.last_error is not None
    assert leg.last_error.startswith("Nack: ") and "HTTP 422: taxpayer unknown" in leg.last_error
    assert node_status(site)["inbox"]["refusedBySystem"] == 1


def test_a_document_posted_to_the_node_is_sent_once_under_the_key_it_answers(
    stack: HubStack, secrets: dict[str, IssuedSecret], tmp_path: Path
) -> None:
    site = Site(tmp_path, stack, secrets["TAX"].secret)
    node = site.start(more=("--outbox-port", "0"))
    try:
        url = wait_for(
            lambda: (site.journal / "node.db").exists() and node_status(site)["outboxUrl"], 30
        )
        assert url and url.startswith("http://127.0.0.1:"), url
        document = address_change("学院路30号")
        first = requests.post(
            url, data=document, headers={"Idempotency-Key": "move-77"}, timeout=10
        )
        again = requests.post(
            url, data=document, headers={"Idempotency-Key": "move-77"}, timeout=10
        )
        assert first.status_code == 202, first.text
        key = first.json()["idempotencyKey"]
        assert again.json()["idempotencyKey"] == key  # the same document is the same key
        assert wait_for(lambda: address_changes_from_tax(stack)[key] == 1, 30)
        refused = requests.post(url, data=b"not a record", timeout=10)
        assert refused.status_code == 415 and "canonical XML" in refused.json()["error"]
    finally:
        stop(node)
    assert address_changes_from_tax(stack)[key] == 1  # sent once
    assert node_status(site)["outbox"]["waiting"] == 0
