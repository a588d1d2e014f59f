"""The federation's fields of the message header (xsd/hub/header.xsd: ``forwardedTo``,
``hubPath``), read back from a stored original request."""

from __future__ import annotations

from sqlalchemy import select

from hub.resources import HEADER_NAMESPACE
from hub.security.payloads import original_context
from hub.store import Store
from hub.store.models import MessageRow
from hub.xmlparse import parse

HUB_PATH = f"{{{HEADER_NAMESPACE}}}hubPath"
FORWARDED_TO = f"{{{HEADER_NAMESPACE}}}forwardedTo"


def forward_path(original: bytes) -> list[str]:
    """The hubs a forwarded request came through (empty for a department's own request)."""
    if HUB_PATH.rpartition("}")[2].encode() not in original:
        return []  # a department's request: no need to parse it
    try:
        root = parse(original)
    except Exception:  # a native push, not XML: it came through no hub
        return []
    found = root.find(f".//{HUB_PATH}")
    return [] if found is None else (found.text or "").split()


def stored_path(store: Store, message_id: str) -> list[str]:
    """The hubs a stored message came through (its original request, opened if sealed)."""
    with store.engine.connect() as connection:
        original = connection.scalar(select(MessageRow.original).where(MessageRow.id == message_id))
    return sealed_path(store, message_id, original)


def sealed_path(store: Store, message_id: str, original: bytes | None) -> list[str]:
    """``forward_path`` of a stored original as read from its row (sealed or not)."""
    if not original:
        return []
    return forward_path(store.payloads.open(original, original_context(message_id)))
