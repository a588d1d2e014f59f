"""The demo's fifth department: a county tax office with no server, behind `govhub node`.

It is registered while the demo runs, as a department package written into the demo's data
directory (adapter ``mailbox``; it receives marriages in the tax bureau's JSON and may send
address changes). Its node runs in a thread with its own credentials and journal, pulls its
mailbox into a folder, and sends what its "system" drops into the outbox folder.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import uuid4

from hub.config import Settings
from hub.configuration.package import read_package
from hub.identity import make_number
from hub.node.handover import FolderHandover
from hub.node.hub_client import HubClient
from hub.node.journal import Journal
from hub.node.node import Node, NodeSettings
from hub.node.outbox import Outbox, OutboxFile
from hub.polling import wait_for
from hub.resources import MAPPINGS_ROOT
from hub.runtime import HubRuntime, configuration_admin
from hub.security.credentials import CredentialStore
from hub.security.encryption import KeyRing, new_key_text
from hub.store import MessageStatus, delivery_key
from mock_departments.people import Person
from mock_departments.runner import MockDepartments

CODE = "COUNTY_TAX"
WAIT_SECONDS = 30.0
Echo = Callable[[str], None]

_PACKAGE = f"""\
# Written by `govhub demo`: a county tax office that cannot open an inbound port. Its
# deliveries wait in its mailbox; `govhub node` fetches them and sends its outbox.
code = "{CODE}"
name = "County tax office (no server: an exchange node)"
adapter = "mailbox"
endpoint = ""
operations = {{ MarriageRegistered = "Receive" }}

[[routes]]
receives = "MarriageRegistered"

[[routes]]
sends = "AddressChanged"
"""
_MOVE = """<?xml version="1.0" encoding="UTF-8"?>
<c:AddressChanged xmlns:c="urn:govhub:canonical:1">
  <c:person><c:identityNumber>{number}</c:identityNumber><c:name>{name}</c:name></c:person>
  <c:newAddress><c:divisionCode>110108</c:divisionCode>
    <c:detail>北京市海淀区学院路30号</c:detail></c:newAddress>
  <c:effectiveFrom>2026-07-01</c:effectiveFrom>
  <c:recordedAt>{now}</c:recordedAt>
</c:AddressChanged>
"""
HUSBAND = Person("李强", make_number("11010519880412", "151"))
WIFE = Person("陈静", make_number("11010819900923", "262"))


def with_demo_keys(settings: Settings, data_dir: Path) -> Settings:
    """Credentials need the hub's encryption keys (a digest needs the secret); the demo keeps
    one of its own beside its data when none is configured."""
    if settings.encryption_keys:
        return settings
    file = data_dir / "demo-encryption.key"
    if not file.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        file.write_text(new_key_text("demo"), encoding="utf-8")
    return replace(settings, encryption_keys=file.read_text(encoding="utf-8").strip())


@dataclass
class NodeDemo:
    """The county office's folders and the thread its node runs in."""

    folder: Path
    stop: threading.Event
    thread: threading.Thread

    @property
    def inbox(self) -> Path:
        return self.folder / "inbox"

    @property
    def outbox(self) -> Path:
        return self.folder / "outbox"

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


def node_scenario(
    runtime: HubRuntime, mocks: MockDepartments, hub_url: str, data_dir: Path, echo: Echo
) -> bool:
    echo(f"\n6. A county tax office without a server ({CODE}) runs `govhub node`.")
    node = _start_node(runtime, hub_url, data_dir / "county-tax")
    try:
        number = mocks.marriage_registry.register_marriage(
            HUSBAND, WIFE, day=date(2026, 6, 18), office="110105"
        )
        pulled = _pulled(runtime, node, number)
        echo(f"   {'✓' if pulled else '✗'} marriage {number}: {pulled or 'not pulled'}")
        reached, sent = _sent(runtime, node)
        echo(f"   {'✓' if reached else '✗'} its outbox: {sent}")
        return bool(pulled) and reached
    finally:
        node.close()


def register_county_office(runtime: HubRuntime, package: Path) -> None:
    """Write the county office's package and register it, in use by this hub on return: the
    marriage the scenario registers next must find the new route (the configuration watcher
    would take it in only at its next check, which a loaded machine can delay past that)."""
    (package / "mappings" / "outbound").mkdir(parents=True, exist_ok=True)
    (package / "department.toml").write_text(_PACKAGE, encoding="utf-8")
    tax_mapping = (MAPPINGS_ROOT / "TAX" / "outbound" / "MarriageRegistered.toml").read_text(
        "utf-8"
    )
    (package / "mappings" / "outbound" / "MarriageRegistered.toml").write_text(
        tax_mapping.replace('department = "TAX"', f'department = "{CODE}"'), encoding="utf-8"
    )
    admin = configuration_admin(runtime.settings, runtime.config.loader, runtime.config.wake)
    admin.register(read_package(package), actor="demo")
    runtime.config.reload()


def _start_node(runtime: HubRuntime, hub_url: str, folder: Path) -> NodeDemo:
    register_county_office(runtime, folder / "package")
    keys = KeyRing.parse(runtime.settings.encryption_keys)
    username = f"{CODE}-node-{uuid4().hex[:6]}"  # a demo run again gets a credential of its own
    issued = CredentialStore(runtime.store.engine, keys=keys).issue(
        CODE, username=username, actor="demo"
    )
    stop = threading.Event()

    def run() -> None:  # the journal's SQLite connection belongs to this thread
        journal = Journal(folder / "journal")
        node = Node(
            HubClient(hub_url, CODE, issued.username, issued.secret),
            journal,
            FolderHandover(folder / "inbox"),
            Outbox(folder / "outbox"),
            NodeSettings(purpose="demo: a move recorded by the county", wait_seconds=1),
        )
        try:
            node.run(stop=stop.is_set)
        except Exception:  # the demo says what did not arrive; the log says why
            logging.getLogger("govhub.node").exception("the demo's node stopped")
        finally:
            journal.close()

    thread = threading.Thread(target=run, name="govhub-demo-node", daemon=True)
    thread.start()
    return NodeDemo(folder, stop, thread)


def _pulled(runtime: HubRuntime, node: NodeDemo, number: str) -> str | None:
    """Where the node put the marriage, once the hub counts it delivered."""
    message_id = wait_for(
        lambda: runtime.store.find_message_id("MARRIAGE_REGISTRY", number), WAIT_SECONDS
    )
    if message_id is None:
        return None
    delivered = wait_for(lambda: _leg_delivered(runtime.store.message_status(message_id)), 30)
    # The node names the file by the delivery's idempotency key (the tax bureau's JSON).
    pulled = node.inbox / f"{delivery_key(message_id, CODE)}.json"
    if not delivered or not pulled.exists():
        return None
    return f"pulled from its mailbox into {node.inbox.name}/{pulled.name}, then acknowledged"


def _leg_delivered(status: MessageStatus) -> bool:
    return any(leg.department == CODE and leg.state == "delivered" for leg in status.deliveries)


def _sent(runtime: HubRuntime, node: NodeDemo) -> tuple[bool, str]:
    """Its system drops a move in the outbox: did it reach every receiver, and where."""
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    content = _MOVE.format(number=WIFE.id_number, name=WIFE.name, now=now).encode()
    node.outbox.mkdir(parents=True, exist_ok=True)
    final = node.outbox / "move-0001.xml"
    part = node.outbox / "move-0001.xml.part"  # written, then renamed: never read half
    part.write_bytes(content)
    part.replace(final)
    key = OutboxFile(final, content).idempotency_key
    message_id = wait_for(lambda: runtime.store.find_message_id(CODE, key), WAIT_SECONDS)
    if message_id is None:
        return False, "the hub did not receive it"
    status = wait_for(lambda: _settled(runtime.store.message_status(message_id)), WAIT_SECONDS)
    if status is None:
        return False, f"hub message {message_id} not settled in {WAIT_SECONDS:.0f} s"
    reached = ", ".join(leg.department for leg in status.deliveries if leg.state == "delivered")
    line = f"a move dropped in {node.outbox.name}/ reached {reached} (hub message {message_id})"
    return status.state == "delivered", line


def _settled(status: MessageStatus) -> MessageStatus | None:
    return status if status.state in ("delivered", "failed") else None
