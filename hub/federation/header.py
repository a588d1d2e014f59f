"""The federation's fields of the message header (xsd/hub/header.xsd: ``forwardedTo``,
``hubPath``), read back from a stored original request."""

from __future__ import annotations

from hub.resources import HEADER_NAMESPACE
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
