"""Stored bodies as readable text, with identity numbers masked unless revealed."""

from __future__ import annotations

import codecs
import re

from hub.identity import mask_in_text

_CHARSET = re.compile(r"charset=([\w.:-]+)", re.I)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]*encoding=["']([\w.:-]+)["']""")


def body_text(body: bytes | None, content_type: str = "", *, reveal: bool = False) -> str | None:
    """None for a pruned (empty) body; otherwise the text in its own encoding."""
    if not body:
        return None
    text = body.decode(_encoding(body, content_type), errors="replace")
    return text if reveal else mask_in_text(text)


def _encoding(body: bytes, content_type: str) -> str:
    for found in (_CHARSET.search(content_type), _XML_ENCODING.search(body.lstrip()[:200])):
        if found is None:
            continue
        name = found.group(1)
        name = name if isinstance(name, str) else name.decode("ascii")
        try:
            return codecs.lookup(name).name
        except LookupError:
            continue
    return "utf-8"
