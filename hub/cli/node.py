"""`govhub node run|status`: the exchange node a department without a server runs next to
its own system (hub/node)."""

from __future__ import annotations

import json
import logging
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import click

from hub.cli.options import json_option
from hub.errors import HubRefusedNode
from hub.logs import configure as configure_logging
from hub.node.handover import FolderHandover, Handover, UrlHandover
from hub.node.hub_client import HubClient
from hub.node.journal import Journal
from hub.node.node import Node, NodeSettings
from hub.node.outbox import Outbox
from hub.node.outbox_endpoint import OutboxEndpoint
from hub.node.status import node_status, status_lines

log = logging.getLogger("govhub.node")
folder = click.Path(file_okay=False, path_type=Path)


@click.group("node")
def node_cli() -> None:
    """The exchange node: pulls a department's mailbox into its system, sends its outbox."""


@node_cli.command("run")
@click.option("--hub", "hub_url", required=True, help="The hub, e.g. https://hub:8700.")
@click.option("--department", required=True, help="The department code the node acts for.")
@click.option(
    "--secret-file",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="File holding the department's UsernameToken secret (from `govhub credentials issue`).",
)
@click.option("--username", help="The credential's username. [default: the department code]")
@click.option("--journal", "journal_dir", required=True, type=folder, help="The node's journal.")
@click.option("--inbox-dir", type=folder, help="Hand messages over into this folder.")
@click.option("--inbox-url", help="Hand messages over by POST to this URL.")
@click.option("--outbox-dir", required=True, type=folder, help="Files here are sent to the hub.")
@click.option(
    "--outbox-port",
    type=click.IntRange(0, 65535),
    help="Also take outbox documents by POST on 127.0.0.1 at this port (0: a free one); "
    "the address is logged and shown by `node status`.",
)
@click.option(
    "--purpose",
    default="exchange with the department's own system",
    show_default=True,
    help="The legal basis stated in every Submit from the outbox.",
)
@click.option(
    "--wait",
    "wait_seconds",
    type=click.IntRange(0, 30),
    default=20,
    show_default=True,
    help="Receive's long poll, seconds.",
)
@click.option("--log-level", default="INFO", show_default=True)
def run(
    hub_url: str,
    department: str,
    secret_file: Path,
    username: str | None,
    journal_dir: Path,
    inbox_dir: Path | None,
    inbox_url: str | None,
    outbox_dir: Path,
    outbox_port: int | None,
    purpose: str,
    wait_seconds: int,
    log_level: str,
) -> None:
    """Run the node until stopped (SIGTERM or Ctrl-C end it after the current step; a kill at
    any moment loses nothing)."""
    if (inbox_dir is None) == (inbox_url is None):
        raise click.UsageError("give exactly one of --inbox-dir and --inbox-url")
    configure_logging(log_level.upper())  # identity numbers masked, as in the hub's logs
    secret = secret_file.read_text(encoding="utf-8").strip()
    handover: Handover = FolderHandover(inbox_dir) if inbox_dir else UrlHandover(str(inbox_url))
    journal = Journal(journal_dir)
    remembered = {"department": department, "hub": hub_url, "outbox_dir": str(outbox_dir.resolve())}
    outbox = Outbox(outbox_dir)  # makes the folder the endpoint writes into
    endpoint = None if outbox_port is None else OutboxEndpoint(outbox_dir, outbox_port).start()
    remembered["outbox_url"] = endpoint.url if endpoint else ""
    for name, value in remembered.items():
        journal.remember(name, value)
    if endpoint is not None:
        log.info("outbox documents are taken by POST at %s", endpoint.url)
    node = Node(
        HubClient(hub_url, department, username or department, secret),
        journal,
        handover,
        outbox,
        NodeSettings(purpose=purpose, wait_seconds=wait_seconds),
    )
    stopping: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    try:
        node.run(stop=lambda: bool(stopping))
    except HubRefusedNode as refused:
        click.echo(f"govhub node: {refused}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        pass
    finally:
        if endpoint is not None:
            endpoint.stop()
        journal.close()


@node_cli.command("status")
@click.option("--journal", "journal_dir", required=True, type=folder, help="The node's journal.")
@json_option
def status(journal_dir: Path, as_json: bool) -> None:
    """What the node holds, what it sent, what waits, and when it last reached the hub."""
    if not (journal_dir / "node.db").exists():
        raise click.ClickException(f"no node journal in {journal_dir}: has `govhub node run` run?")
    journal = Journal(journal_dir)
    try:
        shown: Any = node_status(journal)
    finally:
        journal.close()
    click.echo(json.dumps(shown, indent=2) if as_json else "\n".join(status_lines(shown)))
