"""The exchange node's own cost: messages/s it hands into a folder and acknowledges, against
a bare Receive + Ack loop draining the same mailbox of the same hub, same run (issue 13).

The hub (embedded, with workers) parks 2N marriages in TAX's mailbox first; then the bare
loop (zeep, one Ack for each Receive's messages, as the node does) takes N, and a Node
(hub/node, in this process) takes the other N with its journal (SQLite, synchronous=FULL)
and its folder hand-over (write, fsync, rename, fsync the folder). The ratio is what the
journaling and the safe hand-over cost; the hub's side is the same for both.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import zeep
from zeep.wsse.username import UsernameToken

from bench.load import closed_loop
from bench.mailbox import _tax_credential
from bench.messages import submit
from bench.processes import Fleet
from bench.setups import embedded
from hub.config import Settings
from hub.node.handover import FolderHandover
from hub.node.hub_client import HubClient
from hub.node.journal import Journal
from hub.node.node import Node, NodeSettings
from hub.node.outbox import Outbox
from hub.polling import wait_for
from hub.resources import DEFAULTS_ROOT
from hub.security.encryption import new_key_text
from hub.store import Store

MESSAGES = 400
QUICK_MESSAGES = 60


def run(options: Any) -> dict[str, Any]:
    count = QUICK_MESSAGES if options.quick else MESSAGES
    keys = new_key_text("bench")
    mailboxes = str(_mailbox_departments(options.work))
    with embedded(options.work / "node") as base, Fleet(options.work / "logs" / "node") as fleet:
        env = {**base, "GOVHUB_ENCRYPTION_KEYS": keys, "GOVHUB_DEPARTMENTS_FILE": mailboxes}
        _, hub_url = fleet.hub("node-hub", env)
        credential = _tax_credential(env, keys)
        _park(hub_url, env, 2 * count)
        bare = _drain_bare(hub_url, credential, count)
        node = _drain_node(hub_url, credential, count)
    return {
        "name": "node",
        "what": f"{count} mailbox messages into a folder by govhub node vs a bare Receive+Ack loop",
        "goal": "ratio close to 1 (the journal and the safe hand-over cost little)",
        "skipped": None,
        "rows": [
            {"drain": "bare Receive + Ack", "per_second": round(bare, 1), "ratio": 1.0},
            {"drain": "govhub node (journal, folder)", "per_second": round(node, 1),
             "ratio": round(node / bare, 3)},
        ],
    }  # fmt: skip


def _park(hub_url: str, env: dict[str, str], count: int) -> None:
    bodies = [submit(2_000, n) for n in range(count)]
    closed_loop(hub_url, bodies, concurrency=8, seconds=300)
    store = Store(Settings.from_env(env).effective_database_url)
    waiting = sa.text(
        "SELECT count(*) FROM deliveries WHERE department = 'TAX' AND state = 'waiting'"
    )
    try:

        def parked() -> bool:
            with store.engine.connect() as connection:
                return int(connection.execute(waiting).scalar_one()) >= count

        if not wait_for(parked, 300):
            raise RuntimeError(f"the hub did not park {count} messages for TAX")
    finally:
        store.dispose()


def _drain_bare(hub_url: str, credential: tuple[str, str], count: int) -> float:
    token = UsernameToken(*credential, use_digest=True)
    service = zeep.Client(f"{hub_url}/soap?wsdl", wsse=token).service
    taken, started = 0, time.perf_counter()
    while taken < count:
        received = service.Receive(maxMessages=min(10, count - taken), waitSeconds=1) or []
        if received:
            service.Ack(leaseToken=[message.leaseToken for message in received])
        taken += len(received)
    return count / (time.perf_counter() - started)


def _drain_node(hub_url: str, credential: tuple[str, str], count: int) -> float:
    with tempfile.TemporaryDirectory(prefix="govhub-node-bench-") as folder:
        root = Path(folder)
        journal = Journal(root / "journal")
        client = HubClient(hub_url, "TAX", *credential)
        node = Node(
            client, journal, FolderHandover(root / "inbox"), Outbox(root / "outbox"),
            NodeSettings(purpose="bench", wait_seconds=1),
        )  # fmt: skip
        client.connect()  # the WSDL read, outside the timing, as for the bare loop
        started = time.perf_counter()
        try:
            while journal.counts("inbox").get("acked", 0) < count:
                node.cycle()
            return count / (time.perf_counter() - started)
        finally:
            journal.close()


def _mailbox_departments(work: Path) -> Path:
    """TAX and SOCIAL_SECURITY on mailboxes: no push leg for workers to retry meanwhile."""
    text = (DEFAULTS_ROOT / "departments.toml").read_text(encoding="utf-8")
    for code in ("[TAX]", "[SOCIAL_SECURITY]"):
        start = text.index(code)
        end = text.find("\n[", start + 1)
        end = len(text) if end < 0 else end
        section = text[start:end].replace('adapter = "rest"', 'adapter = "mailbox"')
        section = section.replace('adapter = "soap"', 'adapter = "mailbox"')
        text = text[:start] + section + text[end:]
    path = work / "node-departments.toml"
    path.write_text(text, encoding="utf-8")
    return path
