"""What ``govhub node status`` shows, read from the journal alone (the node may be down)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.node.journal import Journal
from hub.node.outbox import Outbox


def node_status(journal: Journal) -> dict[str, Any]:
    contact = journal.contact()
    inbox = journal.counts("inbox")
    outbox = journal.counts("outbox")
    folder = contact.get("outbox_dir", "")
    waiting = Outbox(Path(folder)).count() if folder and Path(folder).is_dir() else None
    return {
        "department": contact.get("department", ""),
        "hub": contact.get("hub", ""),
        "outboxUrl": contact.get("outbox_url") or None,
        "lastReachedHub": contact.get("last_reached_at") or None,
        "lastError": contact.get("last_error") or None,
        "inbox": {
            "handedOver": inbox.get("handed", 0) + inbox.get("acked", 0),
            "acknowledged": inbox.get("acked", 0),
            "handedNotAcknowledged": inbox.get("handed", 0),
            "staged": inbox.get("staged", 0),
            "refusedBySystem": inbox.get("refused", 0),
        },
        "outbox": {
            "sent": outbox.get("sent", 0),
            "refused": outbox.get("refused", 0),
            "waiting": waiting,
            "recent": journal.recent_outbox(),
        },
    }


def status_lines(status: dict[str, Any]) -> list[str]:
    inbox, outbox = status["inbox"], status["outbox"]
    waiting = "unknown" if outbox["waiting"] is None else str(outbox["waiting"])
    lines = [
        f"department:        {status['department']}  hub: {status['hub']}",
        f"last reached hub:  {status['lastReachedHub'] or 'never'}",
        f"inbox:             {inbox['handedOver']} handed over, {inbox['acknowledged']}"
        f" acknowledged, {inbox['handedNotAcknowledged']} awaiting Ack,"
        f" {inbox['staged']} being handed over, {inbox['refusedBySystem']} refused by the"
        " system (Nack)",
        f"outbox:            {outbox['sent']} sent, {outbox['refused']} refused, {waiting} waiting",
    ]
    if status["outboxUrl"]:
        lines.append(f"outbox by POST:    {status['outboxUrl']}")
    if status["lastError"]:
        lines.append(f"last error:        {status['lastError']}")
    lines += [
        f"  {r['sentAt']}  {r['state']:<8} {r['file']}  {r['messageId']}"
        + ("  (duplicate)" if r["duplicate"] == "1" else "")
        + (f"  {r['reason']}" if r["reason"] else "")
        for r in outbox["recent"]
    ]
    return lines
