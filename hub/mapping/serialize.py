"""Turn mapped documents into bytes, and compare XML documents by content (for tests)."""

from __future__ import annotations

import json
from typing import Any, cast

from lxml import etree


def to_bytes(document: etree._Element | dict[str, Any], encoding: str = "UTF-8") -> bytes:
    """XML with a declaration naming ``encoding``; JSON as compact UTF-8."""
    if isinstance(document, dict):
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    # Only encoding="unicode" gives str; the declaration above rules that out in practice.
    return cast(bytes, etree.tostring(document, xml_declaration=True, encoding=encoding))


def canonical_xml(document: etree._Element | bytes) -> str:
    """C14N 2.0 text with whitespace-only text dropped and prefixes rewritten (n0, n1, ...),
    so two documents compare equal when they say the same thing, however they are spelled."""
    if isinstance(document, bytes):
        # Only trusted files (our own examples) come here, never network input.
        document = etree.fromstring(document)
    text: str = etree.canonicalize(document, strip_text=True, rewrite_prefixes=True)
    return text
